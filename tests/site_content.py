"""pytest fixtures for the reader-site tests (pages, blocks, feeds, search, sitemap).

Test modules load them with `pytest_plugins = ["tests.site_content"]`.
"""

import pytest


@pytest.fixture
def collected_static(settings, static_root):
    """Serve {% static %} from a fresh collectstatic (hashed names, as in production), so page
    tests never depend on a developer's stale staticfiles/ folder."""
    settings.STATIC_ROOT = static_root
    return static_root
