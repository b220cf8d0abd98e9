"""Logging helpers referenced from settings.LOGGING."""

import logging


class OneLine(logging.Filter):
    """Drop the traceback from a record: for expected client errors such as an unknown Host,
    where the message says everything and a stack trace would only bury real problems."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
