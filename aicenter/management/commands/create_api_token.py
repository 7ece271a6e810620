from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aicenter.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")

    def handle(self, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        _, token = ApiToken.issue(user, name)
        self.stdout.write(token)
