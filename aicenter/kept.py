"""Files a refused form had accepted, kept for the person's next try.

A person who fixes a name should not have to choose a large zip again. The file lies
under KEPT_UPLOAD_DIR named by a random id; the form carries only that id, and the id
counts only in the session that kept it and only for KEPT_UPLOAD_SECONDS. Every new
keep sweeps out the files that have expired, so the folder holds an hour of refusals
at most.
"""

import os
import secrets
import shutil
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

SESSION_KEY = "kept_uploads"
CHUNK = 1 << 20


class KeptUpload(UploadedFile):
    """A kept file, handed to the form as if it had just been uploaded."""

    def __init__(self, path: Path, name: str, content_type: str) -> None:
        super().__init__(open(path, "rb"), name, content_type, path.stat().st_size)  # noqa: SIM115
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


def folder() -> Path:
    path = Path(settings.KEPT_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def keep(session, upload: UploadedFile) -> str:
    """Copy the upload aside and return the id that reopens it in this session."""
    remove_expired()
    token = secrets.token_urlsafe(24)
    target = folder() / token
    if hasattr(upload, "temporary_file_path"):
        shutil.copyfile(upload.temporary_file_path(), target)
    else:
        upload.seek(0)
        with open(target, "wb") as out:
            for chunk in upload.chunks(CHUNK):
                out.write(chunk)
    entry = {
        "name": upload.name,
        "content_type": upload.content_type or "application/octet-stream",
        "until": time.time() + settings.KEPT_UPLOAD_SECONDS,
    }
    session[SESSION_KEY] = {**session.get(SESSION_KEY, {}), token: entry}
    return token


def reopen(session, token: str) -> KeptUpload | None:
    """The file this session kept under `token`, or None if it is not this session's or
    has expired."""
    entry = session.get(SESSION_KEY, {}).get(token)
    path = folder() / token
    if entry is None or entry["until"] < time.time() or not path.is_file():
        return None
    return KeptUpload(path, entry["name"], entry["content_type"])


def release(session, token: str) -> None:
    kept = dict(session.get(SESSION_KEY, {}))
    if kept.pop(token, None) is not None:
        (folder() / token).unlink(missing_ok=True)
        session[SESSION_KEY] = kept


def remove_expired() -> int:
    oldest = time.time() - settings.KEPT_UPLOAD_SECONDS
    removed = 0
    with os.scandir(folder()) as entries:
        for entry in entries:
            if entry.is_file() and entry.stat().st_mtime < oldest:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


class KeepsFiles(forms.Form):
    """A form whose accepted files survive its refusal.

    Given the person's session, each field of `kept_fields` gets a hidden companion that
    carries the id of the file kept from the last try; an empty file input then means
    "the same file again". Without a session (the API) nothing is kept.
    """

    kept_fields: tuple[str, ...] = ()

    def __init__(self, *args, session=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.kept: dict[str, str] = {}
        if session is None:
            return
        for name in self.kept_fields:
            self.fields[kept_name(name)] = forms.CharField(required=False, widget=forms.HiddenInput)
        if self.is_bound:
            self.reopen_kept()

    def reopen_kept(self) -> None:
        self.files = self.files.copy()
        for name in self.kept_fields:
            token = self.data.get(kept_name(name), "")
            if name not in self.files and (upload := reopen(self.session, token)):
                self.files[name] = upload
                self.kept[name] = token

    def clean(self) -> dict:
        data = super().clean()
        for name in self.kept_fields:
            data.pop(kept_name(name), None)
        return data

    def keep_accepted(self) -> None:
        """After a refusal: keep each file nobody objected to, and say so on its field."""
        if self.session is None or not self.is_bound or not self.errors:
            return
        self.data = self.data.copy()
        for name in self.kept_fields:
            upload = self.files.get(name)
            if upload is None or name in self.errors:
                self.forget(name)
                continue
            self.kept.setdefault(name, keep(self.session, upload))
            self.data[kept_name(name)] = self.kept[name]
            self.fields[name].required = False
            # The bound field copied the help text when validation made it.
            self[name].help_text = _(
                "%(name)s (kept from your last try). Choose a file only to replace it."
            ) % {"name": upload.name}

    def forget(self, name: str) -> None:
        if name in self.kept:
            release(self.session, self.kept.pop(name))
        self.data[kept_name(name)] = ""

    def release_kept(self) -> None:
        """After success: the kept files served their purpose."""
        for token in self.kept.values():
            release(self.session, token)


def kept_name(field: str) -> str:
    return f"{field}_kept"
