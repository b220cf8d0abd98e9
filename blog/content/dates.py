"""When each content file last changed: the date its page shows as "Last updated".

From git where the content folder is in a full clone (`make run`, the tests): each file's last
commit, for the files without uncommitted changes. The image holds no git (.dockerignore), and
Fly's release step imports the content inside it, so the build writes the same dates into the
content folder first (`python3 blog/content/dates.py site`, run by scripts/image and the
workflows' build steps, from a clone with its whole history); the import reads them from there.
A file that neither knows keeps the import's time.

Only the standard library: the build runs this before any dependency is installed.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

# Written into the content folder by the build; never committed (.gitignore).
RECORD_NAME = ".content-dates.json"


def last_commit_times(root: Path) -> dict[Path, datetime.datetime]:
    """Each file under `root` and when it last changed: from git when it can say, else from the
    record the build wrote. Empty when neither knows."""
    return git_commit_times(root) or recorded_times(root)


def git_commit_times(root: Path) -> dict[Path, datetime.datetime]:
    """When git last committed each file under `root`, for the files without uncommitted
    changes. Empty without git or a repository (as in the container) and in a shallow clone,
    whose one commit would date every file."""
    executable = shutil.which("git")
    if executable is None:
        return {}

    def git(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - the arguments are this function's own, no shell
            [executable, "-C", str(root), *args], capture_output=True, text=True, timeout=30
        )
        if result.returncode != 0:
            raise OSError(result.stderr.strip())
        return result.stdout

    try:
        if git("rev-parse", "--is-shallow-repository").strip() != "false":
            return {}
        top = Path(git("rev-parse", "--show-toplevel").strip())
        # Porcelain paths are relative to the repository's top, like the log's; a rename's
        # entry is followed by its old path, which is dirty too as far as this goes.
        dirty = {entry[3:] for entry in git("status", "--porcelain", "-z", "--", ".").split("\0")}
        log = git("-c", "core.quotePath=false", "log", "--format=%x00%cI", "--name-only", "--", ".")
    except (OSError, subprocess.TimeoutExpired):
        return {}
    times: dict[Path, datetime.datetime] = {}
    for commit in log.split("\0")[1:]:
        stamp, *names = commit.strip().splitlines()
        when = datetime.datetime.fromisoformat(stamp)
        for name in names:
            if name and name not in dirty:
                times.setdefault((top / name).resolve(), when)
    return times


def recorded_times(root: Path) -> dict[Path, datetime.datetime]:
    """The dates the build recorded in `root` (RECORD_NAME); empty when there is no record.
    An entry that cannot be read is left out: its page keeps the import's time."""
    try:
        record = json.loads((root / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    times: dict[Path, datetime.datetime] = {}
    for name, stamp in record.items():
        try:
            when = datetime.datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            continue
        if (
            when.tzinfo is not None
            and not Path(name).is_absolute()
            and ".." not in Path(name).parts
        ):
            times[(root / name).resolve()] = when
    return times


def write_record(root: Path) -> int:
    """Record git's dates for the files under `root` in `root`/RECORD_NAME; how many. A stale
    record is removed when git cannot say (so it never outlives the files it described)."""
    root = root.resolve()
    target = root / RECORD_NAME
    times = git_commit_times(root)
    record = {
        path.relative_to(root).as_posix(): when.isoformat()
        for path, when in sorted(times.items())
        if path.is_relative_to(root) and path.is_file() and path != target
    }
    if not record:
        target.unlink(missing_ok=True)
        return 0
    target.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return len(record)


USAGE = (
    "usage: python3 blog/content/dates.py CONTENT_FOLDER\n"
    f"  record each file's last commit in CONTENT_FOLDER/{RECORD_NAME}, for an import\n"
    "  where git is not (the image); needs a clone with its whole history"
)


def main(argv: list[str]) -> int:
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    root = Path(argv[0])
    if not root.is_dir():
        print(f"content dates: {root} is not a folder", file=sys.stderr)
        return 2
    count = write_record(root)
    if count:
        print(f"content dates: {count} files' last commits recorded in {root}/{RECORD_NAME}")
    else:
        print(
            "content dates: git cannot date these files (no git, not a repository, or a shallow "
            "clone: fetch the whole history); pages will show the day they are imported"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
