"""pytest plugin (loaded with `-p tests.environment`) that sets the test environment.

It runs before pytest-django imports the settings, which a conftest.py would be too late for.
Tests run with production settings (DEBUG off) except that the test client speaks plain HTTP,
so the HTTPS redirect is off here; tests of the redirect turn it back on.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.pop("FLY_APP_NAME", None)
os.environ.pop("RELEASE_COMMAND", None)
# Keep tests away from the developer's data/ folder.
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="flightlog-test-data-"))
os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="flightlog-test-static-"))
# Requests in one test would otherwise see pages cached before the test changed them (on-commit
# invalidation never fires inside a test's transaction); tests/test_page_cache.py turns it on.
os.environ["PAGE_CACHE"] = "0"
