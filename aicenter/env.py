"""Typed readers for settings taken from the environment.

Every reader raises ImproperlyConfigured naming the variable, so a malformed
value stops start-up with a message a person can act on.
"""

import contextlib
import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_float(name: str, default: float | None, minimum: float = 0) -> float | None:
    """A number such as 0.5 or 4; empty means None (no limit) where the default allows it."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.strip():
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if not value >= minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated address ranges (CIDR), checked at start-up."""
    networks = env_list(name, [])
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list address ranges such as 10.1.2.0/24, not {network!r}."
            ) from None
    return networks


def database_from_url(url: str, name: str = "DATABASE_URL") -> dict:
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must start with sqlite:// or postgres://, not {scheme or url!r}."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {error}") from None
    if scheme == "sqlite":
        return sqlite_database(Path(config["NAME"]))
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, as in postgres://host/name.")
    return config


def private_file(path: Path) -> Path:
    """The file, made readable by this account alone: runs' code works as another account."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(PermissionError):  # another account's file: its owner decides
        path.chmod(0o600)
    return path


def private_dir(path: Path) -> Path:
    """The folder, made reachable by this account alone."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(PermissionError):
        path.chmod(0o700)
    return path


def sqlite_database(path: Path) -> dict:
    """The embedded database: WAL and a busy timeout let a worker write beside the web.

    SQLite gives its -wal and -shm files the database file's mode, so all stay private.
    """
    private_file(path)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not memory, so worker processes started by tests share it; one per test run.
        "TEST": {"NAME": str(path.with_name(f"test-{os.getpid()}-{path.name}"))},
    }


def broker_from_value(value: str, name: str = "Q_BROKER") -> dict:
    """django-q2 broker settings: the ORM broker, or Redis from a redis:// URL."""
    if value == "orm":
        return {"orm": "default"}
    if urlsplit(value).scheme in {"redis", "rediss"} and urlsplit(value).hostname:
        return {"redis": value}
    raise ImproperlyConfigured(f"{name} must be orm or a redis://host:port/db URL, not {value!r}.")


def storage_from_url(url: str, data_dir: Path, name: str = "STORAGE_URL") -> dict:
    """The object store: a local folder (a path or file://) or s3://bucket/prefix."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return s3_storage(parts.netloc, parts.path.strip("/"), name)
    if parts.scheme in {"", "file"}:
        folder = Path(parts.path if parts.scheme else url)
        return {"kind": "local", "root": str((data_dir / folder).resolve())}
    raise ImproperlyConfigured(f"{name} must be a folder or s3://bucket/prefix, not {url!r}.")


def s3_storage(bucket: str, prefix: str, name: str) -> dict:
    if not bucket:
        raise ImproperlyConfigured(f"{name} must name a bucket, as in s3://bucket/prefix.")
    if "//" in prefix:
        raise ImproperlyConfigured(f"{name} must not contain an empty path segment (//).")
    endpoint = os.environ.get("S3_ENDPOINT_URL") or None
    if endpoint and urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL must be an http(s) URL, not {endpoint!r}.")
    return {
        "kind": "s3",
        "bucket": bucket,
        "prefix": prefix,
        "endpoint_url": endpoint,
        "public_endpoint_url": os.environ.get("S3_PUBLIC_ENDPOINT_URL") or endpoint,
        "access_key_id": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_access_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "region": os.environ.get("S3_REGION", "us-east-1"),
    }


def secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = data_dir / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        private_file(path).write_text(get_random_secret_key())
    return path.read_text().strip()
