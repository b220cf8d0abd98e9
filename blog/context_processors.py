"""Template context shared by every page."""

from django.conf import settings


def deployment(request):
    """Where and what is serving this page: Fly's region and the release's commit, when known."""
    return {
        "fly_region": settings.FLY_REGION,
        "release_sha": settings.GIT_SHA[:7],
    }
