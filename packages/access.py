from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from aicenter.validators import whole_number
from packages.models import MLPackage, PackageVersion


def package_in(project, package_id: int) -> MLPackage:
    return get_object_or_404(MLPackage.objects.filter(project=project), id=package_id)


def version_in(package: MLPackage, label: str) -> PackageVersion:
    major, dot, minor = label.partition(".")
    if not (dot and whole_number(major) is not None and whole_number(minor) is not None):
        raise Http404(_("No such version."))
    version = get_object_or_404(package.versions, major=int(major), minor=int(minor))
    version.package = package
    return version
