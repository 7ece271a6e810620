import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from aicenter.env import env_int, env_str
from aicenter.serve import Part, Supervisor


class Command(BaseCommand):
    help = (
        "Run the service on this machine: migrate, load the demo project, then serve the web "
        "and one worker cluster until Ctrl-C or SIGTERM. Exits non-zero if either part stops."
    )

    def handle(self, **options):
        call_command("migrate", interactive=False)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed_demo")
        connections.close_all()  # the parts open their own
        host = env_str("HOST", "127.0.0.1")
        port = env_int("PORT", 8000, minimum=1)
        parts = [
            Part("web server (gunicorn)", web_command(host, port)),
            Part("worker cluster (qcluster)", [sys.executable, "manage.py", "qcluster"]),
        ]
        sys.exit(Supervisor(parts, settings.BASE_DIR, (host, port)).run())


def address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def web_command(host: str, port: int) -> list[str]:
    # Every file the service writes stays in the data folder: gunicorn's control socket
    # would go to the home folder (nothing here uses it), its heartbeat files to /tmp.
    return [
        *(sys.executable, "-m", "gunicorn", "aicenter.wsgi"),
        *("--bind", address(host, port), "--workers", "2", "--threads", "4"),
        *("--timeout", "300", "--graceful-timeout", "5", "--access-logfile", "-"),
        *("--no-control-socket", "--worker-tmp-dir", settings.FILE_UPLOAD_TEMP_DIR),
    ]
