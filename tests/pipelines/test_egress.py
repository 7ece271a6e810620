"""The network gate: HTTPS tunnels to public addresses only, never to the service's hosts."""

import ipaddress
import socket
import socketserver
import tempfile
import threading
from pathlib import Path

import pytest

from pipelines.runner import egress


@pytest.fixture(autouse=True)
def worker_dir(settings, tmp_path):
    """The gate makes its folder in the worker's."""
    settings.WORKER_DIR = tmp_path / "worker"
    return settings.WORKER_DIR


class Echo(socketserver.ThreadingTCPServer):
    """A TCP server on `host` that sends back what it gets."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str) -> None:
        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                while data := self.request.recv(4096):
                    self.request.sendall(data)

        super().__init__((host, 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


@pytest.fixture
def echo():
    servers = []

    def start(host: str) -> Echo:
        servers.append(Echo(host))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def through(gate: egress.Gate, request: bytes) -> tuple[bytes, socket.socket]:
    """The gate's answer's head to `request`, and the connection, still open."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(10)
    connection.connect(str(gate.socket))
    connection.sendall(request)
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = connection.recv(4096)
        if not data:
            break
        answer += data
    return answer, connection


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",  # a cloud's metadata service
        "0.0.0.0",  # noqa: S104 - an address under test, not bound
        "224.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_the_gate_refuses_loopback_private_and_link_local_addresses(address, settings):
    settings.EGRESS_ALLOW = []
    assert not egress.Rules().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "203.0.113.80", "2001:4860:4860::8888"])
def test_the_gate_permits_other_addresses(address, settings):
    settings.EGRESS_ALLOW = []
    assert egress.Rules().permits(ipaddress.ip_address(address))


def test_the_gate_refuses_the_hosts_own_addresses(settings):
    settings.EGRESS_ALLOW = []
    rules = egress.Rules()
    assert rules.own, "the kernel's tables list no address of this host"
    assert not any(rules.permits(address) for address in rules.own)


def test_a_range_the_operator_allows_is_permitted(settings):
    settings.EGRESS_ALLOW = ["10.20.0.0/16"]
    rules = egress.Rules()
    assert rules.permits(ipaddress.ip_address("10.20.3.4"))
    assert not rules.permits(ipaddress.ip_address("10.21.3.4"))


def test_a_tunnel_to_a_permitted_address_carries_bytes_both_ways(echo, settings):
    settings.EGRESS_ALLOW = ["127.0.0.2/32"]
    server = echo("127.0.0.2")
    with egress.gate() as gate:
        request = f"CONNECT 127.0.0.2:{server.port} HTTP/1.1\r\n\r\n".encode()
        answer, connection = through(gate, request)
        with connection:
            assert answer.startswith(b"HTTP/1.1 200")
            connection.sendall(b"hello")
            assert connection.recv(5) == b"hello"
    assert gate.server.refusals == []


def test_a_tunnel_to_the_hosts_services_is_refused_and_the_reason_kept(echo, settings):
    settings.EGRESS_ALLOW = []
    server = echo("127.0.0.1")
    with egress.gate() as gate:
        request = f"CONNECT localhost:{server.port} HTTP/1.1\r\n\r\n".encode()
        answer, connection = through(gate, request)
        connection.close()
    assert answer.startswith(b"HTTP/1.1 403")
    refusal = str(gate.server.refusals[0])
    assert f"localhost:{server.port} is at" in refusal
    assert "out of a sandbox's reach" in refusal


@pytest.mark.parametrize(
    ("request_head", "reason"),
    [
        (b"GET http://example.com/ HTTP/1.1\r\n\r\n", "Only HTTPS"),
        (b"CONNECT example.com HTTP/1.1\r\n\r\n", "not a host and port"),
        (b"CONNECT example.com:0 HTTP/1.1\r\n\r\n", "not a host and port"),
        (b"CONNECT " + b"a" * 20000, "too long"),
    ],
)
def test_what_is_not_a_tunnel_request_is_refused(request_head, reason):
    with egress.gate() as gate:
        answer, connection = through(gate, request_head)
        connection.close()
    assert answer.startswith(b"HTTP/1.1 403")
    assert reason in str(gate.server.refusals[0])


def test_the_gates_folder_is_the_workers_own_and_goes_with_it(worker_dir):
    with egress.gate() as gate:
        assert gate.socket.is_socket()
        assert (gate.folder / "bridge.py").is_file()
        assert gate.folder.parent == worker_dir / "gates"
    assert not gate.folder.exists()


def test_a_worker_folder_too_deep_for_a_socket_puts_the_gate_in_the_temporary_folder(
    settings, tmp_path
):
    settings.WORKER_DIR = tmp_path / ("deep" * 30) / "worker"
    with egress.gate() as gate:
        assert gate.socket.is_socket()
        assert gate.folder.parent == Path(tempfile.gettempdir())
    assert not gate.folder.exists()
