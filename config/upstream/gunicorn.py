"""gunicorn: the sync worker, changed so that SIGTERM loses no connection already waiting.

On SIGTERM (Fly stopping a machine on a deploy), gunicorn's master closes its copy of the listening
socket and asks each worker to stop; a sync worker finishes the request in hand and exits. The
socket stays open while any worker holds it, so the kernel keeps accepting connections into its
listen queue meanwhile, and when the last worker exits they are reset: their clients connected and
sent a request, and get no response. This worker, once told to stop, takes every waiting
connection off the socket and closes its copy (once every worker has, new connections are refused
instead of queued), then answers the ones it took before it exits.

It relies on SyncWorker internals that gunicorn does not document as API: `run()` returning once
the worker is told to stop, `sockets` being the listening sockets, `handle(listener, client,
address)` answering one connection and `notify()` keeping the master's timeout away.
tests/test_upstream.py checks that they are still there; tests/test_graceful_shutdown.py that
the behaviour holds.

Also here: AccessLogger (config/gunicorn.conf.py's logger_class), gunicorn's logger with access
lines that cost less to build. It relies on `Logger.access()` formatting whatever `atoms()`
returns through `atoms_wrapper_class`; tests/test_upstream.py checks both, and that its lines
are gunicorn's own.
"""

import errno
from collections.abc import Mapping

from gunicorn import util
from gunicorn.glogging import Logger, SafeAtoms
from gunicorn.workers.sync import SyncWorker


class ListenerAddress:
    """Stands in for a closed listening socket: gunicorn asks it only for its address."""

    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


class DrainingSyncWorker(SyncWorker):
    def run(self):
        super().run()
        for listener, client, address in self.take_waiting_connections():
            # Still alive as far as the master's timeout is concerned.
            self.notify()
            self.handle(listener, client, address)

    def take_waiting_connections(self) -> list:
        waiting = []
        for listener in self.sockets:
            stand_in = ListenerAddress(listener.getsockname())
            listener.setblocking(False)
            while True:
                try:
                    client, address = listener.accept()
                except OSError as error:
                    if error.errno == errno.ECONNABORTED:
                        continue  # that client gave up already; the next may be waiting
                    break  # nothing left waiting (EAGAIN)
                client.setblocking(True)
                util.close_on_exec(client)
                waiting.append((stand_in, client, address))
            listener.close()
        return waiting


class RequestAtoms(Mapping):
    """One request's access-log atoms, each computed when the format asks for it.

    gunicorn's `Logger.atoms()` builds, for every request, a dict of every atom it knows plus one
    entry per request header, response header and environ variable, then a copy of it with quotes
    escaped (`SafeAtoms`), and its logger formats the line from that. With the access log on, that
    was about a quarter of the CPU of a cached page (make bench; docs page Operations >
    Performance). The atoms config/gunicorn.conf.py's format names are computed here as gunicorn
    computes them; any other (a header's, `%(t)s`, ...) comes from gunicorn's own atoms, built
    once for the request when first asked for, so a forker's format still logs what gunicorn's
    documentation says it does."""

    __slots__ = ("_all", "_environ", "_logger", "_req", "_request_time", "_resp")

    def __init__(self, logger, resp, req, environ, request_time):
        self._logger = logger
        self._resp = resp
        self._req = req
        self._environ = environ
        self._request_time = request_time
        self._all = None

    def __getitem__(self, key):
        environ = self._environ
        if key == "h":
            value = environ.get("REMOTE_ADDR", "-")
        elif key == "r":
            value = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        elif key == "s":
            value = self._resp.status
            if isinstance(value, str):
                value = value.split(None, 1)[0]
        elif key == "B":
            value = getattr(self._resp, "sent", None)
        elif key == "D":
            value = self._request_time.seconds * 1_000_000 + self._request_time.microseconds
        elif key == "a":
            value = environ.get("HTTP_USER_AGENT", "-")
        else:
            if self._all is None:
                atoms = Logger.atoms(
                    self._logger, self._resp, self._req, environ, self._request_time
                )
                self._all = SafeAtoms(atoms)
            return self._all[key]
        if isinstance(value, str):
            return value.replace('"', '\\"')
        return value

    def __iter__(self):
        return iter(("h", "r", "s", "B", "D", "a"))

    def __len__(self):
        return 6


def _as_they_are(atoms):
    return atoms


class AccessLogger(Logger):
    """gunicorn's logger, whose access lines are formatted from RequestAtoms (above), which
    escapes quotes itself (gunicorn's wrapper would copy every atom first)."""

    atoms_wrapper_class = staticmethod(_as_they_are)

    def atoms(self, resp, req, environ, request_time):
        return RequestAtoms(self, resp, req, environ, request_time)
