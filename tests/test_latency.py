"""The simulated distance between regions (tests/latency.py, tests/fly_proxy.py)."""

import contextlib
import http.server
import socket
import threading
import time

from tests.fly_proxy import FlyProxy, Machine
from tests.latency import DelayedLink

ONE_WAY_MS = 150


@contextlib.contextmanager
def echo_server():
    """A TCP server that sends back what it gets, until the client stops sending."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve(connection):
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def receive(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the link closed early"
        data += chunk
    return data


def test_a_link_delays_each_way_and_carries_every_byte_in_order():
    message = bytes(range(256)) * 4096  # 1 MiB, several chunks
    with (
        echo_server() as port,
        DelayedLink(port, ONE_WAY_MS) as link,
        socket.create_connection(("127.0.0.1", link.port)) as sock,
    ):
        started = time.monotonic()
        sock.sendall(message)
        assert receive(sock, len(message)) == message
        elapsed = time.monotonic() - started
        sock.shutdown(socket.SHUT_WR)
        # The server saw the end late and closed; that reaches the client too.
        assert sock.recv(1) == b""
    assert elapsed >= 2 * ONE_WAY_MS / 1000


def test_a_link_adds_latency_not_a_wait_per_message():
    """Five messages sent at once come back about one round trip later, not five."""
    with (
        echo_server() as port,
        DelayedLink(port, ONE_WAY_MS) as link,
        socket.create_connection(("127.0.0.1", link.port)) as sock,
    ):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        for index in range(5):
            sock.sendall(b"message %d;" % index)
            time.sleep(0.01)
        received = b""
        while received.count(b";") < 5:
            received += sock.recv(1024)
        elapsed = time.monotonic() - started
    assert received == b"".join(b"message %d;" % index for index in range(5))
    assert 2 * ONE_WAY_MS / 1000 <= elapsed < 5 * 2 * ONE_WAY_MS / 1000


def test_a_link_to_a_server_that_is_not_there_drops_the_connection():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        closed_port = placeholder.getsockname()[1]
    with (
        DelayedLink(closed_port, ONE_WAY_MS) as link,
        socket.create_connection(("127.0.0.1", link.port), timeout=10) as sock,
        contextlib.suppress(ConnectionResetError),
    ):
        assert sock.recv(1) == b""


def machine_answering(replay_writes: bool):
    """A machine that answers 200, or (replay_writes) sends /write on to fra, as sjc's does."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            if replay_writes and self.path == "/write":
                self.send_header("fly-replay", "region=fra")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    machine = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=machine.serve_forever, daemon=True).start()
    return machine


def test_the_proxy_makes_a_replay_to_the_far_region_wait_there_and_back():
    fra, sjc = machine_answering(False), machine_answering(True)
    proxy = FlyProxy(
        [
            Machine("fra", f"http://127.0.0.1:{fra.server_address[1]}", "1"),
            Machine("sjc", f"http://127.0.0.1:{sjc.server_address[1]}", "2"),
        ],
        one_way_ms=lambda a, b: ONE_WAY_MS,
    )
    timed = {}
    try:
        for path in ("/read", "/write"):
            started = time.monotonic()
            status, _, body = proxy.forward("sjc", "GET", path, [("Host", "localhost")], b"")
            timed[path] = time.monotonic() - started
            assert (status, body) == (200, b"ok")
    finally:
        for machine in (fra, sjc):
            machine.shutdown()
            machine.server_close()
    assert [hop[:2] for hop in proxy.hops] == [("sjc", "sjc"), ("sjc", "sjc"), ("sjc", "fra")]
    assert timed["/write"] >= 2 * ONE_WAY_MS / 1000
    assert timed["/read"] < 2 * ONE_WAY_MS / 1000
