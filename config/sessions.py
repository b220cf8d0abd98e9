"""Sessions: Django's database sessions, minus session keys that no server ever issued.

Django looks up whatever key the session cookie holds. A forged cookie can carry a NUL character
(as an octal escape in a quoted value), and PostgreSQL refuses any query that contains one, so the
reader got the database-error page instead of the page. Django issues keys of lowercase letters
and digits only; a cookie holding anything else now counts as no session, on every database.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

ISSUED_KEY_CHARACTERS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return bool(super()._validate_session_key(key)) and set(key) <= ISSUED_KEY_CHARACTERS
