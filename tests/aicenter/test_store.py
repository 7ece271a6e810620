"""The object store: the same behaviour from a local folder and from a real S3 server."""

import base64
import contextlib
import hashlib
import io
import os
import time
import tracemalloc
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.core import signing

from aicenter.store import (
    LocalStore,
    ObjectMissing,
    ObjectStore,
    OpenFile,
    S3Store,
    StoredObject,
    check_key,
    get_store,
)
from aicenter.store.local import download_token
from tests.s3server import s3_server  # noqa: F401

MB = 1 << 20
BIG = 100 * MB
MEMORY_LIMIT = 20 * MB
STREAM_MEMORY_LIMIT = 40 * MB  # a stream of unknown size is sent in buffered 8 MiB parts
S3_PREFIX = "tenant/data"
BAD_KEYS = [
    "",
    "/leading/slash",
    "trailing/slash/",
    "empty//segment",
    "./dot",
    "a/./dot",
    "a/../parent",
    "..",
    "back\\slash",
    "nul\0byte",
]


def fresh_bucket() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, settings) -> ObjectStore:
    if request.param == "local":
        settings.STORE = {"kind": "local", "root": str(tmp_path / "store")}
    else:
        server = request.getfixturevalue("s3_server")
        settings.STORE = server.store_config(bucket=fresh_bucket(), prefix=S3_PREFIX)
    return get_store()


@pytest.fixture
def local_store(tmp_path, settings) -> LocalStore:
    settings.STORE = {"kind": "local", "root": str(tmp_path / "store")}
    return get_store()


@pytest.fixture
def s3_store(s3_server, settings) -> S3Store:  # noqa: F811
    settings.STORE = s3_server.store_config(bucket=fresh_bucket(), prefix=S3_PREFIX)
    return get_store()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(BIG // MB):
            block = os.urandom(MB)
            digest.update(block)
            out.write(block)
    return path, digest.hexdigest()


class Trickle(io.RawIOBase):
    """A one-way stream of pseudo-random bytes that answers reads in small pieces."""

    def __init__(self, size: int, piece: int = 64 * 1024) -> None:
        self.left = size
        self.block = os.urandom(piece)
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left, len(self.block))
        buffer[:count] = self.block[:count]
        self.digest.update(self.block[:count])
        self.left -= count
        return count


class Failing(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise OSError("the client went away")


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Peak bytes allocated by Python in any thread while the block ran."""
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def sha256_of(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def keys(objects: Iterator[StoredObject]) -> list[str]:
    return [stored.key for stored in objects]


def test_bytes_round_trip_with_exists_and_size(store):
    store.put_bytes("runs/1/metrics.json", b'{"loss": 0.1}')
    store.put_bytes("runs/1/empty", b"")

    assert store.get_bytes("runs/1/metrics.json") == b'{"loss": 0.1}'
    assert store.get_bytes("runs/1/empty") == b""
    assert store.exists("runs/1/metrics.json")
    assert store.size("runs/1/metrics.json") == 13
    assert store.size("runs/1/empty") == 0


def test_writing_a_key_again_replaces_the_object(store):
    store.put_bytes("model.bin", b"first version, longer")
    store.put_bytes("model.bin", b"second")

    assert store.get_bytes("model.bin") == b"second"


def test_file_round_trip_creates_missing_parent_folders(store, tmp_path):
    source = tmp_path / "source.csv"
    source.write_bytes(b"a,b\n1,2\n")
    store.put_file("datasets/3/data.csv", source)

    target = tmp_path / "deep" / "er" / "data.csv"
    store.get_file("datasets/3/data.csv", target)

    assert target.read_bytes() == b"a,b\n1,2\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.csv"]


def test_get_file_replaces_an_existing_file(store, tmp_path):
    store.put_bytes("a.txt", b"new")
    target = tmp_path / "a.txt"
    target.write_bytes(b"old and longer")

    store.get_file("a.txt", target)

    assert target.read_bytes() == b"new"


def test_stream_round_trip_of_a_multipart_sized_one_way_stream(store):
    stream = Trickle(20 * MB + 123)
    store.put_stream("uploads/big.bin", stream)

    assert store.size("uploads/big.bin") == 20 * MB + 123
    assert sha256_of(store.open_stream("uploads/big.bin")) == stream.digest.hexdigest()


def test_open_stream_yields_chunks_of_the_asked_size(store):
    store.put_bytes("ten", b"0123456789")

    assert list(store.open_stream("ten", chunk_size=4)) == [b"0123", b"4567", b"89"]


def test_a_failed_stream_leaves_no_object(store):
    with pytest.raises(OSError, match="went away"):
        store.put_stream("broken.bin", Failing())

    assert not store.exists("broken.bin")


def test_reading_a_missing_key_raises_object_missing(store, tmp_path):
    store.put_bytes("present/file", b"x")
    target = tmp_path / "out" / "missing"

    for read in (
        lambda: store.get_bytes("absent"),
        lambda: store.get_file("absent", target),
        lambda: store.open_stream("absent"),
        lambda: store.size("absent"),
        lambda: store.get_bytes("present"),
    ):
        with pytest.raises(ObjectMissing):
            read()
    assert not store.exists("absent")
    assert not store.exists("present")
    assert not target.exists()
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_object_missing_is_a_key_error(store):
    with pytest.raises(KeyError):
        store.get_bytes("absent")


def test_list_returns_sorted_keys_under_the_prefix_with_sizes_and_no_others(store):
    for key, data in {
        "a/1": b"1",
        "a/2/x": b"22",
        "ab/3": b"333",
        "a-c": b"",
        "b": b"4444",
    }.items():
        store.put_bytes(key, data)

    assert list(store.list("a/")) == [StoredObject("a/1", 1), StoredObject("a/2/x", 2)]
    assert keys(store.list("a")) == ["a-c", "a/1", "a/2/x", "ab/3"]
    assert keys(store.list("a/2")) == ["a/2/x"]
    assert keys(store.list("")) == ["a-c", "a/1", "a/2/x", "ab/3", "b"]
    assert keys(store.list("nothing/")) == []


def test_delete_removes_one_object_and_ignores_missing_keys(store):
    store.put_bytes("keep", b"k")
    store.put_bytes("drop/me", b"d")

    store.delete("drop/me")
    store.delete("drop/me")
    store.delete("never/was")

    assert not store.exists("drop/me")
    assert store.get_bytes("keep") == b"k"


def test_delete_prefix_removes_everything_under_it_and_counts(store, tmp_path):
    files = []
    for index in range(1001):
        path = tmp_path / f"{index}.txt"
        path.write_bytes(str(index).encode())
        files.append((path, f"runs/7/out/{index}.txt"))
    store.put_many(files)
    store.put_bytes("runs/7/outside", b"stays")
    store.put_bytes("runs/70/other", b"stays")

    assert store.delete_prefix("runs/7/out/") == 1001

    assert not any(store.exists(f"runs/7/out/{index}.txt") for index in (0, 500, 1000))
    assert store.get_bytes("runs/7/outside") == b"stays"
    assert store.get_bytes("runs/70/other") == b"stays"
    assert store.delete_prefix("runs/7/") == 1
    assert store.exists("runs/70/other")


def test_delete_prefix_refuses_to_empty_the_whole_store(store):
    with pytest.raises(ValueError, match="whole store"):
        store.delete_prefix("")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused_by_every_operation(store, tmp_path, key):
    with pytest.raises(ValueError):
        check_key(key)
    source = tmp_path / "f"
    source.write_bytes(b"x")
    for operation in (
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_file(key, source),
        lambda: store.put_stream(key, io.BytesIO(b"x")),
        lambda: store.get_bytes(key),
        lambda: store.get_file(key, tmp_path / "g"),
        lambda: store.open_stream(key),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.put_many([(source, "fine"), (source, key)]),
        lambda: store.get_many([("fine", tmp_path / "h"), (key, tmp_path / "i")]),
        lambda: store.download_url(key, "f.txt"),
    ):
        with pytest.raises(ValueError):
            operation()
    assert not store.exists("fine")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused_before_any_open_file_is_stored(store, tmp_path, key):
    (tmp_path / "f").write_bytes(b"x")
    with open(tmp_path / "f", "rb") as file, pytest.raises(ValueError):
        store.put_many_open([(OpenFile(file, 1), "fine"), (OpenFile(file, 1), key)])
    assert not store.exists("fine")


@pytest.mark.parametrize("prefix", ["/abs", "a//b/", "../up", "a/../b"])
def test_invalid_prefixes_are_refused(store, prefix):
    with pytest.raises(ValueError):
        list(store.list(prefix))
    with pytest.raises(ValueError):
        store.delete_prefix(prefix)


def test_a_valid_key_may_contain_dots_spaces_and_unicode(store):
    key = "runs/.hidden/..data/résumé v2.txt"
    store.put_bytes(key, b"ok")

    assert store.get_bytes(key) == b"ok"
    assert keys(store.list("runs/")) == [key]


def test_put_many_then_get_many_round_trips_200_files(store, tmp_path):
    sent = {}
    items = []
    for index in range(200):
        path = tmp_path / "in" / f"{index:03}.bin"
        path.parent.mkdir(exist_ok=True)
        sent[index] = os.urandom(1000 + index)
        path.write_bytes(sent[index])
        items.append((path, f"batch/{index % 7}/{index:03}.bin"))

    store.put_many(items)
    store.get_many([(key, tmp_path / "out" / key) for _, key in items])

    assert len(list(store.list("batch/"))) == 200
    for index in range(200):
        received = tmp_path / "out" / "batch" / str(index % 7) / f"{index:03}.bin"
        assert received.read_bytes() == sent[index]


def test_put_many_open_stores_the_first_size_bytes_of_each_open_file(store, tmp_path):
    """Read from the descriptors the caller opened, never by path; past 8 MiB in parts."""
    sent = {"small.bin": os.urandom(1000), "empty.bin": b"", "parts.bin": os.urandom(9 * MB)}
    with contextlib.ExitStack() as open_files:
        items = []
        for name, content in sent.items():
            (tmp_path / name).write_bytes(content)
            file = open_files.enter_context(open(tmp_path / name, "rb"))
            items.append((OpenFile(file, len(content)), f"open/{name}"))
            with open(tmp_path / name, "ab") as grown:
                grown.write(b"written after the size was taken")
            (tmp_path / name).unlink()  # the path is gone; the open file is not
            (tmp_path / name).write_bytes(b"another file")
        store.put_many_open(items)

    for name, content in sent.items():
        assert store.get_bytes(f"open/{name}") == content


def test_get_many_writes_read_only_files_when_asked_and_leaves_no_temporary_file(store, tmp_path):
    store.put_bytes("a/one", b"1")
    store.put_bytes("a/two", b"22")

    store.get_many([("a/one", tmp_path / "ro" / "one")], read_only=True)
    store.get_many([("a/two", tmp_path / "rw" / "deep" / "two")])

    assert (tmp_path / "ro" / "one").read_bytes() == b"1"
    assert (tmp_path / "ro" / "one").stat().st_mode & 0o222 == 0
    assert (tmp_path / "rw" / "deep" / "two").stat().st_mode & 0o200
    written = [*(tmp_path / "ro").rglob("*"), *(tmp_path / "rw").rglob("*")]
    assert sorted(path.name for path in written if path.is_file()) == ["one", "two"]


def test_get_many_in_place_replaces_a_file_found_there_without_writing_through_it(store, tmp_path):
    store.put_bytes("a/new", b"new")
    shared = tmp_path / "shared"
    shared.write_bytes(b"shared bytes")
    (tmp_path / "out").mkdir()
    os.link(shared, tmp_path / "out" / "new")

    store.get_many([("a/new", tmp_path / "out" / "new")], read_only=True, in_place=True)

    assert (tmp_path / "out" / "new").read_bytes() == b"new"
    assert shared.read_bytes() == b"shared bytes"


def test_get_many_of_a_missing_key_raises_object_missing(store, tmp_path):
    store.put_bytes("here", b"x")

    with pytest.raises(ObjectMissing):
        store.get_many([("here", tmp_path / "here"), ("gone", tmp_path / "gone")])
    assert not (tmp_path / "gone").exists()


def test_a_100_mb_file_goes_in_and_streams_out_in_little_memory(store, big_file):
    path, expected = big_file

    with peak_memory() as put_peak:
        store.put_file("big/model.bin", path)
    with peak_memory() as get_peak:
        received = sha256_of(store.open_stream("big/model.bin"))

    assert received == expected
    assert store.size("big/model.bin") == BIG
    assert put_peak[0] < MEMORY_LIMIT
    assert get_peak[0] < MEMORY_LIMIT


def test_a_100_mb_one_way_stream_is_stored_in_bounded_memory(store):
    stream = Trickle(BIG)

    with peak_memory() as peak:
        store.put_stream("big/stream.bin", stream)

    assert peak[0] < STREAM_MEMORY_LIMIT
    assert store.size("big/stream.bin") == BIG
    assert sha256_of(store.open_stream("big/stream.bin")) == stream.digest.hexdigest()


def test_a_100_mb_object_downloads_to_a_file(store, big_file, tmp_path):
    path, expected = big_file
    store.put_file("big/model.bin", path)

    with peak_memory() as peak:
        store.get_file("big/model.bin", tmp_path / "copy.bin")

    assert sha256_of(_read_file(tmp_path / "copy.bin")) == expected
    assert peak[0] < MEMORY_LIMIT


def _read_file(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(MB):
            yield chunk


def test_check_passes_on_a_usable_store(store):
    store.check()


def test_get_store_is_cached_and_follows_the_store_setting(settings, tmp_path):
    settings.STORE = {"kind": "local", "root": str(tmp_path / "one")}
    first = get_store()
    assert get_store() is first
    assert first.root == tmp_path / "one"

    settings.STORE = {"kind": "local", "root": str(tmp_path / "two")}

    assert get_store() is not first
    assert get_store().root == tmp_path / "two"


def test_get_store_builds_an_s3_store_from_s3_settings(settings):
    settings.STORE = {
        "kind": "s3",
        "bucket": "models",
        "prefix": "",
        "endpoint_url": "http://127.0.0.1:9",
        "public_endpoint_url": None,
        "access_key_id": "id",
        "secret_access_key": "secret",
        "region": "us-east-1",
    }

    assert isinstance(get_store(), S3Store)


# Local folder


def test_local_writes_leave_no_temporary_files(local_store, tmp_path):
    local_store.put_bytes("a/b", b"1")
    local_store.put_stream("a/c", io.BytesIO(b"2"))
    with pytest.raises(OSError):
        local_store.put_stream("a/d", Failing())

    assert list((tmp_path / "store" / ".tmp").iterdir()) == []
    assert keys(local_store.list("")) == ["a/b", "a/c"]


def test_local_delete_prunes_emptied_folders(local_store, tmp_path):
    local_store.put_bytes("x/y/z", b"1")
    local_store.put_bytes("x/keep", b"2")

    local_store.delete("x/y/z")

    assert not (tmp_path / "store" / "x" / "y").exists()
    assert (tmp_path / "store" / "x" / "keep").exists()


def test_local_store_refuses_its_reserved_temporary_folder(local_store):
    with pytest.raises(ValueError, match="reserved"):
        local_store.put_bytes(".tmp/x", b"1")


def test_local_download_url_serves_the_object_as_an_attachment(local_store, client):
    local_store.put_bytes("reports/7.csv", b"a,b\n")

    response = client.get(local_store.download_url("reports/7.csv", "report 7.csv"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n"
    assert response["Content-Disposition"] == 'attachment; filename="report 7.csv"'
    assert response["Content-Length"] == "4"


def test_local_download_url_with_a_non_ascii_filename_uses_rfc_6266(local_store, client):
    local_store.put_bytes("r.csv", b"x")

    response = client.get(local_store.download_url("r.csv", "résumé.csv"))

    assert response["Content-Disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.csv"


def test_an_expired_local_download_url_is_not_found(local_store, client, settings):
    local_store.put_bytes("r.csv", b"x")
    url = local_store.download_url("r.csv", "r.csv")

    settings.STORE_URL_MAX_AGE = -1

    assert client.get(url).status_code == 404


def test_a_tampered_local_download_url_is_not_found(local_store, client):
    local_store.put_bytes("secret.csv", b"x")
    local_store.put_bytes("r.csv", b"x")
    url = local_store.download_url("r.csv", "r.csv")
    forged = signing.dumps({"k": "secret.csv", "f": "s.csv"}, salt="another.salt")

    assert client.get(url[:-2] + ("aa" if url[-2:] != "aa" else "bb")).status_code == 404
    assert client.get(f"/store/{forged}").status_code == 404


def test_a_local_download_url_of_a_deleted_object_is_not_found(local_store, client):
    local_store.put_bytes("r.csv", b"x")
    url = local_store.download_url("r.csv", "r.csv")
    local_store.delete("r.csv")

    assert client.get(url).status_code == 404


def test_a_valid_token_with_a_bad_key_is_not_found(local_store, client):
    token = download_token("../settings.py", "s.py")

    assert client.get(f"/store/{token}").status_code == 404


def test_a_local_download_url_shows_neither_the_key_nor_the_name(local_store, client):
    sha256 = hashlib.sha256(b"x").hexdigest()
    key = f"blobs/{sha256[:2]}/{sha256}"
    local_store.put_bytes(key, b"x")

    url = local_store.download_url(key, "report.csv")
    token = url.removeprefix("/store/")
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))

    for readable in [url.encode(), decoded]:
        assert sha256.encode() not in readable
        assert b"blobs" not in readable and b"report" not in readable
    assert b"".join(client.get(url).streaming_content) == b"x"


def test_local_check_fails_when_the_root_is_not_a_folder(tmp_path):
    (tmp_path / "file").write_bytes(b"")

    with pytest.raises(OSError):
        LocalStore(tmp_path / "file").check()


# S3


def fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), dict(answer.headers)


def test_s3_download_url_is_a_working_presigned_attachment_url(s3_store):
    s3_store.put_bytes("reports/7.csv", b"a,b\n")

    body, headers = fetch(s3_store.download_url("reports/7.csv", "résumé 7.csv"))

    assert body == b"a,b\n"
    assert headers["Content-Disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%207.csv"


def test_a_tampered_s3_download_url_is_forbidden(s3_store):
    s3_store.put_bytes("public.csv", b"x")
    s3_store.put_bytes("private.csv", b"y")
    url = s3_store.download_url("public.csv", "public.csv")

    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(url.replace("public.csv", "private.csv"))
    assert error.value.code == 403


def test_an_expired_s3_download_url_is_forbidden(s3_store, settings):
    s3_store.put_bytes("r.csv", b"x")
    settings.STORE_URL_MAX_AGE = 1
    url = s3_store.download_url("r.csv", "r.csv")

    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(url)
    assert error.value.code == 403


def test_s3_download_url_is_signed_for_the_public_endpoint(s3_server, settings):  # noqa: F811
    config = s3_server.store_config(bucket=fresh_bucket())
    config["public_endpoint_url"] = "https://files.example.org"

    url = S3Store(config).download_url("r.csv", "r.csv")

    assert url.startswith(f"https://files.example.org/{config['bucket']}/r.csv?")


def test_s3_creates_a_missing_bucket_on_first_write(s3_server):  # noqa: F811
    config = s3_server.store_config(bucket=fresh_bucket())
    client = s3_server.client()
    with pytest.raises(ClientError):
        client.head_bucket(Bucket=config["bucket"])

    S3Store(config).put_bytes("first", b"1")

    client.head_bucket(Bucket=config["bucket"])
    assert client.get_object(Bucket=config["bucket"], Key="first")["Body"].read() == b"1"


def test_s3_check_creates_a_missing_bucket(s3_server):  # noqa: F811
    config = s3_server.store_config(bucket=fresh_bucket())

    S3Store(config).check()

    s3_server.client().head_bucket(Bucket=config["bucket"])


def test_s3_keys_live_under_the_configured_prefix(s3_store, s3_server):  # noqa: F811
    s3_store.put_bytes("runs/1/log.txt", b"x")

    listed = s3_server.client().list_objects_v2(Bucket=s3_store.bucket)
    assert [item["Key"] for item in listed["Contents"]] == [f"{S3_PREFIX}/runs/1/log.txt"]
    assert keys(s3_store.list("")) == ["runs/1/log.txt"]


def test_s3_without_a_prefix_uses_bare_keys(s3_server):  # noqa: F811
    config = s3_server.store_config(bucket=fresh_bucket())
    store = S3Store(config)
    store.put_bytes("top.txt", b"x")

    listed = s3_server.client().list_objects_v2(Bucket=config["bucket"])
    assert [item["Key"] for item in listed["Contents"]] == ["top.txt"]
    assert keys(store.list("")) == ["top.txt"]


def test_s3_sends_a_trickling_stream_in_full_size_parts(s3_store, s3_server):  # noqa: F811
    # S3 refuses parts under 5 MiB (EntityTooSmall); the ETag's suffix counts the parts.
    s3_store.put_stream("trickle.bin", Trickle(20 * MB + 123, piece=4096))

    head = s3_server.client().head_object(Bucket=s3_store.bucket, Key=f"{S3_PREFIX}/trickle.bin")
    assert head["ETag"].strip('"').endswith("-3")


def test_s3_with_a_wrong_secret_fails_the_check(s3_server):  # noqa: F811
    config = s3_server.store_config(bucket=fresh_bucket())
    S3Store(config).check()
    config["secret_access_key"] = "not-the-secret"

    with pytest.raises(ClientError):
        S3Store(config).check()
    with pytest.raises(ClientError) as error:
        S3Store(config).get_bytes("anything")
    assert error.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_s3_server_fixture_gives_a_complete_store_setting(s3_server):  # noqa: F811
    config = s3_server.store_config(bucket="some-bucket", prefix="p")

    assert config == {
        "kind": "s3",
        "bucket": "some-bucket",
        "prefix": "p",
        "endpoint_url": s3_server.endpoint_url,
        "public_endpoint_url": s3_server.endpoint_url,
        "access_key_id": s3_server.access_key_id,
        "secret_access_key": s3_server.secret_access_key,
        "region": s3_server.region,
    }
