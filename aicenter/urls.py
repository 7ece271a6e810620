from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from aicenter import views
from aicenter.api import api
from aicenter.api_summaries import name_operations
from aicenter.store import views as store_views
from datasets.api import router as datasets_api
from packages.api import router as packages_api
from pipelines import views as pipelines_views
from pipelines.api import router as pipelines_api

api.add_router("", packages_api)
api.add_router("", datasets_api)
api.add_router("", pipelines_api)
name_operations(api)

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        # Django's login page would name the site after the request's host instead.
        auth_views.LoginView.as_view(extra_context={"site_name": settings.SITE_NAME}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/new", views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:project_id>/", views.project, name="project"),
    path("projects/<int:project_id>/activity/", views.activity, name="activity"),
    path("projects/<int:project_id>/members/", views.members, name="members"),
    path("projects/<int:project_id>/members/add", views.member_add, name="member-add"),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/role",
        views.member_role,
        name="member-role",
    ),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/remove",
        views.member_remove,
        name="member-remove",
    ),
    path("projects/<int:project_id>/packages/", include("packages.urls")),
    path("projects/<int:project_id>/datasets/", include("datasets.urls")),
    path("projects/<int:project_id>/pipelines/", include("pipelines.urls")),
    path("workers/", pipelines_views.all_workers, name="workers"),
    path("store/<str:token>", store_views.download, name="store-download"),
    path("healthz", views.healthz, name="healthz"),
    # Remembers the chosen language in the language cookie, then goes back to `next`.
    path("language/", set_language, name="set_language"),
    # Pages that are not ours (the API docs, the admin) let the browser ask for it here.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler500 = "aicenter.views.server_error"
