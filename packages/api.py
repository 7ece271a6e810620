from django.http import HttpResponse
from django.shortcuts import redirect
from ninja import Router, Status

from aicenter.access import project_for
from aicenter.api import BINARY, REDIRECT, STRING, check_form, multipart_body, paginated
from aicenter.models import Role
from aicenter.schemas import failures
from aicenter.store import get_store
from packages.access import package_in, version_in
from packages.forms import PackageUploadForm, VersionUploadForm
from packages.models import MLPackage, PackageVersion
from packages.schemas import PackageOut, PackagePage, VersionOut
from packages.upload import delete_package, upload_major_version, upload_package

router = Router(tags=["packages"])


def version_data(version: PackageVersion) -> dict:
    run = version.trained_by
    return {
        "version": version.label,
        "major": version.major,
        "minor": version.minor,
        "source": version.source,
        "run": run.id if run else None,
        "parent": version.parent.label if version.parent_id else None,
        "score": version.score,
        "snapshot": run.snapshot_id if run else None,
        "supported_types": version.supported_types,
        "size": version.size,
        "sha256": version.sha256,
        "created_at": version.created_at.isoformat(),
    }


def package_data(package: MLPackage) -> dict:
    return {
        "id": package.id,
        "name": package.name,
        "description": package.description,
        "python_version": package.python_version,
        "created_at": package.created_at.isoformat(),
    }


def with_versions(package: MLPackage) -> dict:
    versions = package.versions.select_related("parent", "made_by")
    return {**package_data(package), "versions": [version_data(v) for v in versions]}


def with_latest(package: MLPackage) -> dict:
    latest = package.latest_version
    return {**package_data(package), "latest_version": version_data(latest) if latest else None}


@router.get(
    "/projects/{int:project_id}/packages", response={200: PackagePage, **failures(400, 401, 404)}
)
def list_packages(request, project_id: int):
    project = project_for(request.user, project_id)
    return paginated(request, MLPackage.objects.filter(project=project), with_latest)


@router.post(
    "/projects/{int:project_id}/packages",
    response={201: PackageOut, **failures(400, 401, 403, 404)},
    openapi_extra=multipart_body(
        {"name": STRING, "description": STRING, "python_version": STRING, "file": BINARY},
        required=["name", "file"],
    ),
)
def create_package(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = PackageUploadForm(project, request.POST, request.FILES)
    version = upload_package(project, **check_form(form), user=request.user)
    return Status(201, with_versions(version.package))


@router.get(
    "/projects/{int:project_id}/packages/{int:package_id}",
    response={200: PackageOut, **failures(401, 404)},
)
def get_package(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id)
    return with_versions(package_in(project, package_id))


@router.delete(
    "/projects/{int:project_id}/packages/{int:package_id}",
    response={204: None, **failures(400, 401, 403, 404)},
)
def remove_package(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    delete_package(package_in(project, package_id), request.user)
    return HttpResponse(status=204)


@router.post(
    "/projects/{int:project_id}/packages/{int:package_id}/versions",
    response={201: VersionOut, **failures(400, 401, 403, 404)},
    openapi_extra=multipart_body({"file": BINARY}, required=["file"]),
)
def create_version(request, project_id: int, package_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    package = package_in(project, package_id)
    form = VersionUploadForm(request.POST, request.FILES)
    version = upload_major_version(package, check_form(form)["file"], request.user)
    return Status(201, version_data(version))


@router.get(
    "/projects/{int:project_id}/packages/{int:package_id}/versions/{version}",
    response={200: VersionOut, **failures(401, 404)},
)
def get_version(request, project_id: int, package_id: int, version: str):
    project = project_for(request.user, project_id)
    return version_data(version_in(package_in(project, package_id), version))


@router.get(
    "/projects/{int:project_id}/packages/{int:package_id}/versions/{version}/download",
    response={302: None, **failures(401, 404)},
    openapi_extra=REDIRECT,
)
def download_version(request, project_id: int, package_id: int, version: str):
    project = project_for(request.user, project_id)
    found = version_in(package_in(project, package_id), version)
    url = get_store().download_url(found.zip_key, found.download_name)
    return redirect(request.build_absolute_uri(url))
