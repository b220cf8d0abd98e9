"""Only config/upstream/ leans on Django, Wagtail or gunicorn internals, and what it leans on
still holds.

A release that renames a private attribute must not turn every page into a 500. So the
application's code reads and writes only public attributes of those libraries' objects; the few
behaviours no public API offers live in config/upstream/, each checked here against the installed
release, so an upgrade that changes one fails this file rather than the site.
"""

import inspect
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

ROOT = Path(__file__).resolve().parent.parent
APP_CODE = ["blog", "config", "pagecache", "scripts"]
ADAPTER = ROOT / "config" / "upstream"
# `x._name` where x is not self or cls: an attribute some other object keeps to itself.
PRIVATE_ATTRIBUTE = re.compile(r"(?<![\w.])(\w+(?:\.\w+)*)\.(_[a-z]\w*)")
OWN = {"self", "cls"}
# Model._meta is Django's documented API for a model's options and fields.
PUBLIC_BY_DOCUMENTATION = {"_meta"}


def python_files():
    for folder in APP_CODE:
        base = ROOT / folder
        for path in sorted(base.rglob("*")):
            if "migrations" in path.parts or ADAPTER in path.parents or not path.is_file():
                continue
            if path.suffix == ".py" or (path.parent.name == "scripts" and path.suffix == ""):
                text = path.read_text(errors="replace")
                if path.suffix == ".py" or text.startswith("#!/usr/bin/env python"):
                    yield path, text


def private_uses(text: str) -> list[str]:
    uses = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for owner, attribute in PRIVATE_ATTRIBUTE.findall(code):
            if owner not in OWN and attribute not in PUBLIC_BY_DOCUMENTATION:
                uses.append(f"{number}: {owner}.{attribute}")
    return uses


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("response.headers._store.update(x)", ["1: response.headers._store"]),
        ("request._wagtail_site = site", ["1: request._wagtail_site"]),
        ("self._values = {}", []),
        ("self.request._wagtail_site", ["1: self.request._wagtail_site"]),
        ("cls._cache = None", []),
        ("page._meta.verbose_name", []),
        ("x = 1  # response._csp_config in a comment", []),
        ("getattr(self, '_published', None)", []),
    ],
)
def test_the_check_sees_private_attributes_of_other_objects(line, found):
    assert private_uses(line) == found


def test_no_code_outside_the_adapter_uses_a_private_attribute():
    found = {
        str(path.relative_to(ROOT)): uses
        for path, text in python_files()
        if (uses := private_uses(text))
    }
    assert not found, (
        "private attributes of other objects (use a public API, or move the use into "
        f"config/upstream/ with a test here): {found}"
    )


def test_getattr_and_setattr_name_no_private_attribute_outside_the_adapter():
    dynamic = re.compile(r"\b(?:get|set|has)attr\([^,]+,\s*[\"'](_[a-z]\w*)[\"']")
    found = {
        str(path.relative_to(ROOT)): sorted(set(dynamic.findall(text)))
        for path, text in python_files()
        if dynamic.search(text)
    }
    assert not found, found


# --- What config/upstream/ relies on -----------------------------------------------------------


@pytest.mark.django_db
def test_wagtail_answers_find_for_request_from_the_site_given_to_the_request(
    django_assert_num_queries,
):
    """config/upstream/wagtail.py: Site.find_for_request returns what the request carries."""
    from wagtail.models import Site

    from config.upstream.wagtail import give_request_its_site

    site = Site.objects.get()
    request = RequestFactory().get("/")
    give_request_its_site(request, site)
    with django_assert_num_queries(0):
        assert Site.find_for_request(request) is site


def test_gunicorn_sync_worker_still_has_what_the_draining_worker_uses():
    """config/upstream/gunicorn.py: run() returns once the worker stops, then it answers the
    connections it takes off the listening sockets with handle(), calling notify() between."""
    from gunicorn.workers.base import Worker
    from gunicorn.workers.sync import SyncWorker

    assert list(inspect.signature(SyncWorker.handle).parameters) == [
        "self",
        "listener",
        "client",
        "addr",
    ]
    assert callable(SyncWorker.run)
    assert callable(Worker.notify)
    assert "self.sockets" in inspect.getsource(Worker.__init__)


# config/upstream/unused_imports.py: the modules Wagtail's apps import for the v3 API are the ones
# it stands in for, and neither the API's libraries nor PostgreSQL's fields load with SQLite.

API_IMPORT = re.compile(r"from (\.[\w.]+|wagtail\.api\.v3\.api) import")


def test_the_stand_ins_are_exactly_what_wagtails_apps_import_for_the_v3_api():
    from django.apps import apps

    from config.upstream.unused_imports import STAND_INS

    imported = set()
    for config in apps.get_app_configs():
        if not config.name.startswith("wagtail") or "ready" not in type(config).__dict__:
            continue
        for name in API_IMPORT.findall(inspect.getsource(type(config).ready)):
            absolute = name if not name.startswith(".") else config.name + name
            if ".api" in absolute:
                imported.add(absolute)
    stood_in = set(STAND_INS) - {"wagtail.contrib.redirects.api"}  # the parent of its v3
    assert imported == stood_in


def test_a_sqlite_site_loads_neither_the_v3_api_nor_postgresql_and_the_admin_api_still_works(
    tmp_path,
):
    code = (
        "import os, sys; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import config.wsgi\n"
        "from django.urls import reverse\n"
        "print(reverse('wagtailadmin_api:pages:listing'))\n"
        "import rest_framework.compat\n"
        "print(rest_framework.compat.postgres_fields)\n"
        "print(sorted(m for m in ('ninja', 'psycopg', 'django.contrib.postgres.fields')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "s" * 50,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["/admin/api/main/pages/", "None", "[]"], result.stderr


# config/upstream/gunicorn.py's AccessLogger: the lines gunicorn's own logger writes, built
# from only the atoms the format names.


def access_line(
    logger_class, log_format: str, user_agent: str = 'curl/8 "quoted"', **response_fields
) -> str:
    import datetime
    import logging
    from types import SimpleNamespace

    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", log_format)
    loggers = [logging.getLogger("gunicorn.access"), logging.getLogger("gunicorn.error")]
    kept = [list(each.handlers) for each in loggers]
    logger = logger_class(config)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.access_log.handlers = [handler]
    environ = {
        "REMOTE_ADDR": "10.0.0.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/blog/a-post/?page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/blog/a-post/",
        "QUERY_STRING": "page=2",
        "HTTP_USER_AGENT": user_agent,
        "HTTP_FLY_REGION": "fra",
    }
    request = SimpleNamespace(headers=[("USER-AGENT", user_agent), ("FLY-REGION", "fra")])
    response = SimpleNamespace(
        **{
            "status": "200 OK",
            "sent": 1700,
            "headers": [("Content-Type", "text/html"), ("X-Cache", "hit")],
            **response_fields,
        }
    )
    try:
        logger.access(response, request, environ, datetime.timedelta(seconds=1, microseconds=2345))
    finally:
        for each, handlers in zip(loggers, kept, strict=True):
            each.handlers = handlers
    return lines[0]


def test_the_access_logger_writes_the_lines_gunicorns_logger_writes():
    from gunicorn.glogging import Logger

    from config.upstream.gunicorn import AccessLogger

    shipped = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert shipped["logger_class"] == "config.upstream.gunicorn.AccessLogger"
    formats = [
        shipped["access_log_format"],
        # Atoms it does not compute itself come from gunicorn's: a header's, the response's,
        # an environ variable's, ones it does not know ("-"), and the rest of gunicorn's list.
        '%(h)s %({fly-region}i)s %({x-cache}o)s %({query_string}e)s %(nope)s %(b)s "%(f)s"',
        "%(m)s %(U)s %(q)s %(H)s %(T)s %(M)s %(L)s %(l)s %(u)s",
    ]
    for log_format in formats:
        ours = access_line(AccessLogger, log_format)
        assert ours == access_line(Logger, log_format)
    # A response that sent nothing yet, and a status gunicorn was given as a number.
    for fields in ({"sent": None}, {"status": 304}):
        ours = access_line(AccessLogger, shipped["access_log_format"], **fields)
        assert ours == access_line(Logger, shipped["access_log_format"], **fields)
    assert access_line(AccessLogger, shipped["access_log_format"]) == (
        '10.0.0.7 "GET /blog/a-post/?page=2 HTTP/1.1" 200 1700 1002345us "curl/8 \\"quoted\\""'
    )
    assert access_line(AccessLogger, "%({fly-region}i)s %({x-cache}o)s") == "fra hit"


def test_gunicorns_logger_still_formats_what_atoms_returns_through_its_wrapper():
    """AccessLogger relies on Logger.access() passing atoms() through atoms_wrapper_class."""
    from gunicorn.glogging import Logger

    assert list(inspect.signature(Logger.atoms).parameters) == [
        "self", "resp", "req", "environ", "request_time",
    ]  # fmt: skip
    assert "self.atoms_wrapper_class(" in inspect.getsource(Logger.access)


# pyproject.toml leaves Beautiful Soup's CSS selector engine (soupsieve) out.

# bs4's CSS methods on a tag, those of its `.css` object, and soupsieve used directly.
CSS_SELECTING = re.compile(
    r"\.(?:select|select_one)\("
    r"|\.css\.(?:select|select_one|iselect|closest|match|filter|compile|escape)\("
    r"|\bsoupsieve\b"
)


def test_no_wagtail_code_selects_by_css_so_soupsieve_can_be_left_out():
    import bs4
    import wagtail

    package = Path(wagtail.__file__).parent
    selecting = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "tests" not in path.parts
        and not path.name.startswith("test")
        and "test" not in path.relative_to(package).parts[:1]
        and CSS_SELECTING.search(path.read_text(encoding="utf-8"))
    ]
    assert selecting == []
    assert CSS_SELECTING.search("soup.select_one('a')")  # the pattern finds what it looks for
    with pytest.raises(ImportError):
        import soupsieve  # noqa: F401
    assert bs4.BeautifulSoup("<p>a</p>", "html.parser").p.get_text() == "a"
