import io
import stat
import threading
import warnings
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from aicenter.store import get_store
from packages.models import MLPackage, PackageVersion, Source
from packages.upload import delete_package, upload_major_version, upload_package
from tests.factories import package_files, package_zip, understating, uploaded

pytestmark = pytest.mark.django_db


def upload(project, owner, content: bytes, name: str = "sentiment"):
    return upload_package(
        project,
        name=name,
        description="Reviews",
        python_version="3.12",
        file=uploaded(content),
        user=owner,
    )


def crafted_zip(extra: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """A valid package plus hand-made entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in package_files().items():
            archive.writestr(name, content)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are what some cases test
            for info, content in extra:
                archive.writestr(info, content)
    return buffer.getvalue()


def entry(name: str, external_attr: int = 0o644 << 16) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = external_attr
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def marked_encrypted(content: bytes, name: str) -> bytes:
    """Set the 'encrypted' flag of one entry, which zipfile itself never writes."""
    data = bytearray(content)
    data[zipfile.ZipFile(io.BytesIO(content)).getinfo(name).header_offset + 6] |= 0x1
    position = data.find(b"PK\x01\x02")
    while position != -1:
        if data[position + 46 : position + 46 + len(name)] == name.encode():
            data[position + 8] |= 0x1
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


REFUSALS = {
    "not a zip": (b"PK? not really a zip", "The file is not a zip archive."),
    "encrypted": (
        marked_encrypted(crafted_zip([(entry("secret.bin"), b"x")]), "secret.bin"),
        "secret.bin: the entry is encrypted",
    ),
    "dot-dot": (crafted_zip([(entry("../escape.py"), b"x")]), "leaves the archive's folder"),
    "absolute": (crafted_zip([(entry("/etc/cron.d/evil"), b"x")]), "the path is absolute"),
    "drive letter": (crafted_zip([(entry("C:/evil.py"), b"x")]), "starts with a drive letter"),
    "symlink": (
        crafted_zip([(entry("link", external_attr=(stat.S_IFLNK | 0o777) << 16), b"/etc")]),
        "symbolic links are not allowed",
    ),
    "duplicate": (crafted_zip([(entry("train.py"), b"class Main: pass")]), "appears twice"),
    "bomb": (crafted_zip([(entry("zeros.bin"), bytes(8 * 1024 * 1024))]), "looks like a zip bomb"),
    "understated size": (
        understating(crafted_zip([(entry("zeros.bin"), bytes(100_000))]), "zeros.bin", 10),
        "zeros.bin: the entry is damaged or cannot be read.",
    ),
}


def assert_nothing_stored():
    assert not MLPackage.objects.exists()
    assert not PackageVersion.objects.exists()
    assert list(get_store().list("")) == []


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_upload_refuses_an_unsafe_zip_and_stores_nothing(project, owner, case):
    content, message = REFUSALS[case]
    with pytest.raises(ValidationError) as refused:
        upload(project, owner, content)
    assert any(message in problem for problem in refused.value.message_dict["file"])
    assert_nothing_stored()


def test_upload_refuses_more_entries_than_the_limit(project, owner, settings):
    settings.PACKAGE_MAX_ENTRIES = 3
    content = package_zip(**{"extra.py": "x = 1"})
    with pytest.raises(ValidationError, match="The zip has 4 entries; at most 3"):
        upload(project, owner, content)
    assert_nothing_stored()


def test_upload_refuses_more_bytes_than_the_limit(project, owner, settings):
    settings.PACKAGE_MAX_UNCOMPRESSED_BYTES = 500
    content = package_zip(**{"weights.txt": "w" * 600})
    with pytest.raises(ValidationError, match="at most 500 are allowed"):
        upload(project, owner, content)
    assert_nothing_stored()


def test_upload_lists_archive_and_contract_problems_together(project, owner):
    content = crafted_zip([(entry("../x"), b"x"), (entry("main.py"), b"nothing")])
    with pytest.raises(ValidationError) as refused:
        upload(project, owner, content)
    problems = refused.value.message_dict["file"]
    assert any("leaves the archive's folder" in p for p in problems)
    assert any("appears twice" in p for p in problems)
    assert_nothing_stored()


def test_upload_refuses_requirements_naming_local_files_and_lists_each_line(project, owner):
    requirements = "numpy==2.1.0\n./mylib\n--find-links /srv/wheels\nx @ file:///srv/x\n"
    content = package_zip(**{"requirements.txt": requirements})
    with pytest.raises(ValidationError) as refused:
        upload(project, owner, content)
    problems = refused.value.message_dict["file"]
    named = [problem.split(":")[0] for problem in problems]
    assert named == [f"requirements.txt, line {n}" for n in (2, 3, 4)]
    assert_nothing_stored()


def test_first_upload_is_version_1_0_stored_once_with_its_hash(project, owner):
    content = package_zip(**{"requirements.txt": "scikit-learn==1.6.1\n"})
    version = upload(project, owner, content)
    assert (version.label, version.source, version.size) == ("1.0", Source.UPLOAD, len(content))
    assert version.supported_types == ["training", "evaluation", "full"]
    assert version.requirements == "scikit-learn==1.6.1\n"
    assert ["train.py", len(package_files()["train.py"])] in version.files
    assert get_store().get_bytes(version.zip_key) == content
    assert [stored.key for stored in get_store().list("")] == [version.zip_key]


def test_new_major_version_counts_from_the_highest(project, owner):
    first = upload(project, owner, package_zip())
    second = upload_major_version(first.package, uploaded(package_zip()), owner)
    third = upload_major_version(first.package, uploaded(package_zip()), owner)
    assert [second.label, third.label] == ["2.0", "3.0"]


def test_a_refused_major_version_leaves_the_package_as_it_was(project, owner):
    first = upload(project, owner, package_zip())
    with pytest.raises(ValidationError):
        upload_major_version(first.package, uploaded(b"junk"), owner)
    assert list(first.package.versions.all()) == [first]
    assert [stored.key for stored in get_store().list("")] == [first.zip_key]


def test_a_failed_registration_takes_the_stored_zip_back_out(project, owner):
    upload(project, owner, package_zip(), name="taken")
    with pytest.raises(Exception, match="UNIQUE|unique|duplicate"):
        upload(project, owner, package_zip(**{"notes.txt": "x"}), name="taken")
    assert MLPackage.objects.count() == 1
    assert len(list(get_store().list(""))) == 1


def test_deleting_a_package_removes_its_versions_and_zips(project, owner):
    version = upload(project, owner, package_zip())
    upload_major_version(version.package, uploaded(package_zip()), owner)
    delete_package(version.package)
    assert not PackageVersion.objects.exists()
    assert not get_store().exists(version.zip_key)


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_never_share_a_version_number(project, owner):
    package = upload(project, owner, package_zip()).package
    labels, errors = [], []

    def add_version():
        try:
            labels.append(upload_major_version(package, uploaded(package_zip()), owner).label)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add_version) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(labels) == [f"{major}.0" for major in range(2, 8)]
