"""The distance between regions, simulated on loopback for the multi-region rehearsal.

The kernel here cannot delay packets (`tc qdisc ... netem` reports an unknown qdisc kind, and a
network namespace alone adds nothing), so the distance is added in user space. `DelayedLink`
relays TCP connections to a server and holds each chunk of bytes for the one-way delay in each
direction, as a long link does: chunks follow one another without waiting for the previous one's
delay, so it adds latency, not a bandwidth limit. The stand-in for Fly's proxy adds the same
delay to a request it sends to a machine in another region (tests/fly_proxy.py).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time

CHUNK_BYTES = 64 * 1024


class DelayedLink:
    """A loopback port that relays to (host, port), `one_way_ms` later in each direction.

    `with DelayedLink(5432, 75) as link:` (or `link = DelayedLink(5432, 75).start()` and
    `link.close()`), then connect to `link.port`.
    """

    def __init__(self, target_port: int, one_way_ms: float, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.delay = one_way_ms / 1000
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> DelayedLink:
        threading.Thread(target=self._accept, daemon=True, name="delayed-link").start()
        return self

    def __enter__(self) -> DelayedLink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                # As an unreachable server looks: the connection is dropped.
                _close(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.update((client, upstream))
            ends = threading.Semaphore(0)
            self._carry(client, upstream, ends)
            self._carry(upstream, client, ends)
            threading.Thread(
                target=self._forget, args=(client, upstream, ends), daemon=True
            ).start()

    def _forget(self, client: socket.socket, upstream: socket.socket, ends) -> None:
        """Close a connection's two sockets once both directions have ended."""
        ends.acquire()
        ends.acquire()
        with self._lock:
            self._open.difference_update((client, upstream))
        _close(client)
        _close(upstream)

    def _carry(self, source: socket.socket, sink: socket.socket, ends) -> None:
        """One direction: read as bytes come, write each chunk once its delay has passed."""
        held: queue.Queue = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = source.recv(CHUNK_BYTES)
                except OSError:
                    data = b""
                held.put((time.monotonic() + self.delay, data))
                if not data:
                    return

        def write() -> None:
            try:
                deliver()
            finally:
                ends.release()

        def deliver() -> None:
            while True:
                due, data = held.get()
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if not data:
                    # The end of this direction arrives late too.
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                    return
                try:
                    sink.sendall(data)
                except OSError:
                    _close(source)
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
