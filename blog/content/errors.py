"""The error a content file raises when it breaks the format: it names the line to fix."""


class ContentError(Exception):
    """A problem in one content file, at a line of it (1-based; 1 for the file as a whole)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self):
        return self.message
