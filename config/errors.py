"""Error views that must work when the database does not."""

import sys

from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader


def server_error(request):
    """The 500 handler: a database outage becomes a 503 with Retry-After, anything else a 500.

    Django calls this while the exception is being handled, so sys.exc_info() names it. Neither
    template touches the database.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        response = HttpResponse(
            loader.get_template("503.html").render(), status=503, content_type="text/html"
        )
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
