"""The JSON API of API.md: bearer tokens, the error shape, pagination, projects."""

import json

import pydantic
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer

from aicenter.access import project_for
from aicenter.forms import ProjectForm
from aicenter.models import ApiToken, Project
from aicenter.projects import create_project
from aicenter.schemas import ProjectOut, ProjectPage, failures
from aicenter.validators import whole_number

PAGE_SIZE = 50


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="AI Center API",
    version="1",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request, status: int, detail: str, errors: list | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    detail = _("A valid API token is needed: send Authorization: Bearer <token>.")
    return error_response(request, 401, detail)


@api.exception_handler(HttpError)
def on_refused_by_ninja(request, exc: HttpError):
    # Ninja's own refusals, such as a body it cannot parse, keep the error shape too.
    return error_response(request, exc.status_code, exc.message)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return error_response(request, 403, str(exc) or _("You may not do this here."))


@api.exception_handler(ValidationError)
def on_invalid(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": None, "message": message} for message in exc.messages]
    return error_response(request, 400, errors[0]["message"], errors)


@api.exception_handler(SchemaValidationError)
def on_malformed(request, exc: SchemaValidationError):
    errors = [
        {"field": ".".join(str(part) for part in error["loc"][2:]) or None, "message": error["msg"]}
        for error in exc.errors
    ]
    return error_response(
        request, 400, _("The request is malformed: ") + errors[0]["message"], errors
    )


def check_form(form) -> dict:
    """Validate an API payload with the same form the pages use."""
    if not form.is_valid():
        raise ValidationError(
            {field: [str(error) for error in errors] for field, errors in form.errors.items()}
        )
    return form.cleaned_data


def json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:  # also UnicodeDecodeError: json.loads decodes bytes first
        raise ValidationError({"body": _("The body is not valid JSON.")}) from None
    if not isinstance(payload, dict):
        raise ValidationError({"body": _("The body must be a JSON object.")})
    return payload


def validated[Model: pydantic.BaseModel](model: type[Model], body: bytes) -> Model:
    """A JSON body checked against a schema after the caller's access was: an outsider gets
    404 for any body, never a 400 that would tell the resource exists."""
    try:
        return model.model_validate(json_object(body))
    except pydantic.ValidationError as invalid:
        problems = {
            ".".join(str(part) for part in error["loc"]) or "body": error["msg"]
            for error in invalid.errors()
        }
        raise ValidationError(problems) from None


def paginated(request, items, serialize, per_page: int = PAGE_SIZE) -> dict:
    """The list shape of API.md: {items, count, next}, paginated with ?page=N."""
    paginator = Paginator(items, per_page)
    number = request.GET.get("page", "1")
    if not 1 <= (whole_number(number) or 0) <= max(paginator.num_pages, 1):
        raise ValidationError(
            {
                "page": _("No page %(number)s; there are %(pages)s.")
                % {"number": number, "pages": paginator.num_pages}
            }
        )
    page = paginator.page(int(number))
    following = None
    if page.has_next():
        query = request.GET.copy()
        query["page"] = str(page.next_page_number())
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "items": [serialize(item) for item in page.object_list],
        "count": paginator.count,
        "next": following,
    }


STRING = {"type": "string"}
BINARY = {"type": "string", "format": "binary"}
# Answers that are HttpResponses, which ninja passes on without validating them.
REDIRECT = {
    "responses": {
        302: {
            "description": "Found: the download is at Location.",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        }
    }
}
ZIP_FILE = {"responses": {200: {"content": {"application/zip": {"schema": BINARY}}}}}


def multipart_body(properties: dict, required: list[str]) -> dict:
    """Documents a multipart body that the endpoint validates with a Django form.

    The form, not ninja, reads the body, so membership is checked before the
    body is validated and an outsider learns nothing from a 400.
    """
    schema = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}


class ProjectIn(Schema):
    name: str
    description: str = ""


def project_data(project: Project, role: str) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "role": role,
        "created_at": project.created_at.isoformat(),
    }


@api.get("/projects", tags=["projects"], response={200: ProjectPage, **failures(400, 401)})
def list_projects(request):
    memberships = request.user.memberships.select_related("project").order_by("project__name")
    return paginated(request, memberships, lambda m: project_data(m.project, m.role))


@api.post("/projects", tags=["projects"], response={201: ProjectOut, **failures(400, 401)})
def create_project_endpoint(request, payload: ProjectIn):
    project = create_project(request.user, **check_form(ProjectForm(payload.dict())))
    return Status(201, project_data(project, "owner"))


@api.get(
    "/projects/{int:project_id}",
    tags=["projects"],
    response={200: ProjectOut, **failures(401, 404)},
)
def get_project(request, project_id: int):
    project = project_for(request.user, project_id)
    return project_data(project, project.current_role)
