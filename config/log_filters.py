"""Logging helpers referenced from settings.LOGGING."""

import logging


class OneWarningLine(logging.Filter):
    """Log a record as a warning without its traceback: for expected client errors such as an
    unknown Host, which Django logs as errors. The client's mistake is no server error (it
    should not page anyone), and the message says everything a stack trace would only bury."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        return True


class ReplayLine(logging.Filter):
    """A request answered with `fly-replay` (config/replay.py) is normal traffic outside the
    primary region, not a client error: one info line naming where it went, instead of Django's
    "Conflict" warning (with a traceback when a write reached the replica)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        region = getattr(request, "replayed_in", None)
        if region is None:
            return True
        record.levelno = logging.INFO
        record.levelname = logging.getLevelName(logging.INFO)
        record.msg = "%s %s: replayed in %s"
        record.args = (request.method, request.path, region)
        record.exc_info = None
        record.exc_text = None
        return True
