from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PipelinesConfig(AppConfig):
    name = "pipelines"

    def ready(self) -> None:
        from pipelines.reaper import ensure_reaper_schedule

        post_migrate.connect(ensure_reaper_schedule, sender=self)
