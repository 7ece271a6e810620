from django.urls import path

from datasets import views

app_name = "datasets"
urlpatterns = [
    path("", views.datasets_list, name="list"),
    path("new", views.dataset_create, name="create"),
    path("<int:dataset_id>/", views.browse, name="browse"),
    path("<int:dataset_id>/folders/<path:path>", views.browse, name="folder"),
    path("<int:dataset_id>/files/<path:path>", views.file_detail, name="file"),
    path("<int:dataset_id>/image/<path:path>", views.file_image, name="image"),
    path("<int:dataset_id>/download/<path:path>", views.file_download, name="download"),
    path("<int:dataset_id>/archive", views.folder_archive, name="archive"),
    path("<int:dataset_id>/archive/<path:path>", views.folder_archive, name="folder-archive"),
    path("<int:dataset_id>/upload", views.upload_files_view, name="upload"),
    path("<int:dataset_id>/upload-zip", views.upload_zip_view, name="upload-zip"),
    path("<int:dataset_id>/new-folder", views.folder_create, name="folder-create"),
    path("<int:dataset_id>/remove/<path:path>", views.path_delete, name="remove"),
    path("<int:dataset_id>/delete", views.dataset_delete, name="delete"),
]
