"""The network gate: a sandbox's way out to the Internet that keeps the service's hosts out.

A sandbox with the gate has no network of its own but loopback. Its programs use an HTTP
proxy there (bridge.py), which passes each connection through a unix socket to the gate,
in the worker. The gate opens HTTPS tunnels (CONNECT) only: it resolves the name once,
refuses every address of the host itself and of loopback, private, shared, link-local
(a cloud's metadata service), multicast and reserved ranges, where the service, its
database, broker and store live, and connects to the address it checked, so a name that
resolves otherwise a second time reaches nothing more. `EGRESS_ALLOW` names ranges the
operator opens all the same (a package index on the private network, say).
"""

import contextlib
import ipaddress
import os
import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.wording import Said, said_of, say
from pipelines.runner import bridge
from pipelines.runner.workspace import worker_folder

HEAD_MAX_BYTES = 16384
TIMEOUT_SECONDS = 15
PROXY = f"http://127.0.0.1:{bridge.PORT}"
LOCAL = "localhost,127.0.0.1,::1"
GATE_REFUSED = gettext_noop("%(error)s\nThe network gate refused: %(refusal)s")
# Why the gate refused a connection, said in the run's log.
UNRESOLVED = gettext_noop("%(host)s could not be resolved (%(error)s).")
OUT_OF_REACH = gettext_noop(
    "%(target)s is at %(addresses)s: the host itself or a private network, out of a sandbox's "
    "reach (EGRESS_ALLOW opens a range)."
)
NOT_A_TARGET = gettext_noop("%(target)s is not a host and port.")
ONLY_HTTPS = gettext_noop("Only HTTPS goes through the network gate (an HTTP CONNECT request).")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
DENIED = [
    ipaddress.ip_network(network)
    for network in [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ]
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The gate does not open this connection; the message says why, for the run's log."""


def embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where it goes."""
    if address.version == 4:
        return address
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def host_addresses() -> set[Address]:
    """Every address of this host's interfaces, read from the kernel's tables."""
    found: set[Address] = set()
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        for above, line in zip(lines, lines[1:], strict=False):
            if "/32 host LOCAL" in line:
                found.add(ipaddress.IPv4Address(above.split()[-1]))
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    return found


class Rules:
    """Which addresses the gate connects to; the host's addresses are read once, at start."""

    def __init__(self) -> None:
        self.own = {embedded(address) for address in host_addresses()}
        self.allowed = [ipaddress.ip_network(network) for network in settings.EGRESS_ALLOW]

    def permits(self, address: Address) -> bool:
        target = embedded(address)
        if any(target in network for network in self.allowed):
            return True
        return target not in self.own and not any(target in network for network in DENIED)

    def resolve(self, host: str, port: int) -> str:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise Refused(say(UNRESOLVED, host=host, error=str(error))) from None
        addresses = [sockaddr[0] for *_, sockaddr in found]
        for address in addresses:
            if self.permits(ipaddress.ip_address(address.split("%")[0])):
                return address
        raise Refused(say(OUT_OF_REACH, target=f"{host}:{port}", addresses=", ".join(addresses)))


def tunnel_target(head: bytes) -> tuple[str, int]:
    """Host and port of a CONNECT request's head; anything else is refused."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT":
        raise Refused(say(ONLY_HTTPS))
    host, separator, port = parts[1].rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise Refused(say(NOT_A_TARGET, target=repr(parts[1])))
    return host.strip("[]"), int(port)


def read_head(connection: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        data = connection.recv(4096)
        if not data:
            raise Refused(say(gettext_noop("The request ended before its head did.")))
        head += data
        if len(head) > HEAD_MAX_BYTES:
            raise Refused(say(gettext_noop("The request's head is too long.")))
    return head


class Tunnel(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(TIMEOUT_SECONDS)
        try:
            host, port = tunnel_target(read_head(client))
            upstream = socket.create_connection(
                (self.server.rules.resolve(host, port), port), timeout=TIMEOUT_SECONDS
            )
        except (Refused, OSError) as error:
            self.server.refused(said_of(error) or str(error))
            with contextlib.suppress(OSError):
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n")
            return
        client.settimeout(None)
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        bridge.splice(client, upstream)


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str) -> None:
        self.rules = Rules()
        self.refusals: list[Said | str] = []  # the first hundred
        self.refused_count = 0
        super().__init__(path, Tunnel)

    def refused(self, reason: Said | str) -> None:
        self.refused_count += 1
        if len(self.refusals) < 100:
            self.refusals.append(reason)


class Gate:
    """A gate for one sandbox: a folder to bind into it read-only, holding the gate's socket
    and the bridge, and what the sandbox runs its command with."""

    def __init__(self, folder: Path, server: Server) -> None:
        self.folder = folder
        self.server = server

    @property
    def socket(self) -> Path:
        return self.folder / "gate"

    def wrapped(self, python: Path, command: list[str]) -> list[str]:
        """`command` with the bridge serving beside it."""
        return [str(python), "-I", str(self.folder / "bridge.py"), str(self.socket), "--", *command]

    @contextlib.contextmanager
    def explaining(self, failure: type[Exception]) -> Iterator[None]:
        """A `failure` raised in the block also says what the gate refused, if anything."""
        try:
            yield
        except failure as error:
            refusals = self.server.refusals
            if not refusals:
                raise
            before = said_of(error) or str(error)
            raise failure(say(GATE_REFUSED, error=before, refusal=refusals[0])) from error

    @staticmethod
    def environment() -> dict[str, str]:
        """Proxy variables, in both spellings: programs read one or the other."""
        names = {"HTTPS_PROXY": PROXY, "HTTP_PROXY": PROXY, "NO_PROXY": LOCAL}
        return {**names, **{name.lower(): value for name, value in names.items()}}


# The longest path a unix socket may have on Linux.
SOCKET_PATH_MAX_BYTES = 107


def gate_folder() -> Path:
    """A fresh folder in the worker's own, named after the worker's process (so that one
    left by a killed process is known to be lost); under a worker folder too deep for the
    socket's path, in the system's temporary folder."""
    parent, prefix = worker_folder("gates"), f"gate-{os.getpid()}-"
    if len(os.fsencode(parent / f"{prefix}12345678" / "gate")) > SOCKET_PATH_MAX_BYTES:
        parent = None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def gate_owner(folder: Path) -> int | None:
    """The process that made a gate's folder, as its name says."""
    parts = folder.name.split("-")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


@contextlib.contextmanager
def gate() -> Iterator[Gate]:
    """A gate serving while the block runs. Its folder is readable by the sandbox's user;
    so is its socket."""
    folder = gate_folder()
    try:
        folder.chmod(0o755)  # nosec B103 - the sandbox's user reads the bridge and connects
        shutil.copyfile(Path(bridge.__file__), folder / "bridge.py")
        server = Server(str(folder / "gate"))
        (folder / "gate").chmod(0o666)  # nosec B103 - a socket: anyone may connect
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Gate(folder, server)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
