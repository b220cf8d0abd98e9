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
