from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from aicenter.access import project_for
from aicenter.models import Role
from aicenter.store import get_store
from packages.access import package_in, version_in
from packages.charts import score_chart
from packages.forms import PackageUploadForm, VersionUploadForm
from packages.lineage import score_change
from packages.models import MLPackage
from packages.upload import delete_package, upload_major_version, upload_package

# A package trained every night gathers thousands of versions: the page shows them a page at a
# time, and the chart the latest scores (more points would not fit its width anyway).
VERSIONS_PER_PAGE = 50
CHARTED_VERSIONS = 50


@login_required
@require_safe
def packages_list(request, project_id: int):
    project = project_for(request.user, project_id)
    packages = MLPackage.objects.filter(project=project).with_summary()
    context = {"project": project, "section": "packages", "packages": packages}
    return render(request, "packages/list.html", context)


@login_required
def package_upload(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = PackageUploadForm(
        project, request.POST or None, request.FILES or None, session=request.session
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = upload_package(project, **form.cleaned_data, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form.release_kept()
            messages.success(request, _("Uploaded %(version)s.") % {"version": version})
            return redirect(version.package)
    form.keep_accepted()
    status = 400 if form.errors else 200
    context = {"project": project, "section": "packages", "form": form}
    return render(request, "packages/upload.html", context, status=status)


@login_required
@require_safe
def package_detail(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id)
    package = package_in(project, package_id)
    versions = package.versions.select_related("parent").order_by("-major", "-minor")
    charted = list(versions.exclude(score=None)[:CHARTED_VERSIONS])
    context = {
        "project": project,
        "section": "packages",
        "package": package,
        "versions": Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page")),
        "chart": score_chart(reversed(charted)),
        "can_edit": project.current_role != Role.VIEWER,
    }
    return render(request, "packages/detail.html", context)


@login_required
def version_upload(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    package = package_in(project, package_id)
    form = VersionUploadForm(request.POST or None, request.FILES or None, session=request.session)
    if request.method == "POST" and form.is_valid():
        try:
            version = upload_major_version(package, form.cleaned_data["file"], request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form.release_kept()
            messages.success(request, _("Uploaded %(version)s.") % {"version": version})
            return redirect(version)
    status = 400 if form.errors else 200
    context = {"project": project, "section": "packages", "package": package, "form": form}
    return render(request, "packages/version_upload.html", context, status=status)


@login_required
@require_safe
def version_detail(request, project_id: int, package_id: int, version: str):
    project = project_for(request.user, project_id)
    package = package_in(project, package_id)
    found = version_in(package, version)
    context = {
        "project": project,
        "section": "packages",
        "package": package,
        "version": found,
        "score_change": score_change(found),
    }
    return render(request, "packages/version.html", context)


@login_required
@require_safe
def versions_compare(request, project_id: int, package_id: int):
    """?versions=1.0&versions=1.1: two versions side by side, through the runs that made them."""
    project = project_for(request.user, project_id)
    package = package_in(project, package_id)
    versions = package.versions.select_related("parent", "made_by").order_by("-major", "-minor")
    labels = request.GET.getlist("versions")[:2]
    chosen = [version_in(package, label) for label in labels]
    context = {"project": project, "section": "packages", "package": package}
    context |= {"versions": versions, "chosen": [version.label for version in chosen]}
    if len(chosen) == 2:
        left, right = chosen
        context |= {
            "left": left,
            "right": right,
            "left_label": f"{package.name} {left.label}",
            "right_label": f"{package.name} {right.label}",
        }
    return render(request, "packages/compare.html", context)


@login_required
@require_safe
def version_download(request, project_id: int, package_id: int, version: str):
    project = project_for(request.user, project_id)
    found = version_in(package_in(project, package_id), version)
    return redirect(get_store().download_url(found.zip_key, found.download_name))


@login_required
def package_delete(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    package = package_in(project, package_id)
    if request.method == "POST":
        try:
            delete_package(package, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(package)
        messages.success(
            request, _("Deleted package %(name)s and its versions.") % {"name": package.name}
        )
        return redirect("packages:list", project_id=project.id)
    context = {"project": project, "section": "packages", "package": package}
    return render(request, "packages/delete.html", context)
