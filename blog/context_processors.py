"""Template context shared by every page."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from blog.sections import SiteSections


def deployment(request):
    """Where and what is serving this page: Fly's region and the release's commit, when known."""
    return {
        "fly_region": settings.FLY_REGION,
        "release_sha": settings.GIT_SHA[:7],
    }


def site_sections(request):
    """The site's top-level sections (navigation, the blog's feeds), looked up only when used."""
    return {"site_sections": SimpleLazyObject(lambda: SiteSections.for_request(request))}
