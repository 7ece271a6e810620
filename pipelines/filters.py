"""The filters of the pipelines list: by the latest run's status, by type and by package."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from aicenter.validators import whole_number
from packages.contract import PipelineType
from packages.models import MLPackage
from pipelines.models import PipelineQuerySet, Status

NO_RUN = "none"


@dataclass
class ListFilters:
    status: str
    type: str
    package: int | None
    packages: list[MLPackage]

    @classmethod
    def from_query(cls, query, project) -> "ListFilters":
        packages = list(MLPackage.objects.filter(project=project).order_by("name"))
        package = query.get("package", "")
        return cls(
            status=query.get("status", "") if query.get("status") in cls.statuses() else "",
            type=query.get("type", "") if query.get("type") in PipelineType.values else "",
            package=whole_number(package),
            packages=packages,
        )

    @staticmethod
    def statuses() -> list[str]:
        return [*Status.values, NO_RUN]

    def apply(self, pipelines: PipelineQuerySet) -> PipelineQuerySet:
        if self.status == NO_RUN:
            pipelines = pipelines.filter(latest_run__isnull=True)
        elif self.status:
            pipelines = pipelines.filter(latest_run__status=self.status)
        if self.type:
            pipelines = pipelines.filter(type=self.type)
        if self.package:
            pipelines = pipelines.filter(package_version__package_id=self.package)
        return pipelines

    @property
    def query(self) -> str:
        """The filters as a query string, for the pages and the live refresh."""
        chosen = {"status": self.status, "type": self.type, "package": self.package or ""}
        return urlencode({name: value for name, value in chosen.items() if value})

    @property
    def type_choices(self) -> list[tuple[str, str]]:
        return PipelineType.choices

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return [*Status.choices, (NO_RUN, _("No run yet"))]
