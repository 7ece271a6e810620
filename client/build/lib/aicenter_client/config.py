"""Where the command finds the service and its token: the environment, else `aicenter login`'s
file in the user's config folder, readable by the user alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import click


def config_file() -> Path:
    return Path(click.get_app_dir("aicenter")) / "config.json"


@dataclass(frozen=True)
class Settings:
    url: str | None
    token: str | None


def load() -> Settings:
    stored = {}
    path = config_file()
    if path.exists():
        stored = json.loads(path.read_text())
    return Settings(
        url=os.environ.get("AICENTER_URL") or stored.get("url"),
        token=os.environ.get("AICENTER_TOKEN") or stored.get("token"),
    )


def save(url: str, token: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created private, never readable for a moment by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"url": url, "token": token}, out)
    os.chmod(path, 0o600)
    return path


def cache_folder() -> Path:
    """Where `dataset push` keeps the sha256 of files it hashed."""
    chosen = os.environ.get("AICENTER_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(chosen) if chosen else Path.home() / ".cache"
    return base if os.environ.get("AICENTER_CACHE_DIR") else base / "aicenter"
