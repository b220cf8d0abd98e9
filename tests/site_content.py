"""pytest fixtures for the reader-site tests (pages, blocks, feeds, search, sitemap).

Test modules load them with `pytest_plugins = ["tests.site_content"]`.
"""

import pytest


@pytest.fixture
def rendering(settings, static_root):
    """Pages as the app renders them.

    {% static %} resolves against a fresh collectstatic (hashed names, as in production), so the
    tests never depend on a developer's stale staticfiles/ folder; and the whole-page cache in
    front of the app is off, so each request shows what the database holds right now.
    """
    settings.STATIC_ROOT = static_root
    # tests/conftest.py turns hashed names off for every other test; these render as production.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.PAGE_CACHE_ENABLED = False
    return static_root
