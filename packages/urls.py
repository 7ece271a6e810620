from django.urls import path

from packages import views

app_name = "packages"
urlpatterns = [
    path("", views.packages_list, name="list"),
    path("upload", views.package_upload, name="upload"),
    path("<int:package_id>/", views.package_detail, name="detail"),
    path("<int:package_id>/delete", views.package_delete, name="delete"),
    path("<int:package_id>/compare", views.versions_compare, name="compare"),
    path("<int:package_id>/versions/upload", views.version_upload, name="version-upload"),
    path("<int:package_id>/versions/<str:version>/", views.version_detail, name="version"),
    path(
        "<int:package_id>/versions/<str:version>/download",
        views.version_download,
        name="download",
    ),
]
