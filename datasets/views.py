from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from aicenter.access import project_for
from aicenter.models import Role
from aicenter.store import get_store
from datasets.access import dataset_in, entry_in, file_in, folder_in, stored_path
from datasets.forms import DatasetForm, FilesUploadForm, FolderForm, ZipUploadForm
from datasets.ingest import Upload, upload_files, upload_zip
from datasets.models import Dataset
from datasets.paths import breadcrumbs, join, parent
from datasets.previews import image_response, preview_for
from datasets.tree import create_dataset, create_folder, delete_dataset, delete_path
from datasets.zips import zip_response, zip_stream

ENTRIES_PER_PAGE = 200
GET_POST = require_http_methods(["GET", "POST"])


def folder_url(dataset: Dataset, path: str) -> str:
    if not path:
        return dataset.get_absolute_url()
    return reverse("datasets:folder", args=[dataset.project_id, dataset.id, path])


def page(request, template: str, project, status: int = 200, **context):
    context |= {"project": project, "section": "datasets"}
    context["can_edit"] = project.current_role != Role.VIEWER
    return render(request, f"datasets/{template}", context, status=status)


def refused(form, error: ValidationError, field: str | None = None) -> None:
    """Each problem under its field where the page shows that field, else under `field` (the
    one the person typed into), else above the form."""
    problems = error.message_dict if hasattr(error, "error_dict") else {field: error.messages}
    for name, said in problems.items():
        shown = name in form.fields and not form[name].is_hidden
        form.add_error(name if shown else field, said)


@login_required
@require_safe
def datasets_list(request, project_id: int):
    project = project_for(request.user, project_id)
    datasets = Dataset.objects.filter(project=project).with_summary()
    return page(request, "list.html", project, datasets=datasets)


@login_required
@GET_POST
def dataset_create(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = create_dataset(project, **form.cleaned_data, user=request.user)
        except ValidationError as error:
            refused(form, error, "name")
        else:
            messages.success(request, _("Created dataset %(name)s.") % {"name": dataset.name})
            return redirect(dataset)
    return page(request, "create.html", project, status=400 if form.errors else 200, form=form)


@login_required
@require_safe
def browse(request, project_id: int, dataset_id: int, path: str = ""):
    project = project_for(request.user, project_id)
    dataset = dataset_in(project, dataset_id)
    folder = folder_in(dataset, path)
    entries = Paginator(folder.entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return page(
        request,
        "browse.html",
        project,
        dataset=dataset,
        folder=folder,
        entries=entries,
        totals=folder.totals(),
    )


@login_required
@require_safe
def file_detail(request, project_id: int, dataset_id: int, path: str):
    project = project_for(request.user, project_id)
    file = file_in(dataset_in(project, dataset_id), path)
    return page(
        request,
        "file.html",
        project,
        dataset=file.dataset,
        file=file,
        preview=preview_for(file),
        crumbs=breadcrumbs(file.folder),
    )


@login_required
@require_safe
def file_image(request, project_id: int, dataset_id: int, path: str):
    project = project_for(request.user, project_id)
    return image_response(file_in(dataset_in(project, dataset_id), path))


@login_required
@require_safe
def file_download(request, project_id: int, dataset_id: int, path: str):
    project = project_for(request.user, project_id)
    file = file_in(dataset_in(project, dataset_id), path)
    return redirect(get_store().download_url(file.key, file.name))


@login_required
@require_safe
def folder_archive(request, project_id: int, dataset_id: int, path: str = ""):
    project = project_for(request.user, project_id)
    folder = folder_in(dataset_in(project, dataset_id), path)
    stream = zip_stream(folder.zip_entries(), folder.empty_folders())
    return zip_response(stream, folder.download_name)


def uploaded(request, dataset: Dataset, upload: Upload):
    count = len(upload.files)
    if upload.replaced:
        text = ngettext(
            "Uploaded %(count)s file, %(replaced)s replaced.",
            "Uploaded %(count)s files, %(replaced)s replaced.",
            count,
        ) % {"count": count, "replaced": len(upload.replaced)}
    else:
        text = ngettext("Uploaded %(count)s file.", "Uploaded %(count)s files.", count) % {
            "count": count
        }
    messages.success(request, text)
    return redirect(folder_url(dataset, upload.folder))


def upload_page(request, project, dataset, files_form=None, zip_form=None):
    folder = stored_path(request.POST.get("path") or request.GET.get("path", ""), folder=True)
    forms = [files_form or FilesUploadForm(), zip_form or ZipUploadForm()]
    return page(
        request,
        "upload.html",
        project,
        status=400 if request.method == "POST" else 200,
        dataset=dataset,
        folder=folder,
        crumbs=breadcrumbs(folder),
        forms=forms,
    )


@login_required
@GET_POST
def upload_files_view(request, project_id: int, dataset_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    dataset = dataset_in(project, dataset_id)
    form = FilesUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = upload_files(
                dataset, form.cleaned_data["path"], form.cleaned_data["items"], request.user
            )
        except ValidationError as error:
            refused(form, error)
        else:
            return uploaded(request, dataset, upload)
    return upload_page(request, project, dataset, files_form=form if form.is_bound else None)


@login_required
@GET_POST
def upload_zip_view(request, project_id: int, dataset_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    dataset = dataset_in(project, dataset_id)
    form = ZipUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = upload_zip(
                dataset, form.cleaned_data["path"], form.cleaned_data["archive"], request.user
            )
        except ValidationError as error:
            refused(form, error)
        else:
            return uploaded(request, dataset, upload)
    return upload_page(request, project, dataset, zip_form=form if form.is_bound else None)


@login_required
@GET_POST
def folder_create(request, project_id: int, dataset_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    dataset = dataset_in(project, dataset_id)
    form = FolderForm(request.POST or None, initial={"path": request.GET.get("path", "")})
    if request.method == "POST" and form.is_valid():
        path = join(form.cleaned_data["path"].strip("/"), form.cleaned_data["name"])
        try:
            folder = create_folder(dataset, path, request.user)
        except ValidationError as error:
            refused(form, error, "name")
        else:
            messages.success(request, _("Created folder %(path)s.") % {"path": folder.path})
            return redirect(folder_url(dataset, folder.path))
    return page(
        request,
        "folder_create.html",
        project,
        status=400 if form.errors else 200,
        dataset=dataset,
        form=form,
    )


@login_required
@GET_POST
def path_delete(request, project_id: int, dataset_id: int, path: str):
    project = project_for(request.user, project_id, Role.EDITOR)
    dataset = dataset_in(project, dataset_id)
    path = entry_in(dataset, path)
    if request.method == "POST":
        removed = delete_path(dataset, path, request.user)
        messages.success(
            request,
            ngettext(
                "Deleted %(path)s (%(count)s file).", "Deleted %(path)s (%(count)s files).", removed
            )
            % {"path": path, "count": removed},
        )
        return redirect(folder_url(dataset, parent(path)))
    is_file = dataset.files.filter(path=path).exists()
    return page(
        request,
        "path_delete.html",
        project,
        dataset=dataset,
        path=path,
        is_file=is_file,
        totals=dataset.totals(path),
    )


@login_required
@GET_POST
def dataset_delete(request, project_id: int, dataset_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    dataset = dataset_in(project, dataset_id, Dataset.objects.with_summary())
    if request.method == "POST":
        delete_dataset(dataset)
        messages.success(request, _("Deleted dataset %(name)s.") % {"name": dataset.name})
        return redirect("datasets:list", project_id=project.id)
    return page(request, "delete.html", project, dataset=dataset)
