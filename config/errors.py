"""Error pages: the views that must work when the database does not, and the site's own 404
page under DEBUG."""

import sys

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.defaults import page_not_found

from config.replay import replay_for


def server_error(request):
    """The 500 handler: a database outage becomes a 503 with Retry-After, anything else a 500.

    Django calls this while the exception is being handled, so sys.exc_info() names it. Neither
    template touches the database.
    """
    error = sys.exc_info()[1]
    # Outside the primary region, a write that reached the read replica is replayed instead.
    replay = replay_for(request, error) if error is not None else None
    if replay is not None:
        return replay
    if isinstance(error, DatabaseError):
        response = HttpResponse(
            loader.get_template("503.html").render(), status=503, content_type="text/html"
        )
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())


class DebugNotFoundMiddleware:
    """With DEBUG on (`make run`), answer an address with nothing behind it with the site's own
    404 page, as production does, instead of Django's list of URL patterns; errors still get
    Django's debug page.

    Django picks its technical 404 page whenever DEBUG is on, for a view's Http404 and for a
    path no pattern matches. The first is caught here as the view raises it; the second is
    recognised on the way out by the missing resolver match. Placed above CommonMiddleware and
    Wagtail's redirects, which turn some 404s into redirects first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and request.resolver_match is None:
            return page_not_found(request, Http404(request.path))
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
