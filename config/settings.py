"""Flight Log settings: one module, every deploy-time choice read from the environment.

Each variable is documented in the README ("Environment variables"). Defaults are safe for
production: DEBUG is off and a missing SECRET_KEY stops the process with a message naming the fix.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config.env import ConfigurationError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -----------------------------------------------------------------------------------

# Off unless asked for: `make run` turns it on for local development.
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Where the SQLite database, the local media and the local-mode secret live.
DATA_DIR = Path(env_str("DATA_DIR") or BASE_DIR / "data").resolve()

# Fly sets these on every machine; empty elsewhere.
FLY_APP_NAME = env_str("FLY_APP_NAME")
FLY_REGION = env_str("FLY_REGION")
FLY_MACHINE_ID = env_str("FLY_MACHINE_ID")
PRIMARY_REGION = env_str("PRIMARY_REGION")
# The commit the image was built from (a Docker build arg), shown in the footer and /healthz.
GIT_SHA = env_str("GIT_SHA")


def _local_secret_key() -> str:
    """In local DEBUG mode, a key generated once and kept in DATA_DIR, so sessions survive."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# Required when DEBUG is off; never a random fallback (that would log everyone out on restart).
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigurationError(
            "SECRET_KEY is not set: set it with `fly secrets set SECRET_KEY="
            "$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')`"
            " (or export SECRET_KEY=... locally; DJANGO_DEBUG=1 uses a generated local key)"
        )
    SECRET_KEY = _local_secret_key()
# Earlier keys, comma-separated, still accepted for values signed before a rotation (sessions,
# password reset links) but never used to sign. Unset once those have expired.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

# --- Hosts ----------------------------------------------------------------------------------

# Extra host names (custom domains) besides <app>.fly.dev, comma-separated.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
# Extra origins for CSRF checks (https://example.com), comma-separated.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if FLY_APP_NAME:
    ALLOWED_HOSTS.append(f"{FLY_APP_NAME}.fly.dev")
    CSRF_TRUSTED_ORIGINS.append(f"https://{FLY_APP_NAME}.fly.dev")
if DEBUG:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]"]

# --- Applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "blog",
    "pagecache",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
]

MIDDLEWARE = [
    # First: Fly's health checks use a private IP as Host over plain HTTP (see config/health.py).
    "config.health.HealthCheckMiddleware",
    # Outside PRIMARY_REGION, requests that can write are replayed there (config/replay.py),
    # before anything below reads the database.
    "config.replay.ReplayWritesMiddleware",
    "config.security.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Each request gets the Site it is for from what this process keeps (blog/site_data.py).
    # (Anonymous readers' pages are mostly answered before Django: pagecache, config/wsgi.py.)
    "blog.site_data.KeptSiteMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    # A session cookie holding characters Django never issues counts as none (config/sessions.py).
    "config.sessions.IgnoreForgedSessionCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Only with DEBUG: a missing page gets the site's 404 page, not Django's debug page.
    "config.errors.DebugNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "blog.context_processors.deployment",
                "blog.context_processors.site_sections",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

# Default: a SQLite file in DATA_DIR. postgres://... switches to PostgreSQL (psycopg 3).
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
# Fly's release machine sets RELEASE_COMMAND=1: migrations there use the direct URL, bypassing
# a connection pooler such as the PgBouncer in front of Fly Managed Postgres.
if env_bool("RELEASE_COMMAND") and env_str("DATABASE_DIRECT_URL"):
    DATABASE_URL = env_str("DATABASE_DIRECT_URL")

# Seconds a PostgreSQL connection is kept between requests (0: close after each request).
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 300)
# Use psycopg's connection pool instead of persistent connections (for threaded workers).
DATABASE_POOL = env_bool("DATABASE_POOL", default=False)
# Seconds to wait for a PostgreSQL connection. Without a limit, a database that does not answer
# at all (a network partition, a stopped machine) holds a sync worker until gunicorn kills it,
# and the reader gets no page; with one, the reader gets the 503 page in a few seconds.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)


def _database(url: str, name: str = "DATABASE_URL") -> dict:
    try:
        config = dj_database_url.parse(url)
    except ValueError as error:
        raise ConfigurationError(
            f"{name} is not a database URL ({error}): "
            "expected postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH"
        ) from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # WAL lets readers and the writer work at once; IMMEDIATE avoids lock upgrades.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # One connection per worker thread for its whole life: opening a file costs a tenth of
        # a cache miss and there is no server to time it out. The pragmas above run on each new
        # connection, so a kept one keeps them; Django still drops one left broken by an error.
        config["CONN_MAX_AGE"] = None
    elif engine == "django.db.backends.postgresql":
        # Safe behind PgBouncer in transaction mode (Fly Managed Postgres's pooled URL).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        # A connect_timeout in DATABASE_URL's query string wins.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        if DATABASE_POOL:
            from psycopg_pool import ConnectionPool

            config["CONN_MAX_AGE"] = 0
            config["OPTIONS"]["pool"] = {
                # A connection is checked as it leaves the pool: one the server closed while the
                # machine was suspended (or idle) is replaced, never handed to a request.
                "check": ConnectionPool.check_connection,
                "min_size": 1,
                "max_size": 4,
                "max_lifetime": 600,
                "max_idle": 300,
                # How long a request waits for a pooled connection, likewise.
                "timeout": DATABASE_CONNECT_TIMEOUT,
            }
        else:
            config["CONN_MAX_AGE"] = DATABASE_CONN_MAX_AGE
            config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database(DATABASE_URL)}

# A PostgreSQL read replica in this machine's region, used only outside PRIMARY_REGION (reads
# there go to it; writes are replayed in the primary region: config/replica.py, config/replay.py).
# `{region}` in it is replaced by FLY_REGION, so one secret serves every region, e.g. legacy Fly
# Postgres's postgres://USER:PASSWORD@{region}.my-db.internal:5433/NAME (5433: the local member).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL").replace("{region}", FLY_REGION)
# When the replica does not answer: read from the primary (on), or serve only cached pages and
# the 503 page (off).
DATABASE_REPLICA_FALLBACK = env_bool("DATABASE_REPLICA_FALLBACK", default=True)
OUTSIDE_PRIMARY_REGION = bool(FLY_REGION and PRIMARY_REGION and FLY_REGION != PRIMARY_REGION)
DATABASE_ROUTERS = []
if DATABASE_REPLICA_URL and OUTSIDE_PRIMARY_REGION:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ConfigurationError(
            "DATABASE_REPLICA_URL is set but DATABASE_URL is not PostgreSQL: a read replica "
            "follows a PostgreSQL primary (unset it with `fly secrets unset DATABASE_REPLICA_URL`)"
        )
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL, "DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Wagtail's search index uses PostgreSQL's full-text fields there.
    INSTALLED_APPS.append("django.contrib.postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and admin login throttling -----------------------------------------------------

# The admin's URL path (without slashes). Moving it off /admin/ cuts drive-by login attempts.
ADMIN_PATH = env_str("ADMIN_PATH").strip("/") or "admin"

AUTHENTICATION_BACKENDS = [
    # Refuses logins while an IP address or a username is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (per IP address, and per username) before further attempts are refused.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Minutes a lockout lasts.
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "account_locked.html"
AXES_HTTP_RESPONSE_CODE = 429

# --- Passwords, language, time --------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic writes; whitenoise serves from here.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
# Uploaded images and documents, when no bucket is configured.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names + gzip/Brotli variants; served with far-future immutable cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Unhashed static files are cached for an hour; hashed ones always get ten years + immutable.
WHITENOISE_MAX_AGE = 3600

# A Tigris (or any S3-compatible) bucket for media: `fly storage create` sets these five.
BUCKET_NAME = env_str("BUCKET_NAME")
if BUCKET_NAME:
    _missing = [n for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not env_str(n)]
    if _missing:
        raise ConfigurationError(
            f"BUCKET_NAME is set but {' and '.join(_missing)} is not: `fly storage create` sets "
            "all of them; for another S3-compatible store set them with `fly secrets set`"
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET_NAME,
            "access_key": env_str("AWS_ACCESS_KEY_ID"),
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
            # Unset means AWS itself; Tigris is https://fly.storage.tigris.dev.
            "endpoint_url": env_str("AWS_ENDPOINT_URL_S3") or None,
            # Tigris says "auto".
            "region_name": env_str("AWS_REGION") or None,
            # Tigris keeps no per-object ACLs: who may read is the bucket's setting.
            "default_acl": None,
            # Off: a public bucket (`fly storage create --public`) and plain, stable URLs that
            # cached pages can embed. On (1): signed URLs for a private bucket, valid for an hour.
            "querystring_auth": env_bool("AWS_QUERYSTRING_AUTH", default=False),
            # Host name for media links, e.g. <bucket>.t3.tigrisfiles.io or a CNAME of your own.
            "custom_domain": env_str("AWS_S3_CUSTOM_DOMAIN") or None,
            # An upload never silently replaces another with the same name.
            "file_overwrite": False,
            # Browsers may keep an image a day; renditions keep their names until regenerated.
            "object_parameters": {"CacheControl": "public, max-age=86400"},
        },
    }

# Uploads on local disk (a volume on Fly) have no other web server in front of them, so Django
# serves image files itself (see config/urls.py): fine for a small site's images, each one a
# worker's attention for a moment. With a bucket, media links point at the bucket instead.
SERVE_LOCAL_MEDIA = not BUCKET_NAME

# --- Security -------------------------------------------------------------------------------

# Fly's proxy terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# HSTS: one year, subdomains, preload-ready. Lower SECURE_HSTS_SECONDS while trying a domain.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Wagtail's admin reads the CSRF token from the page, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Wagtail lifts this for its own preview frames.
X_FRAME_OPTIONS = "DENY"

# Largest request body accepted, in bytes (uploads included); larger ones get a 413.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_MB", 20) * 1024 * 1024

# Content-Security-Policy for every public page: no inline code, nothing from other origins
# except images and embedded players over HTTPS.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": ["https:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "upgrade-insecure-requests": not DEBUG,
}
# The Wagtail admin's editor relies on inline styles and scripts; its views get a looser policy
# (csp_override in config/urls.py) that still allows no other origins for code.
ADMIN_CSP = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", "https:"],
    "font-src": [CSP.SELF, "data:"],
    "frame-src": [CSP.SELF, "https:"],
    "frame-ancestors": [CSP.SELF],
}
# A preview in the editor is the public page as readers will get it, under the public policy,
# except that the admin (same origin) may show it in its preview panel's frame
# (blog.models.base.BasePage.serve_preview).
PREVIEW_CSP = {**SECURE_CSP, "frame-ancestors": [CSP.SELF]}

# --- Page cache (pagecache/) -----------------------------------------------------------------

# Whole pages for anonymous readers, kept in each worker's memory; off in DEBUG.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE", default=not DEBUG)
# Memory per worker for cached pages (all encodings), in MB. 0 stores no page, so every request
# renders (what `make bench` measures as an uncached render), still with blog.site_data.
PAGE_CACHE_MAX_MB = env_int("PAGE_CACHE_MAX_MB", 16)
# How often a worker asks the database whether another machine published something, seconds.
PAGE_CACHE_POLL_SECONDS = env_int("PAGE_CACHE_POLL_SECONDS", 2)

# --- Logging: everything to stdout, where `fly logs` reads it --------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {name}: {message}", "style": "{"}},
    "filters": {
        "one_warning_line": {"()": "config.log_filters.OneWarningLine"},
        "replay_line": {"()": "config.log_filters.ReplayLine"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # Log level for everything else (DEBUG, INFO, WARNING, ERROR).
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        # Wagtail runs its background tasks in-process; one line per task is noise.
        "django_tasks": {"level": "WARNING"},
        # django-axes announces itself at every start (each manage.py command, gunicorn): noise.
        "axes.apps": {"level": "WARNING"},
        # A request replayed in the primary region (config/replay.py): one info line.
        "django.request": {"filters": ["replay_line"]},
        # An unknown Host is a client's mistake (400): one warning line, no traceback. Django
        # logs it as an error; the filter sits on the logger so every handler sees a warning.
        "django.security.DisallowedHost": {
            "handlers": ["console"],
            "filters": ["one_warning_line"],
            "level": "WARNING",
            "propagate": False,
        },
    },
}

# --- Wagtail --------------------------------------------------------------------------------

WAGTAIL_SITE_NAME = env_str("SITE_NAME") or "Flight Log"
# The admin's own absolute URL (used in notification emails and previews).
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL") or (
    f"https://{FLY_APP_NAME}.fly.dev" if FLY_APP_NAME else "http://127.0.0.1:8000"
)
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "zip"]
# Uploads: raster formats only (an SVG can carry script), bounded in bytes and in pixels.
WAGTAILIMAGES_EXTENSIONS = ["avif", "gif", "jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# No avatars fetched from a third party in the admin.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
