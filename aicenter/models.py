import hashlib
import logging
import secrets

from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aicenter.wording import Said, english, kept, shown

logger = logging.getLogger(__name__)


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    EDITOR = "editor", _("Editor")
    OWNER = "owner", _("Owner")


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user) -> "ProjectQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Project(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project", args=[self.id])

    def role_of(self, user) -> str | None:
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"

    def allows(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


TOKEN_PREFIX = "aic_"  # noqa: S105 - a public marker, not a secret  # nosec B105


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its digest is kept: the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The token's first characters.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(user=user, name=name, digest=token_digest(token), hint=token[:10])
        return row, token

    @classmethod
    def user_for(cls, token: str):
        row = cls.objects.active().select_related("user").filter(digest=token_digest(token)).first()
        if row is None or not row.user.is_active:
            return None
        row.touch()
        return row.user

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def touch(self) -> None:
        """Record use, at most once a minute to keep reads cheap. A busy database (SQLite
        locked by a worker's writes) loses the record, never the request."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            try:
                with transaction.atomic():  # inside a transaction, it stays usable
                    ApiToken.objects.filter(id=self.id).update(last_used_at=now)
            except DatabaseError:
                logger.warning(
                    "API token %s: its use could not be recorded", self.id, exc_info=True
                )

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class EventKind(models.TextChoices):
    PACKAGE_UPLOADED = "package_uploaded", _("Package uploaded")
    PACKAGE_REFUSED = "package_refused", _("Package refused")
    PACKAGE_DELETED = "package_deleted", _("Package deleted")
    DATASET_CHANGED = "dataset_changed", _("Dataset changed")
    PIPELINE_CREATED = "pipeline_created", _("Pipeline created")
    PIPELINE_CHANGED = "pipeline_changed", _("Pipeline changed")
    PIPELINE_REMOVED = "pipeline_removed", _("Pipeline removed")
    RUN_STARTED = "run_started", _("Run started")
    RUN_SUCCESSFUL = "run_successful", _("Run successful")
    RUN_FAILED = "run_failed", _("Run failed")
    RUN_KILLED = "run_killed", _("Run killed")
    SCHEDULE_SKIPPED = "schedule_skipped", _("Schedule skipped")


SCHEDULE_KINDS = {EventKind.RUN_STARTED, EventKind.SCHEDULE_SKIPPED}


class Event(models.Model):
    """One line of a project's activity: what happened, to what, and who did it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    message = models.TextField(help_text="In English, as it was worded when it happened.")
    said = models.JSONField(null=True, blank=True, help_text="What the service said, to word.")
    link = models.CharField(max_length=500, blank=True, help_text="The page of what it is about.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The activity page reads a project's newest events: without the second index SQLite
        # sorted every event of the project for each page (185 ms at 100,000 events).
        indexes = [
            models.Index(fields=["project", "kind", "-created_at"]),
            models.Index(fields=["project", "-created_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @property
    def text(self) -> str:
        """The line in the reader's language; events kept before that are shown as written."""
        return shown(self.said, self.message)

    @property
    def who(self) -> str:
        """The person who caused it; else the schedule (a run only a schedule starts without
        a person) or a worker (every other move of a run)."""
        if self.user is not None:
            return self.user.username
        return gettext("schedule") if self.kind in SCHEDULE_KINDS else gettext("worker")


def record_event(project, kind: str, message: str | Said, user=None, link: str = "") -> Event:
    """`message` said by the service (a Said) follows each reader's language; a str is
    shown as written."""
    project_id = project if isinstance(project, int) else project.id
    return Event.objects.create(
        project_id=project_id,
        kind=kind,
        message=english(message),
        said=kept(message),
        user=user,
        link=link,
    )
