import keyword

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aicenter.models import Project
from aicenter.validators import name_characters, whole_number
from packages.contract import PipelineType

PYTHON_VERSIONS = [("3.12", "Python 3.12"), ("3.13", "Python 3.13")]


def not_a_keyword(name: str) -> None:
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValidationError(
            _("%(name)s is a Python keyword; choose another name.") % {"name": name}
        )


class MLPackageQuerySet(models.QuerySet):
    def with_summary(self) -> "MLPackageQuerySet":
        return self.annotate(
            version_count=Count("versions"), last_change=Max("versions__created_at")
        )


class MLPackage(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=80, validators=[name_characters, not_a_keyword])
    description = models.TextField(blank=True)
    python_version = models.CharField(max_length=5, choices=PYTHON_VERSIONS, default="3.12")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MLPackageQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="package_name_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("packages:detail", args=[self.project_id, self.id])

    @property
    def latest_version(self) -> "PackageVersion | None":
        return self.versions.order_by("-major", "-minor").first()


class Source(models.TextChoices):
    UPLOAD = "upload", _("Uploaded")
    RUN = "run", _("Trained by a run")


class PackageVersion(models.Model):
    package = models.ForeignKey(MLPackage, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    score = models.FloatField(null=True, blank=True)
    supported_types = models.JSONField(default=list)
    requirements = models.TextField(blank=True)
    files = models.JSONField(default=list, help_text="[path, size] of every file in the zip.")
    zip_key = models.CharField(max_length=300)
    zip_root = models.CharField(
        max_length=300, blank=True, help_text="The folder inside the zip that holds train.py."
    )
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["major", "minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "major", "minor"], name="version_number_unique_in_package"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package.name} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse(
            "packages:version", args=[self.package.project_id, self.package_id, self.label]
        )

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"

    @staticmethod
    def numbers_of(label: str) -> tuple[int, int] | None:
        """The (major, minor) that a label such as "1.2" spells, or None for any other text."""
        major, minor = (whole_number(part) for part in label.partition(".")[::2])
        return None if major is None or minor is None else (major, minor)

    @property
    def trained_by(self):
        """The run that made this version, or None for an uploaded one."""
        try:
            return self.made_by
        except ObjectDoesNotExist:
            return None

    @property
    def download_name(self) -> str:
        return f"{self.package.name}-{self.label}.zip"

    def supports(self, pipeline_type: str) -> bool:
        return PipelineType(pipeline_type).value in self.supported_types
