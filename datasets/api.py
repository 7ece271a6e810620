from django.http import HttpResponse
from django.shortcuts import redirect
from ninja import Router, Status

from aicenter.access import project_for
from aicenter.api import (
    BINARY,
    REDIRECT,
    STRING,
    ZIP_FILE,
    check_form,
    json_object,
    multipart_body,
    paginated,
    validated,
)
from aicenter.models import Role
from aicenter.schemas import failures
from aicenter.store import get_store
from datasets.access import dataset_in, entry_in, file_in, folder_in
from datasets.forms import DatasetForm, FilesUploadForm, ZipUploadForm
from datasets.ingest import CHUNK, Upload, put_file, upload_files, upload_zip
from datasets.models import Dataset, DatasetFile, FolderEntry
from datasets.schemas import (
    DatasetOut,
    DatasetPage,
    EntryPage,
    FileOut,
    HeldIn,
    HeldOut,
    UploadOut,
)
from datasets.sync import MOST_LISTED, compare_folder
from datasets.tree import create_dataset, delete_path
from datasets.zips import zip_response, zip_stream

router = Router(tags=["datasets"])
DATASET = "/projects/{int:project_id}/datasets/{int:dataset_id}"
DATASET_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": STRING, "description": STRING},
                }
            }
        }
    }
}
RAW_BODY = {"requestBody": {"content": {"application/octet-stream": {"schema": BINARY}}}}
HELD_BODY = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "path": {**STRING, "description": "The folder the paths are relative to; the root."},
        "files": {
            "type": "array",
            "maxItems": MOST_LISTED,
            "items": {
                "type": "object",
                "required": ["path", "sha256"],
                "properties": {"path": STRING, "sha256": STRING},
            },
        },
    },
}
UPLOAD_BODY = multipart_body(
    {
        "files": {"type": "array", "items": BINARY},
        "paths": {
            "type": "array",
            "items": STRING,
            "description": "Each file's path relative to `path`, in the order of the files; "
            "without it, each file's name.",
        },
        "archive": {**BINARY, "description": "A zip, extracted into `path`, instead of files."},
        "path": {**STRING, "description": "The target folder; the root when empty."},
    },
    required=[],
)


def dataset_data(dataset: Dataset) -> dict:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "file_count": dataset.file_count,
        "size": dataset.total_size or 0,
        "created_at": dataset.created_at.isoformat(),
        "updated_at": dataset.updated_at.isoformat(),
    }


def file_data(file: DatasetFile) -> dict:
    return {
        "name": file.name,
        "path": file.path,
        "kind": "file",
        "size": file.size,
        "sha256": file.sha256_id,
        "content_type": file.content_type,
        "updated_at": file.updated_at.isoformat(),
    }


def entry_data(entry: DatasetFile | FolderEntry) -> dict:
    if entry.kind == "file":
        return file_data(entry)
    return {
        "name": entry.name,
        "path": entry.path,
        "kind": "folder",
        "size": entry.size,
        "sha256": None,
        "file_count": entry.file_count,
    }


def upload_data(upload: Upload) -> dict:
    return {
        "count": len(upload.files),
        "replaced": sorted(upload.replaced),
        "files": [file_data(file) for file in upload.files],
    }


def summarised(project, dataset_id: int) -> Dataset:
    return dataset_in(project, dataset_id, Dataset.objects.with_summary())


@router.get(
    "/projects/{int:project_id}/datasets", response={200: DatasetPage, **failures(400, 401, 404)}
)
def list_datasets(request, project_id: int):
    project = project_for(request.user, project_id)
    datasets = Dataset.objects.filter(project=project).with_summary()
    return paginated(request, datasets, dataset_data)


@router.post(
    "/projects/{int:project_id}/datasets",
    response={201: DatasetOut, **failures(400, 401, 403, 404)},
    openapi_extra=DATASET_BODY,
)
def create_dataset_endpoint(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = DatasetForm(json_object(request.body))
    dataset = create_dataset(project, **check_form(form), user=request.user)
    return Status(201, dataset_data(summarised(project, dataset.id)))


@router.get(DATASET, response={200: DatasetOut, **failures(401, 404)})
def get_dataset(request, project_id: int, dataset_id: int):
    return dataset_data(summarised(project_for(request.user, project_id), dataset_id))


@router.get(DATASET + "/tree", response={200: EntryPage, **failures(400, 401, 404)})
def tree(request, project_id: int, dataset_id: int, path: str = ""):
    dataset = dataset_in(project_for(request.user, project_id), dataset_id)
    return paginated(request, folder_in(dataset, path).entries, entry_data)


@router.post(
    DATASET + "/held",
    response={200: HeldOut, **failures(400, 401, 404)},
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": HELD_BODY}}}},
)
def held(request, project_id: int, dataset_id: int, others: bool = False):
    """Which of the listed (path, sha256) the dataset's folder holds already, in one call.

    A client that uploads a folder sends only the rest; with ?others=true the answer also
    names the folder's files the list leaves out, which a mirroring client deletes.
    """
    dataset = dataset_in(project_for(request.user, project_id), dataset_id)
    payload = validated(HeldIn, request.body)
    listed = {file.path: file.sha256 for file in payload.files}
    comparison = compare_folder(dataset, payload.path, listed)
    return {"held": comparison.held, "others": comparison.others if others else None}


@router.put(
    DATASET + "/files/{path:path}",
    response={(200, 201): FileOut, **failures(400, 401, 403, 404)},
    openapi_extra=RAW_BODY,
)
def put_one_file(request, project_id: int, dataset_id: int, path: str):
    dataset = dataset_in(project_for(request.user, project_id, Role.EDITOR), dataset_id)
    upload = put_file(dataset, path, iter(lambda: request.read(CHUNK), b""), request.user)
    return Status(201 if upload.created else 200, file_data(upload.files[0]))


@router.post(
    DATASET + "/upload",
    response={201: UploadOut, **failures(400, 401, 403, 404)},
    openapi_extra=UPLOAD_BODY,
)
def upload(request, project_id: int, dataset_id: int):
    dataset = dataset_in(project_for(request.user, project_id, Role.EDITOR), dataset_id)
    if "archive" in request.FILES:
        data = check_form(ZipUploadForm(request.POST, request.FILES))
        done = upload_zip(dataset, data["path"], data["archive"], request.user)
    else:
        data = check_form(FilesUploadForm(request.POST, request.FILES))
        done = upload_files(dataset, data["path"], data["items"], request.user)
    return Status(201, upload_data(done))


@router.get(
    DATASET + "/files/{path:path}",
    response={302: None, **failures(401, 404)},
    openapi_extra=REDIRECT,
)
def download_file(request, project_id: int, dataset_id: int, path: str):
    file = file_in(dataset_in(project_for(request.user, project_id), dataset_id), path)
    return redirect(request.build_absolute_uri(get_store().download_url(file.key, file.name)))


@router.get(
    DATASET + "/archive", response={200: None, **failures(401, 404)}, openapi_extra=ZIP_FILE
)
def download_archive(request, project_id: int, dataset_id: int, path: str = ""):
    folder = folder_in(dataset_in(project_for(request.user, project_id), dataset_id), path)
    stream = zip_stream(folder.zip_entries(), folder.empty_folders())
    return zip_response(stream, folder.download_name)


@router.delete(DATASET + "/files/{path:path}", response={204: None, **failures(401, 403, 404)})
def delete_file_or_folder(request, project_id: int, dataset_id: int, path: str):
    dataset = dataset_in(project_for(request.user, project_id, Role.EDITOR), dataset_id)
    delete_path(dataset, entry_in(dataset, path), request.user)
    return HttpResponse(status=204)
