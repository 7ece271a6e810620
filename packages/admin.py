from django.contrib import admin

from packages.models import MLPackage, PackageVersion


class VersionInline(admin.TabularInline):
    model = PackageVersion
    extra = 0
    fields = ["major", "minor", "source", "score", "size", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(MLPackage)
class MLPackageAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "python_version", "created_at"]
    list_filter = ["python_version"]
    search_fields = ["name", "project__name"]
    inlines = [VersionInline]


@admin.register(PackageVersion)
class PackageVersionAdmin(admin.ModelAdmin):
    list_display = ["package", "label", "source", "score", "size", "created_at"]
    list_filter = ["source"]
    search_fields = ["package__name", "sha256"]
    raw_id_fields = ["package", "parent"]
