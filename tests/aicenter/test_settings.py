import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from aicenter.env import broker_from_value, database_from_url, storage_from_url

ROOT = Path(__file__).resolve().parents[2]


def check_with(tmp_path, *command: str, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "Q_BROKER"}}
    env.update(AICENTER_DATA_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *(command or ["check"])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/aicenter"),
        ("Q_BROKER", "rabbitmq://localhost"),
        ("STORAGE_URL", "ftp://files.example/store"),
        ("RUN_TIMEOUT", "six hours"),
        ("RUN_LOG_MAX_LINES", "many"),
        ("DEBUG", "maybe"),
        ("S3_ENDPOINT_URL", "localhost:8333"),
    ],
)
def test_malformed_setting_stops_start_up_naming_the_variable(tmp_path, name, value):
    variables = {name: value}
    if name == "S3_ENDPOINT_URL":
        variables["STORAGE_URL"] = "s3://bucket/prefix"
    result = check_with(tmp_path, **variables)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert name in last_line


def test_embedded_defaults_start_without_any_variable(tmp_path):
    result = check_with(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()


USING_STORE_AND_DATABASE = (
    "from django.db import connection; from aicenter.store import get_store; "
    "connection.cursor().execute('SELECT 1'); get_store().put_bytes('probe', b'x')"
)


def test_the_embedded_data_is_private_to_the_service_account(tmp_path):
    result = check_with(tmp_path, "shell", "-c", USING_STORE_AND_DATABASE)
    assert result.returncode == 0, result.stderr
    names = ["secret_key", "aicenter.sqlite3", "tmp", "store"]
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in names}
    assert modes == {"secret_key": 0o600, "aicenter.sqlite3": 0o600, "tmp": 0o700, "store": 0o700}


def test_storage_url_reads_bucket_and_prefix():
    config = storage_from_url("s3://models/team-a/store", Path("/data"))
    assert (config["kind"], config["bucket"], config["prefix"]) == ("s3", "models", "team-a/store")


def test_storage_url_without_scheme_is_a_folder_under_the_data_directory():
    config = storage_from_url("store", Path("/data"))
    assert config == {"kind": "local", "root": "/data/store"}


def test_storage_url_refuses_a_bucket_less_url():
    with pytest.raises(ImproperlyConfigured, match="STORAGE_URL must name a bucket"):
        storage_from_url("s3:///prefix", Path("/data"))


def test_broker_accepts_orm_and_redis_urls():
    assert broker_from_value("orm") == {"orm": "default"}
    assert broker_from_value("redis://127.0.0.1:6379/2") == {"redis": "redis://127.0.0.1:6379/2"}


def test_database_url_must_name_a_postgres_database():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must name a database"):
        database_from_url("postgres://localhost")
