"""The metadata proxy: a small HTTP server listening inside a network's DHCP namespace on
169.254.169.254:80 that forwards GETs to the cloud's metadata endpoint, naming the network and
the client's address as this proxy saw it. Whatever identity headers the guest sends are
dropped: a guest can only ever ask as itself.

It runs in the host's namespace (where the cloud's endpoint is reachable) and makes only its
listening socket inside the tenant namespace, by entering it for the bind and leaving again.
Run as `python -m onestack.network.drivers.linuxbridge.metadata_proxy --netns NS --network-id N
--upstream URL --pid-file F`; the linuxbridge driver starts it detached and stops it."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NETWORK_HEADER = "X-Onestack-Network-Id"
CLIENT_HEADER = "X-Forwarded-For"
# Headers a guest might send to pass for another instance: never forwarded.
IDENTITY_PREFIXES = ("x-forwarded-", "x-onestack-", "x-instance-", "x-tenant-", "x-real-ip")
UPSTREAM_TIMEOUT_S = 10
CLONE_NEWNET = 0x40000000


def forward_headers(sent: dict[str, str], network_id: str, client_ip: str) -> dict[str, str]:
    """The headers the upstream gets: the guest's minus identity ones, plus ours."""
    dropped = ("host", "connection")
    kept = {k: v for k, v in sent.items()
            if not k.lower().startswith(IDENTITY_PREFIXES)
            and k.lower() not in dropped}  # fmt: skip
    return {**kept, NETWORK_HEADER: network_id, CLIENT_HEADER: client_ip}


def _handler(network_id: str, upstream: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = forward_headers(
                dict(self.headers.items()), network_id, self.client_address[0]
            )
            request = urllib.request.Request(upstream.rstrip("/") + self.path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=UPSTREAM_TIMEOUT_S) as answer:
                    self._reply(answer.status, answer.read(), answer.headers.get_content_type())
            except urllib.error.HTTPError as exc:
                self._reply(exc.code, exc.read(), "text/plain")
            except OSError:
                self._reply(502, b"metadata service unreachable\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # guests may ask often; the upstream logs what matters

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="metadata_proxy")
    parser.add_argument("--netns", required=True)
    parser.add_argument("--network-id", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--bind", default="169.254.169.254")
    parser.add_argument("--port", type=int, default=80)
    args = parser.parse_args(argv)
    handler = _handler(args.network_id, args.upstream)
    with _inside(args.netns):
        server = ThreadingHTTPServer((args.bind, args.port), handler)
    with open(args.pid_file, "w") as out:  # written once listening: a present file means ready
        out.write(f"{os.getpid()}\n")
    server.serve_forever()
    return 0


@contextlib.contextmanager
def _inside(netns: str) -> Iterator[None]:
    """Enter the named network namespace for the duration (only a socket made then stays)."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/self/ns/net") as home, open(f"/run/netns/{netns}") as target:
        _setns(libc, target.fileno())
        try:
            yield
        finally:
            _setns(libc, home.fileno())


def _setns(libc: ctypes.CDLL, fd: int) -> None:
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


if __name__ == "__main__":
    raise SystemExit(main())
