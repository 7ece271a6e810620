"""A run's heartbeat, kept by a thread for the whole run: staging and installs can be long."""

import threading

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from pipelines.models import STARTED, Run


class Heartbeat:
    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.beat, daemon=True)

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def beat(self) -> None:
        try:
            while not self.stopped.wait(settings.HEARTBEAT_SECONDS):
                self.once()
        finally:
            connection.close()  # this thread's own connection

    def once(self) -> None:
        try:
            Run.objects.filter(id=self.run_id, status__in=STARTED).update(
                heartbeat_at=timezone.now()
            )
        except DatabaseError:
            connection.close()  # reopened on the next beat
