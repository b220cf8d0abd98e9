"""A small stand-in for Fly's proxy that honours `fly-replay`, for the multi-region rehearsal.

Each edge region gets a loopback port; a request there goes to a machine of that region (the
nearest, as Anycast would pick). When the machine's answer carries `fly-replay: region=<code>`,
that answer is dropped and the same request (method, path, headers, body) is sent to a machine of
the named region, with `fly-replay-src: instance=<id>;region=<code>;t=<microseconds>` added, as
Fly's docs describe; the reader gets the second machine's answer. A request body over 1 MB
cannot be replayed (Fly's documented limit), and a region with no machine is an error, as on Fly.
Like Fly's proxy it terminates TLS: machines get `X-Forwarded-Proto: https` and `Fly-Region`.

Regions can be made far apart (`one_way_ms`): a request sent from one region's edge to a machine
in another waits that long on the way there and again on the way back, as the replay of a write
from sjc to fra crosses an ocean on Fly. Every forwarded request is recorded in `hops`: (edge
region, machine region, method, path, status), so a test can see where each request was served.
"""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

REPLAY_LIMIT_BYTES = 1024 * 1024
# Hop-by-hop headers a proxy never forwards.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@dataclass
class Machine:
    region: str
    url: str
    machine_id: str


def replay_regions(header: str) -> list[str]:
    """The regions a `fly-replay` value asks for, in order (`region=sjc` or `region="iad,ord"`)."""
    for field in header.split(";"):
        name, _, value = field.strip().partition("=")
        if name.strip().lower() == "region":
            return [code.strip() for code in value.strip().strip('"').split(",") if code.strip()]
    return []


class FlyProxy:
    """Edge listeners for each region that has a machine; `edge(region)` is its base URL."""

    def __init__(self, machines: list[Machine], one_way_ms=None):
        self.machines = machines
        # One-way delay between an edge region and a machine's region (tests/latency.py):
        # a function of the two region codes, in milliseconds; none by default.
        self.one_way_ms = one_way_ms or (lambda edge, region: 0)
        self.hops: list[tuple[str, str, str, str, int]] = []
        self._servers: dict[str, http.server.ThreadingHTTPServer] = {}
        self._lock = threading.Lock()

    def machine_in(self, region: str) -> Machine | None:
        return next((machine for machine in self.machines if machine.region == region), None)

    def edge(self, region: str) -> str:
        host, port = self._servers[region].server_address[:2]
        return f"http://{host}:{port}"

    def start(self, ports: dict[str, int] | None = None) -> FlyProxy:
        for region in dict.fromkeys(machine.region for machine in self.machines):
            handler = self._handler(region)
            port = (ports or {}).get(region, 0)
            listener = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
            listener.daemon_threads = True
            threading.Thread(target=listener.serve_forever, daemon=True).start()
            self._servers[region] = listener
        return self

    def stop(self) -> None:
        for listener in self._servers.values():
            listener.shutdown()
            listener.server_close()

    def __enter__(self) -> FlyProxy:
        # `with FlyProxy(...).start(ports):` has started it already.
        return self if self._servers else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def forward(self, edge_region: str, method: str, path: str, headers, body: bytes):
        """Status, headers and body the reader gets for one request arriving at this edge."""
        machine = self.machine_in(edge_region)
        sent = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        sent = [
            (n, v)
            for n, v in sent
            if n.lower() not in {"fly-replay-src", "fly-region", "x-forwarded-proto"}
        ]
        sent += [("X-Forwarded-Proto", "https"), ("Fly-Region", edge_region)]
        answer = self._send(machine, method, path, sent, body, self._distance(edge_region, machine))
        self._record(edge_region, machine.region, method, path, answer[0])
        replay = next((v for n, v in answer[1] if n.lower() == "fly-replay"), None)
        if replay is None:
            return answer
        if len(body) > REPLAY_LIMIT_BYTES:
            return _error(502, "fly-replay: the request body is over 1 MB and cannot be replayed")
        target = next(
            (m for m in map(self.machine_in, replay_regions(replay)) if m is not None), None
        )
        if target is None:
            return _error(502, f"fly-replay: no machine in {replay}")
        micros = time.time_ns() // 1000
        source = f"instance={machine.machine_id};region={machine.region};t={micros}"
        replayed = [*sent, ("fly-replay-src", source)]
        answer = self._send(
            target, method, path, replayed, body, self._distance(edge_region, target)
        )
        self._record(edge_region, target.region, method, path, answer[0])
        # A replayed request is not replayed again: Fly's proxy passes a second header on.
        return answer

    def _record(self, edge: str, region: str, method: str, path: str, status: int) -> None:
        with self._lock:
            self.hops.append((edge, region, method, path, status))

    def _distance(self, edge_region: str, machine: Machine) -> float:
        """Seconds each way between the edge and the machine."""
        return (
            0.0
            if edge_region == machine.region
            else self.one_way_ms(edge_region, machine.region) / 1000
        )

    @staticmethod
    def _send(machine: Machine, method: str, path: str, headers, body: bytes, one_way: float = 0.0):
        """The machine's answer, `one_way` seconds there and as many back."""
        if one_way:
            time.sleep(one_way)
        parts = urlsplit(machine.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() != "content-length":
                    connection.putheader(name, value)
            if body or method not in ("GET", "HEAD"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            answer = response.status, response.getheaders(), response.read()
        finally:
            connection.close()
        if one_way:
            time.sleep(one_way)
        return answer

    def _handler(self, edge_region: str):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out as separate writes: without this, Nagle's algorithm
                # and the client's delayed ACK add tens of milliseconds to some answers.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = proxy.forward(
                    edge_region, self.command, self.path, self.headers.items(), body
                )
                self.send_response_only(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _any

            def log_message(self, format, *args):
                pass

        return Handler


def _error(status: int, text: str):
    return status, [("Content-Type", "text/plain; charset=utf-8")], (text + "\n").encode()
