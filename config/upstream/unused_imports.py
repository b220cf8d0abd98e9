"""Not loading what the site installs but never uses: Wagtail's v3 API, and on SQLite the
PostgreSQL fields Django REST framework looks for.

Wagtail 8's images, documents, snippets and redirects apps each end their `ready()` by importing
their v3 API router and adding it to `wagtail.api.v3.api.api`, whether or not the API is
installed or routed. This site neither installs `wagtail.api.v3` nor routes its URLs, so those
routers are never reached, yet importing them is about a quarter of the site's start-up
(django-ninja, pydantic schemas for every model, and through the redirects API, Django REST
framework).

While Django loads its apps, `leave_unserved_api_unloaded()` answers those few imports with
stand-ins that accept the registration and do nothing; they stay what those names are for the
life of the process (nothing here serves the API they stand for). Once the apps are loaded it
answers no other import. With `wagtail.api.v3` in INSTALLED_APPS it does nothing at all.

Django REST framework (which the admin's page explorer uses) imports `django.contrib.postgres`'s
fields if it can, and with them psycopg, about a tenth of the start-up; it does without them
when that import fails. With SQLite nothing can use those fields, so the import fails there.

tests/test_upstream.py checks that Wagtail's apps still import exactly these modules, and that
neither the API's libraries nor psycopg load on SQLite.
"""

import importlib.abc
import importlib.machinery
import sys
import types

from django.apps import apps
from django.conf import settings

API_APP = "wagtail.api.v3"


class UnservedAPI:
    """Stands in for `wagtail.api.v3.api.api`: takes routers and serves nothing."""

    def add_router(self, prefix, router, **kwargs) -> None:
        pass


def _register_nothing() -> None:
    pass


# Each module an app's ready() imports for the API, with the names it takes from it.
STAND_INS: dict[str, dict] = {
    "wagtail.api.v3.api": {"api": UnservedAPI()},
    "wagtail.images.api.v3.registry": {"register_content_types": _register_nothing},
    "wagtail.images.api.v3.router": {"router": None},
    "wagtail.documents.api.v3.registry": {"register_content_types": _register_nothing},
    "wagtail.documents.api.v3.router": {"router": None},
    "wagtail.snippets.api.v3": {"register_content_types": _register_nothing},
    "wagtail.snippets.api.v3.router": {"router": None},
    # Its package's __init__ imports the v2 API, that is Django REST framework.
    "wagtail.contrib.redirects.api": {},
    "wagtail.contrib.redirects.api.v3": {"router": None},
}
# Stand-ins other modules are imported from.
PACKAGES = {"wagtail.snippets.api.v3", "wagtail.contrib.redirects.api"}


# Never imported with SQLite (Django REST framework's optional import of them fails instead).
POSTGRESQL_ONLY = "django.contrib.postgres.fields"


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self.sqlite = False

    def find_spec(self, name, path=None, target=None):
        if name == POSTGRESQL_ONLY and self.sqlite:
            raise ImportError(
                f"{name} is not loaded with SQLite (config/upstream/unused_imports.py)"
            )
        if name not in STAND_INS or apps.ready:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=name in PACKAGES)

    def create_module(self, spec):
        module = types.ModuleType(spec.name, "A stand-in: see config/upstream/unused_imports.py.")
        if spec.name in PACKAGES:
            module.__path__ = []
        module.__dict__.update(STAND_INS[spec.name])
        return module

    def exec_module(self, module) -> None:
        pass


FINDER = _StandInFinder()


def leave_unused_modules_unloaded() -> None:
    """Answer the API's imports with stand-ins while the apps load, and refuse PostgreSQL's
    fields with SQLite (see the module's doc). Call it before Wagtail's apps run their ready()
    (blog's AppConfig does, first)."""
    if API_APP in settings.INSTALLED_APPS or FINDER in sys.meta_path:
        return
    FINDER.sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    sys.meta_path.insert(0, FINDER)
