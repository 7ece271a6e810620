from django.conf import settings
from django.core.management.base import BaseCommand

from datasets.gc import collect_garbage


class Command(BaseCommand):
    help = "Remove stored contents that no dataset file, snapshot or run refers to any more."

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=settings.BLOB_GRACE_SECONDS,
            help="Keep blobs younger than this, which an upload in flight may be about to use.",
        )

    def handle(self, grace_seconds: int, **options):
        self.stdout.write(str(collect_garbage(grace_seconds)))
