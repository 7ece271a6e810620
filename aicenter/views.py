from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe
from django_q.brokers import get_broker

from aicenter.access import project_for
from aicenter.forms import MemberForm, ProjectForm, RoleForm, TokenForm
from aicenter.models import ApiToken, EventKind, Project, Role
from aicenter.projects import add_member, change_role, create_project, remove_member
from aicenter.store import get_store

EVENTS_PER_PAGE = 50


@login_required
@require_safe
def home(request):
    projects = Project.objects.for_user(request.user).order_by("name")
    return render(request, "aicenter/home.html", {"projects": projects})


@login_required
def project_create(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = create_project(request.user, **form.cleaned_data)
        messages.success(request, _("Project %(name)s created.") % {"name": project.name})
        return redirect(project)
    return render(request, "aicenter/project_create.html", {"form": form})


@login_required
@require_safe
def project(request, project_id: int):
    project = project_for(request.user, project_id)
    return redirect("packages:list", project_id=project.id)


@login_required
@require_safe
def members(request, project_id: int):
    project = project_for(request.user, project_id)
    return render(request, "aicenter/members.html", members_context(project, MemberForm()))


@login_required
@require_safe
def activity(request, project_id: int):
    """The project's events, newest first, filtered by kind."""
    project = project_for(request.user, project_id)
    kind = request.GET.get("kind", "")
    events = project.events.select_related("user")
    if kind in EventKind.values:
        events = events.filter(kind=kind)
    context = {
        "project": project,
        "section": "activity",
        "kind": kind,
        "kinds": EventKind.choices,
        "query": urlencode({"kind": kind}) if kind else "",
        "events": Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page")),
    }
    return render(request, "aicenter/activity.html", context)


def members_context(project: Project, form: MemberForm) -> dict:
    memberships = project.memberships.select_related("user")
    return {
        "project": project,
        "memberships": memberships,
        "form": form,
        "roles": Role.choices,
        "can_manage": project.current_role == Role.OWNER,
    }


@login_required
@require_POST
def member_add(request, project_id: int):
    project = project_for(request.user, project_id, Role.OWNER)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            membership = add_member(project, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(user)s joined as %(role)s.")
                % {"user": membership.user, "role": membership.get_role_display().lower()},
            )
            return redirect("members", project_id=project.id)
    context = members_context(project, form)
    return render(request, "aicenter/members.html", context, status=400)


@login_required
@require_POST
def member_role(request, project_id: int, membership_id: int):
    project = project_for(request.user, project_id, Role.OWNER)
    membership = get_object_or_404(project.memberships, id=membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            change_role(membership, form.cleaned_data["role"])
            messages.success(
                request,
                _("%(user)s is now %(role)s.")
                % {"user": membership.user, "role": membership.get_role_display().lower()},
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("members", project_id=project.id)


@login_required
@require_POST
def member_remove(request, project_id: int, membership_id: int):
    project = project_for(request.user, project_id, Role.OWNER)
    membership = get_object_or_404(project.memberships, id=membership_id)
    try:
        remove_member(membership)
        messages.success(request, _("%(user)s left the project.") % {"user": membership.user})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("members", project_id=project.id)


@login_required
@require_safe
def profile(request):
    return render(request, "aicenter/profile.html", profile_context(request, TokenForm()))


def profile_context(request, form: TokenForm, new_token: str | None = None) -> dict:
    tokens = request.user.api_tokens.all()
    return {"tokens": tokens, "form": form, "new_token": new_token}


@login_required
@require_POST
@never_cache
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return render(request, "aicenter/profile.html", profile_context(request, form), status=400)
    _, token = ApiToken.issue(request.user, form.cleaned_data["name"])
    context = profile_context(request, TokenForm(), new_token=token)
    return render(request, "aicenter/profile.html", context)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(request.user.api_tokens.active(), id=token_id)
    token.revoke()
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("profile")


def server_error(request):
    """The error page in the site's layout, drawn without the request's context processors:
    the failure may be the database, which the header's project switcher reads."""
    page = loader.get_template("500.html").render({"site_name": settings.SITE_NAME})
    return HttpResponseServerError(page)


@require_GET
@never_cache
def healthz(request):
    checks = {"database": check_database, "broker": check_broker, "store": check_store}
    report = {}
    for name, check in checks.items():
        try:
            check()
            report[name] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure is what the probe reports
            report[name] = f"error: {type(error).__name__}: {error}"[:300]
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(report, status=200 if healthy else 503)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    broker = get_broker()
    if not broker.ping():
        raise ConnectionError("the broker did not answer")
    broker.queue_size()


def check_store() -> None:
    get_store().check()
