from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from packages.models import MLPackage, PackageVersion


def package_in(project, package_id: int) -> MLPackage:
    return get_object_or_404(MLPackage.objects.filter(project=project), id=package_id)


def version_in(package: MLPackage, label: str) -> PackageVersion:
    numbers = PackageVersion.numbers_of(label)
    if numbers is None:
        raise Http404(_("No such version."))
    version = get_object_or_404(package.versions, major=numbers[0], minor=numbers[1])
    version.package = package
    return version
