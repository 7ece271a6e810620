"""Small builders for test objects."""

import io
import urllib.request
import zipfile

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aicenter.models import ApiToken, Membership, Project, Role
from aicenter.projects import create_project
from datasets.ingest import upload_files
from datasets.models import Dataset
from datasets.tree import create_dataset

PASSWORD = "correct horse battery staple"


def make_user(username: str, **fields):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def make_project(owner, name: str = "Vision", **members_by_role) -> Project:
    project = create_project(owner, name, "A project for tests.")
    for role, user in members_by_role.items():
        Membership.objects.create(project=project, user=user, role=Role(role))
    return project


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> Client:
    _, token = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {token}"})


TRAIN_PY = """\
class Main:
    def __init__(self):
        self.model = None

    def train(self, training_directory):
        self.model = "trained"

    def evaluate(self, evaluation_directory):
        return 0.9

    def save(self):
        pass

    def process_data(self, input_directory):
        pass
"""
MAIN_PY = """\
class Main:
    def __init__(self):
        pass

    def predict(self, mlskill_input):
        return mlskill_input
"""


def package_files(**overrides) -> dict[str, str | bytes | None]:
    """The files of a valid package; an override of None leaves that file out."""
    files = {"train.py": TRAIN_PY, "main.py": MAIN_PY, "requirements.txt": ""}
    files.update(overrides)
    return {name: content for name, content in files.items() if content is not None}


def zip_bytes(files: dict[str, str | bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


def package_zip(folder: str = "", **overrides) -> bytes:
    return zip_bytes(package_files(**overrides), folder)


def uploaded(content: bytes, name: str = "package.zip"):
    return SimpleUploadedFile(name, content, content_type="application/zip")


def dataset_uploads(files: dict[str, str | bytes]) -> list[tuple[str, SimpleUploadedFile]]:
    """(relative path, uploaded file) pairs, as a folder upload sends them."""

    def upload(path: str, content: str | bytes) -> SimpleUploadedFile:
        data = content.encode() if isinstance(content, str) else content
        return SimpleUploadedFile(path.rsplit("/", 1)[-1], data)

    return [(path, upload(path, content)) for path, content in files.items()]


def make_dataset(project, name: str = "reviews", files: dict | None = None, user=None) -> Dataset:
    dataset = create_dataset(project, name=name, description="Data for tests.", user=user)
    if files:
        upload_files(dataset, "", dataset_uploads(files))
    return dataset


def fetched(client: Client, redirect_response) -> bytes:
    """The bytes behind a download redirect: a presigned S3 URL or the local store's view."""
    if "X-Amz-Signature=" in redirect_response.url:
        with urllib.request.urlopen(redirect_response.url) as download:
            return download.read()
    return b"".join(client.get(redirect_response.url).streaming_content)


def understating(content: bytes, name: str, declared: int) -> bytes:
    """The zip with `name`'s uncompressed size in its central directory entry set to `declared`."""
    archive = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as zipped:
        assert zipped.getinfo(name).file_size != declared
    entry = archive.index(b"PK\x01\x02")
    while entry_name(archive, entry) != name.encode():
        entry = archive.index(b"PK\x01\x02", entry + 4)
    archive[entry + 24 : entry + 28] = declared.to_bytes(4, "little")
    return bytes(archive)


def entry_name(archive: bytearray, entry: int) -> bytes:
    """The name of the central directory entry at `entry` (its length is at offset 28)."""
    length = int.from_bytes(archive[entry + 28 : entry + 30], "little")
    return bytes(archive[entry + 46 : entry + 46 + length])
