"""Session cookies that no server ever issued count as no session.

Django looks up whatever key the session cookie holds. A forged cookie can carry a NUL character
(as an octal escape in a quoted value), and PostgreSQL refuses any query that contains one, so the
reader got the database-error page instead of the page. Django issues keys of lowercase letters
and digits only (VALID_KEY_CHARS); this middleware, just above SessionMiddleware, drops a session
cookie holding anything else before any session is looked up, on every database.
"""

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

ISSUED_KEY_CHARACTERS = frozenset(VALID_KEY_CHARS)


class IgnoreForgedSessionCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key is not None and not set(key) <= ISSUED_KEY_CHARACTERS:
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        return self.get_response(request)
