import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from aicenter.env import private_file
from aicenter.models import Project
from aicenter.projects import create_project
from datasets.examples import load_example_datasets
from datasets.models import Dataset
from packages.examples import load_example_packages
from packages.models import PackageVersion
from pipelines.definitions import create_pipeline
from pipelines.models import ScheduleKind

DEMO_USERNAME = "demo"
DEMO_PIPELINE = "flowers-nightly"
EPOCHS_PIPELINE = "flowers-epochs"
DEMO_PROJECT = "Demo"


class Command(BaseCommand):
    help = "Create the demo user and the demo project; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="the demo user's password; by default one kept in the data folder"
        )

    def handle(self, password, **options):
        password = password or demo_password(settings.DATA_DIR)
        user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        project = Project.objects.for_user(user).filter(name=DEMO_PROJECT).first()
        if project is None:
            project = create_project(
                user, DEMO_PROJECT, "Example packages and data to try at once."
            )
        for name in load_example_packages(project, user):
            self.stdout.write(f"Loaded example package {name}.")
        for name in load_example_datasets(project, user):
            self.stdout.write(f"Loaded example dataset {name}.")
        if not project.pipelines.exists():
            pipeline = create_nightly_pipeline(project, user)
            self.stdout.write(f"Created the pipeline {pipeline.name}: {pipeline.schedule_summary}.")
            if settings.DEMO_FIRST_RUN:
                pipeline = create_epochs_pipeline(project, user)
                self.stdout.write(
                    f"Started the pipeline {pipeline.name}: its run charts loss and accuracy "
                    "per epoch on its Metrics tab."
                )
        if user.check_password(password):
            self.stdout.write(f"Log in as {DEMO_USERNAME!r} with password {password!r}.")
        else:
            self.stdout.write(f"Log in as {DEMO_USERNAME!r} with the password you gave it.")


def demo_password(data_dir: Path) -> str:
    """Generated once per data folder, so no two installs share it, and kept private there."""
    path = data_dir / "demo_password"
    if not path.exists() or not path.read_text().strip():
        private_file(path).write_text(secrets.token_urlsafe(12))
    return path.read_text().strip()


def create_nightly_pipeline(project, user):
    """Retrain the standard-library example every night at 03:00 on the flowers training data."""
    definition = training_on_flowers(project, DEMO_PIPELINE, "flowers-stdlib")
    definition["parameters"] = {"save_training_data": "true"}
    definition |= {"schedule_kind": ScheduleKind.RECURRING, "cron": "0 3 * * *"}
    return create_pipeline(project, definition, user)


def create_epochs_pipeline(project, user):
    """Train the scikit-learn example once, now: it reports loss and accuracy per epoch, so
    the demo shows learning curves from its first launch."""
    definition = training_on_flowers(project, EPOCHS_PIPELINE, "flowers-sklearn")
    definition |= {"parameters": {"epochs": "30"}, "schedule_kind": ScheduleKind.NOW}
    return create_pipeline(project, definition, user)


def training_on_flowers(project, name: str, package: str) -> dict:
    """A training pipeline of an example package's first version on the flowers training data."""
    return {
        "name": name,
        "type": "training",
        "package_version": PackageVersion.objects.get(
            package__project=project, package__name=package, major=1, minor=0
        ),
        "input_dataset": Dataset.objects.get(project=project, name="flowers"),
        "input_path": "train",
    }
