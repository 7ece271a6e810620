from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from aicenter.models import Project
from aicenter.projects import create_project
from datasets.examples import load_example_datasets
from packages.examples import load_example_packages

DEMO_USERNAME = "demo"
DEMO_PROJECT = "Demo"


class Command(BaseCommand):
    help = "Create the demo user and the demo project; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-password")

    def handle(self, password, **options):
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
        if created:
            self.stdout.write(f"Log in as {DEMO_USERNAME!r} with password {password!r}.")
        else:
            self.stdout.write(
                f"Log in as {DEMO_USERNAME!r}; its password is {password!r} unless you changed it."
            )
