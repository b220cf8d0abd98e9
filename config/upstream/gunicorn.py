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
"""

import errno

from gunicorn import util
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
