"""Inside a sandbox: an HTTP proxy's address on the sandbox's own loopback, whose every
connection goes on, through a unix socket bound into the sandbox, to the worker's gate
(egress.py): the sandbox's only way out.

`python -I bridge.py GATE -- COMMAND...` serves while COMMAND runs and exits with its code.
It runs in the sandbox with the sandbox's Python, so it uses the standard library only.
"""

import contextlib
import socket
import subprocess
import sys
import threading

PORT = 3128
CHUNK = 65536


def relay(source: socket.socket, target: socket.socket) -> None:
    """Bytes from `source` to `target` until `source` ends; then `target` ends its writing."""
    with contextlib.suppress(OSError):
        while data := source.recv(CHUNK):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def splice(one: socket.socket, other: socket.socket) -> None:
    """Both ways at once, until both have ended; then both are closed."""
    back = threading.Thread(target=relay, args=(other, one), daemon=True)
    back.start()
    relay(one, other)
    back.join()
    one.close()
    other.close()


def forward(client: socket.socket, gate: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(gate)
    except OSError:
        client.close()
        upstream.close()
        return
    splice(client, upstream)


def accept(listener: socket.socket, gate: str) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=forward, args=(client, gate), daemon=True).start()


def serve(gate: str, port: int = PORT) -> None:
    """Listens on the sandbox's loopback, in a thread of its own."""
    listener = socket.create_server(("127.0.0.1", port))
    threading.Thread(target=accept, args=(listener, gate), daemon=True).start()


if __name__ == "__main__":
    gate, _separator, *command = sys.argv[1:]
    serve(gate)
    sys.exit(subprocess.call(command))
