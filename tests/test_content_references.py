"""Everything site/ tells readers to run, open or set exists in this repository.

The write-up and the docs quote commands, file paths, make targets, settings and environment
variables. Each one is extracted from the Markdown (inline code, fenced shell code, code titles,
links) and checked against the repository: a renamed script or target fails here, not in a
reader's terminal.
"""

import importlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from blog.content import frontmatter
from blog.content.layout import classify

ROOT = Path(__file__).resolve().parent.parent

# The Docker image's test stage is built without .github (see .dockerignore), and the content names
# workflow variables: there, and only there, the check cannot be complete. Host runs cover it.
if not (ROOT / ".github").is_dir() and (
    Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()
):
    pytest.skip(".github is not in the Docker build context", allow_module_level=True)
SITE = ROOT / "site"

# Where the repository defines the settings and environment variables it reads.
NAME_SOURCES = [
    "config/*.py",
    "README.md",
    ".github/workflows/*.yml",
    "Dockerfile",
    "fly.toml",
    "fly.qa.toml",
    "Makefile",
    "scripts/*",
    "scripts/lib/*",
]
# Upper-case words in code that name something other than a setting or variable.
NOT_NAMES = {
    "A": "a DNS record type",
    "AAAA": "a DNS record type",
    "CNAME": "a DNS record type",
    "CMD": "a Dockerfile instruction",
    "ENV": "a Dockerfile instruction",
    "RUN": "a Dockerfile instruction",
    "ARG": "a Dockerfile instruction",
    "COPY": "a Dockerfile instruction",
    "FROM": "a Dockerfile instruction",
    "EXPOSE": "a Dockerfile instruction",
    "HEALTHCHECK": "a Dockerfile instruction",
    "INFO": "a log level",
    "WARNING": "a log level",
    "ERROR": "a log level",
    "UTC": "a time zone",
    "GET": "an HTTP method",
    "HEAD": "an HTTP method",
    "POST": "an HTTP method",
}
# Variables set by the platforms the site runs on, not by this repository.
EXTERNAL_NAMES = {
    "PATH": "the operating system's search path for programs",
    "HOME": "the operating system's home folder",
    "GITHUB_TOKEN": "GitHub Actions gives every workflow run this token",
    "GITHUB_SHA": "GitHub Actions sets it to the commit being built",
    "FLY_ALLOC_ID": "Fly sets it on every machine",
    "FLY_PUBLIC_IP": "Fly sets it on every machine",
    "FLY_IMAGE_REF": "Fly sets it on every machine",
}
# Paths at the top of the repository that the content may name.
TOP_LEVEL_FILES = {
    "Dockerfile",
    "Makefile",
    "fly.toml",
    "fly.qa.toml",
    "pyproject.toml",
    "uv.lock",
    "manage.py",
    "README.md",
    ".dockerignore",
    ".gitignore",
    ".python-version",
}
REPOSITORY_PATH = re.compile(
    r"^(?:\.github|\.ci|config|scripts|blog|templates|static|tests|site)(?:/[\w.*-]*)*$"
)
# Files the build writes and git ignores (anchored lines of .gitignore, such as the content's
# recorded dates): named in the docs, absent from a fresh clone.
BUILD_OUTPUTS = {
    line.strip().strip("/")
    for line in (ROOT / ".gitignore").read_text().splitlines()
    if line.startswith("/") and "*" not in line
}
DOTTED_NAME = re.compile(r"^(?:config|blog)(?:\.\w+)+$")
UPPER_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh"}
FENCE = re.compile(r"^(`{3,}|~{3,})([^\n]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"\]\((/[^)\s]*)\)")


@dataclass(frozen=True)
class Mention:
    file: str
    line: int
    text: str
    in_shell: bool

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def mentions() -> list[Mention]:
    """Inline code, fenced shell code (one mention per line) and the files code blocks quote
    (their titles), each with its line."""
    found: list[Mention] = []
    for path in sorted(SITE.rglob("*.md")):
        name = path.relative_to(ROOT).as_posix()
        text = path.read_text()

        def line_at(offset: int, text=text) -> int:
            return text.count("\n", 0, offset) + 1

        prose = text
        for fence in FENCE.finditer(text):
            info = fence.group(2).strip()
            language = info.split(" ", 1)[0].lower()
            title = re.search(r'title="([^"]+)"', info)
            if title:
                found.append(Mention(name, line_at(fence.start()), title.group(1), False))
            body_start = fence.start(3)
            # Shell code is what readers run; other code quotes files (checked by their title).
            if language in SHELL_LANGUAGES:
                for number, code_line in enumerate(fence.group(3).split("\n")):
                    if code_line.strip():
                        found.append(Mention(name, line_at(body_start) + number, code_line, True))
            # Keep offsets (and so line numbers) of the prose after the fence.
            prose = (
                prose[: fence.start()] + " " * (fence.end() - fence.start()) + prose[fence.end() :]
            )
        for span in CODE_SPAN.finditer(prose):
            found.append(Mention(name, line_at(span.start()), span.group(2).strip(), True))
    return found


def words(mention: Mention) -> list[str]:
    try:
        return shlex.split(mention.text, comments=mention.in_shell)
    except ValueError:
        return mention.text.split()


def makefile_targets() -> set[str]:
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-zA-Z][\w.-]*(?:\s+[a-zA-Z][\w.-]*)*)\s*:(?!=)", line)
        if match:
            targets.update(match.group(1).split())
    return targets


def defined_names_text() -> str:
    parts = []
    for pattern in NAME_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


# --- What the content claims ---------------------------------------------------------------


def check_make(mention: Mention, targets: set[str]) -> list[str]:
    problems = []
    tokens = words(mention)
    for position, token in enumerate(tokens[:-1]):
        if token == "make" and re.match(r"^[a-z][\w-]*$", tokens[position + 1]):
            target = tokens[position + 1]
            if target not in targets:
                problems.append(f"{mention.where()}: make target `{target}` is not in the Makefile")
    return problems


def check_manage(mention: Mention, commands: dict) -> list[str]:
    problems = []
    tokens = words(mention)
    for position, token in enumerate(tokens):
        if not token.endswith("manage.py") or position + 1 >= len(tokens):
            continue
        name = tokens[position + 1]
        if name not in commands:
            problems.append(f"{mention.where()}: `manage.py {name}` is not a management command")
            continue
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        known = {option for action in parser._actions for option in action.option_strings}
        for option in tokens[position + 2 :]:
            if option in ("&", "&&", "|", ";"):
                break
            flag = option.split("=", 1)[0]
            if flag.startswith("--") and flag not in known:
                problems.append(f"{mention.where()}: `manage.py {name}` has no option {flag}")
    return problems


def check_script(mention: Mention) -> list[str]:
    problems = []
    tokens = words(mention)
    for position, token in enumerate(tokens):
        if not re.match(r"^scripts/[\w.-]+$", token):
            continue
        script = ROOT / token
        if not script.is_file():
            problems.append(f"{mention.where()}: script `{token}` does not exist")
            continue
        text = script.read_text(errors="replace")
        for option in tokens[position + 1 :]:
            if option in ("&", "&&", "|", ";"):
                break
            flag = option.split("=", 1)[0]
            if flag.startswith("--") and flag not in text:
                problems.append(f"{mention.where()}: `{token}` has no option {flag}")
    return problems


def check_paths(mention: Mention) -> list[str]:
    problems = []
    candidates = words(mention) if (mention.in_shell or " " in mention.text) else [mention.text]
    for token in candidates:
        token = token.strip(".,:;()\"'").removeprefix("./")
        if "<" in token or "..." in token or (token.startswith("scripts/") and mention.in_shell):
            continue  # placeholders; scripts are checked as commands
        if token in TOP_LEVEL_FILES or REPOSITORY_PATH.match(token):
            exists = any(ROOT.glob(token.rstrip("/"))) if "*" in token else (ROOT / token).exists()
            if not exists and token.rstrip("/") not in BUILD_OUTPUTS:
                problems.append(f"{mention.where()}: path `{token}` does not exist")
    return problems


def check_dotted(mention: Mention) -> list[str]:
    if not DOTTED_NAME.match(mention.text):
        return []
    module_name, _, attribute = mention.text.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        try:
            importlib.import_module(mention.text)
        except ImportError:
            return [f"{mention.where()}: `{mention.text}` cannot be imported"]
        return []
    if not hasattr(module, attribute):
        return [f"{mention.where()}: `{mention.text}` does not exist"]
    return []


def check_names(mention: Mention, defined: str) -> list[str]:
    """Upper-case names: in inline code on their own, in shell code as NAME=value or $NAME."""
    names = []
    if UPPER_NAME.match(mention.text):
        names.append(mention.text)
    if mention.in_shell:
        names += re.findall(r"(?<![\w$])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=", mention.text)
        names += re.findall(r"\$\{?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)", mention.text)
    problems = []
    for name in names:
        if name in NOT_NAMES or name in EXTERNAL_NAMES:
            continue
        if not re.search(rf"(?<![A-Z0-9_]){name}(?![A-Z0-9_])", defined):
            problems.append(
                f"{mention.where()}: `{name}` is not read by config/settings.py, scripts/ or the "
                "workflows, nor listed in the README"
            )
    return problems


def reference_problems() -> list[str]:
    targets = makefile_targets()
    commands = get_commands()
    defined = defined_names_text()
    problems: list[str] = []
    for mention in mentions():
        problems += check_make(mention, targets)
        problems += check_manage(mention, commands)
        problems += check_script(mention)
        problems += check_paths(mention)
        problems += check_dotted(mention)
        problems += check_names(mention, defined)
    return sorted(set(problems))


def test_every_command_path_target_and_name_in_site_exists():
    found = mentions()
    # The extraction itself finds the kinds of things it checks.
    assert any(re.search(r"\bmake [a-z]", mention.text) for mention in found)
    assert any("manage.py " in mention.text for mention in found)
    assert any("scripts/" in mention.text for mention in found)
    assert any(UPPER_NAME.match(mention.text) for mention in found)
    problems = reference_problems()
    assert not problems, "site/ mentions things this repository does not have:\n" + "\n".join(
        problems
    )


# --- Links between pages --------------------------------------------------------------------


def page_urls() -> set[str]:
    """The URL of every page site/ makes, from the files alone."""
    urls: dict[str, str] = {"home.md": "/"}
    pending = sorted(
        path.relative_to(SITE).as_posix() for path in SITE.rglob("*.md") if path.name != "README.md"
    )
    # Parents first: shorter paths, and a folder's index.md before the files beside it.
    pending.sort(key=lambda path: (path.count("/"), not path.endswith("index.md"), path))
    for path in pending:
        source = classify(path)
        if source.parent is None:
            continue
        yaml_text, line, _, _ = frontmatter.split((SITE / path).read_text())
        front = frontmatter.parse(yaml_text, line, source.kind)
        parent_url = urls.get(source.parent, "/")
        urls[path] = f"{parent_url}{front.slug or source.default_slug}/"
    return set(urls.values())


BLOG_ROUTES = re.compile(r"^/blog/(?:tags/(?:[\w-]+/)?|feed/(?:rss|atom)/|\d{4}/)$")


def test_links_between_pages_point_at_pages_site_makes():
    urls = page_urls()
    broken = []
    for path in sorted(SITE.rglob("*.md")):
        text = path.read_text()
        for link in LINK.finditer(text):
            target = link.group(1).split("#")[0]
            if not target.startswith(("/blog/", "/docs/")) or target in urls:
                continue
            if BLOG_ROUTES.match(target):
                continue
            line = text.count("\n", 0, link.start()) + 1
            broken.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not broken, "links to pages site/ does not make:\n" + "\n".join(broken)


# --- The checker itself catches what it should ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "in_shell", "expected"),
    [
        ("make no-such-target", True, "make target `no-such-target`"),
        ("uv run --frozen python manage.py no_such_command", True, "not a management command"),
        ("python manage.py load_content --no-such-flag", True, "has no option --no-such-flag"),
        ("scripts/no-such-script --app x", True, "script `scripts/no-such-script`"),
        ("scripts/release --no-such-flag", True, "has no option --no-such-flag"),
        ("config/no_such_file.py", False, "path `config/no_such_file.py`"),
        ("NO_SUCH_SETTING", False, "`NO_SUCH_SETTING` is not read"),
        ("fly secrets set NO_SUCH_VARIABLE=1", True, "`NO_SUCH_VARIABLE` is not read"),
        ("config.health.NoSuchMiddleware", False, "does not exist"),
    ],
)
def test_the_checker_reports_what_does_not_exist(text, in_shell, expected):
    mention = Mention("site/x.md", 1, text, in_shell)
    problems = (
        check_make(mention, makefile_targets())
        + check_manage(mention, get_commands())
        + check_script(mention)
        + check_paths(mention)
        + check_dotted(mention)
        + check_names(mention, defined_names_text())
    )
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "make run",
        "python manage.py load_content --dry-run",
        "scripts/release --dry-run",
        "config/settings.py",
        "SECRET_KEY",
        "fly secrets set SECRET_KEY=$(python3 -c 'print(1)')",
        "config.health.HealthCheckMiddleware",
        "fly deploy --app my-blog",
    ],
)
def test_the_checker_accepts_what_exists(text):
    mention = Mention("site/x.md", 1, text, True)
    assert (
        check_make(mention, makefile_targets())
        + check_manage(mention, get_commands())
        + check_script(mention)
        + check_paths(mention)
        + check_dotted(mention)
        + check_names(mention, defined_names_text())
    ) == []
