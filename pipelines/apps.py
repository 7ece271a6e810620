from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PipelinesConfig(AppConfig):
    name = "pipelines"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from pipelines.gc import ensure_collection_schedule
        from pipelines.reaper import ensure_reaper_schedule
        from pipelines.runner.host import start_host_heartbeat
        from pipelines.upkeep import tidy_host_safely

        post_migrate.connect(ensure_reaper_schedule, sender=self)
        post_migrate.connect(ensure_collection_schedule, sender=self)
        post_spawn.connect(tidy_host_safely, dispatch_uid="pipelines.tidy_host")
        post_spawn.connect(start_host_heartbeat, dispatch_uid="pipelines.host_heartbeat")
