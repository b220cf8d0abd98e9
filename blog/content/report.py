"""What load_content and export_content print: a line per file and a count per status."""

from collections.abc import Iterable
from enum import StrEnum

# The page address column's width, so that the file paths after it line up.
URL_WIDTH = 44


def display(root: str, path: str) -> str:
    """A content file's path as messages show it: in the folder as the user named it."""
    return f"{root.rstrip('/')}/{path}"


def outcome_line(label: str, label_width: int, url: str, where: str, note: str) -> str:
    """One file's line: what happened to it, its page's address, the file, and why."""
    line = f"{label:<{label_width}} {url or '-':<{URL_WIDTH}} {where}"
    if note:
        line += f"  ({note})"
    return line.rstrip()


def count(outcomes: Iterable, statuses: type[StrEnum]) -> dict[StrEnum, int]:
    """How many outcomes have each status: every status, in the enum's order."""
    counts = dict.fromkeys(statuses, 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def summary(counts: dict[StrEnum, int]) -> str:
    """The counts as the report's last line says them: "2 written, 33 unchanged, 0 failed"."""
    return ", ".join(f"{number} {status}" for status, number in counts.items())
