"""URL routes: the Wagtail admin, documents, search, sitemap and robots.txt, then every other
path to Wagtail's page tree (the blog index answers its own tag, year and feed routes).

/healthz and /readyz are answered earlier, by config.health.HealthCheckMiddleware.
"""

from django.conf import settings
from django.urls import URLResolver, include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.decorators.csp import csp_override
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from blog import views as blog_views


def decorate_views(patterns, decorator):
    """Apply a view decorator to every view under these URL patterns, includes and all."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            decorate_views(pattern.url_patterns, decorator)
        else:
            pattern.callback = decorator(pattern.callback)
    return patterns


# The Wagtail admin's editor relies on inline styles and scripts: its views get the admin's
# Content-Security-Policy (settings.ADMIN_CSP); every other response gets the strict SECURE_CSP.
admin_routes = path(f"{settings.ADMIN_PATH}/", include(wagtailadmin_urls))
decorate_views([admin_routes], csp_override(settings.ADMIN_CSP))

urlpatterns = [
    admin_routes,
    path("documents/", include(wagtaildocs_urls)),
    path("search/", blog_views.search, name="search"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", blog_views.robots_txt, name="robots_txt"),
]


@cache_control(public=True, max_age=86400)
def serve_local_media(request, path):
    # MEDIA_ROOT is read per request, not when this module is imported.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_LOCAL_MEDIA:
    # Image files kept on local disk (a volume on Fly), which nothing else serves; see
    # SERVE_LOCAL_MEDIA in settings. Documents stay behind Wagtail's /documents/ view, which
    # checks collection privacy. With a bucket, media links point at the bucket instead.
    # Only the raster formats uploads may have: a file put there some other way (an SVG, which
    # can carry script) is a 404, never served inline.
    raster = "|".join(settings.WAGTAILIMAGES_EXTENSIONS)
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>(?:original_images|images)/.+\.(?i:{raster}))$",
            serve_local_media,
        )
    ]

urlpatterns += [path("", include(wagtail_urls))]

# A database outage becomes a friendly 503 with Retry-After instead of a 500.
handler500 = "config.errors.server_error"
