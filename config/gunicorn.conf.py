"""gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Values come from the environment (PORT, HOST, WEB_CONCURRENCY, GUNICORN_TIMEOUT) so the same
file serves `make run`, the container and Fly.
"""

import gc
import os
import sys

# Loading Django and Wagtail creates hundreds of thousands of objects that live as long as the
# process; the cyclic collector would walk them again and again while they load (the import takes
# about 14% less CPU without it). It is off until the app is loaded, then those objects are frozen
# out of its sight (when_ready, below). Only when gunicorn runs this file: a test reading the
# settings keeps its collector.
if "gunicorn" in os.path.basename(sys.argv[0]) or sys.argv[0].endswith("gunicorn/__main__.py"):
    gc.disable()

# Listen on every interface in the container (Fly's proxy connects from outside it);
# `make run` sets HOST=127.0.0.1.
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104

# Sync workers: one request each at a time. With the master and the publishing loop, 2 workers
# need about 270 MB (proportional set size, measured by make image-test): fly.toml asks for 512 MB.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's sync worker, except that on SIGTERM it also answers connections already waiting in
# the listen queue instead of leaving them to be reset (config/upstream/gunicorn.py). make bench
# runs gunicorn's threaded worker (gthread, which keeps connections open) beside it: slower on
# cached pages and on misses here, and larger (the docs' Operations > Performance page).
worker_class = "config.upstream.gunicorn.DrainingSyncWorker"

# Import Django once in the master so workers fork warm: faster cold starts, shared memory.
preload_app = True

# A request taking longer than this is killed and logged.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (Fly stopping a machine), finish in-flight requests for up to this long.
# fly.toml's kill_timeout is longer, so Fly does not SIGKILL before this ends.
graceful_timeout = 20
keepalive = 5

# Recycle workers now and then so a slow leak can never grow without bound.
# 0 turns recycling off (the benchmark does, to measure memory growth honestly).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# Heartbeat files in memory, not on the container's overlay filesystem.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn only writes heartbeat files there)
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None

# gunicorn 24+ opens a control socket under $HOME by default; nothing here uses it, and the
# container's non-root user has no writable home.
control_socket_disable = True

# Access log to stdout (where `fly logs` reads it), with the time taken in microseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'
# The same lines, computing only the atoms that format names (config/upstream/gunicorn.py).
# gunicorn switches to its statsd logger only while logger_class is its default, so with this
# one a statsd_host setting sends nothing.
logger_class = "config.upstream.gunicorn.AccessLogger"


def _settings_or_exit():
    """Load settings before forking so a missing variable is one line, not a traceback."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.env import ConfigurationError

    try:
        from django.conf import settings

        settings.SECRET_KEY  # noqa: B018 (touching it imports the settings module)
    except ConfigurationError as error:
        sys.exit(f"error: {error}")


_settings_or_exit()


def when_ready(server):
    """The app is loaded (preload_app): load what a first request would (config.wsgi.warm), so
    every worker forks with it; then freeze every object there is, so no worker's collector
    walks them again (walking them writes to the memory pages the workers share with the
    master). There is no collection first, as Python's documentation of gc.freeze advises for
    a forking server: with the collector off while the app loaded, a full collection took
    0.11-0.14 s of every cold start (about a tenth of it) and found some 4,700 unreachable
    objects among the 150,000 it tracks, which stay frozen in the master's memory. The total
    PSS of the master and two workers came out 3 to 4 MB lower without it (164 against 167.5 MB
    after two seconds of load on each page type, two runs each): the gaps a collection leaves
    are filled by each worker's own allocations, on pages it then has to copy."""
    from config.wsgi import warm

    warm()
    gc.freeze()
    gc.enable()


def pre_fork(server, worker):
    """Close any connection the master opened so workers never share a database socket."""
    from django.db import connections

    connections.close_all()


def post_fork(server, worker):
    """A reload (SIGHUP) runs this file again in the master, turning the collector off, and
    when_ready does not run again: every worker turns it back on for itself."""
    gc.enable()
