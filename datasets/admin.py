from django.contrib import admin

from datasets.models import Blob, Dataset, DatasetFile, DatasetFolder, Snapshot, SnapshotFile


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_at", "updated_at"]
    search_fields = ["name", "project__name"]


@admin.register(DatasetFile)
class DatasetFileAdmin(admin.ModelAdmin):
    list_display = ["path", "dataset", "size", "content_type", "updated_at"]
    search_fields = ["path", "dataset__name"]
    raw_id_fields = ["dataset", "sha256"]


@admin.register(DatasetFolder)
class DatasetFolderAdmin(admin.ModelAdmin):
    list_display = ["path", "dataset", "created_at"]
    raw_id_fields = ["dataset"]


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "project", "file_count", "total_size", "created_at"]
    raw_id_fields = ["dataset"]


@admin.register(SnapshotFile)
class SnapshotFileAdmin(admin.ModelAdmin):
    list_display = ["path", "snapshot", "size"]
    raw_id_fields = ["snapshot", "sha256"]
