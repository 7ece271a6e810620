from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DatasetsConfig(AppConfig):
    name = "datasets"

    def ready(self) -> None:
        from datasets.gc import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
