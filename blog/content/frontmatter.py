"""The YAML front matter at the top of a content file: split off, parsed and checked."""

import datetime
import re
from dataclasses import dataclass, field

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from blog.content.errors import ContentError
from blog.content.layout import BLOG_INDEX, DOC, DOCS_INDEX, HOME, POST

COMMON_KEYS = ("title", "slug", "summary")
KEYS = {
    HOME: COMMON_KEYS,
    BLOG_INDEX: COMMON_KEYS,
    DOCS_INDEX: COMMON_KEYS,
    POST: (*COMMON_KEYS, "date", "tags", "authors", "hero", "hero_alt"),
    DOC: (*COMMON_KEYS, "order"),
}
REQUIRED = {
    HOME: ("title",),
    BLOG_INDEX: ("title",),
    DOCS_INDEX: ("title",),
    POST: ("title", "summary", "date"),
    DOC: ("title", "summary"),
}
KIND_NAMES = {
    HOME: "the home page",
    BLOG_INDEX: "the blog index",
    DOCS_INDEX: "the docs index",
    POST: "a post",
    DOC: "a docs page",
}
# Lengths of the model fields the values go into.
MAX_LENGTHS = {"title": 255, "slug": 255, "summary": 400, "hero": 500, "hero_alt": 250}
TAG_MAX_LENGTH = 100
AUTHOR_MAX_LENGTH = 100
DATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DELIMITER = "---"


class _Loader(yaml.SafeLoader):
    """YAML without implicit dates: `date` is checked here, so that a bad day gets a clear error
    with its line instead of a traceback from the YAML library."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class FrontMatter:
    """The checked values, with the line each key is on (for errors found later)."""

    title: str
    slug: str | None = None
    summary: str = ""
    date: datetime.date | None = None
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    hero: str | None = None
    hero_alt: str = ""
    order: int | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


def split(text: str) -> tuple[str, int, str, int]:
    """(front matter YAML, its first line, the body, the body's first line), lines 1-based."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != DELIMITER:
        raise ContentError("a content file starts with front matter: a line `---`, YAML, `---`")
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() == DELIMITER:
            return "\n".join(lines[1:number]), 2, "\n".join(lines[number + 1 :]), number + 2
    raise ContentError("the front matter has no closing `---` line")


def parse(yaml_text: str, first_line: int, kind: str) -> FrontMatter:
    """Check the front matter for a page of `kind` and return its values."""
    try:
        loader = _Loader(yaml_text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark else first_line
        raise ContentError(f"the front matter is not valid YAML: {error.problem}", line) from None
    except yaml.YAMLError as error:
        raise ContentError(f"the front matter is not valid YAML: {error}", first_line) from None
    if node is None:
        raise ContentError("the front matter is empty: it needs at least a title", first_line)
    if not isinstance(node, yaml.MappingNode):
        raise ContentError("the front matter must be `key: value` lines", first_line)

    allowed = KEYS[kind]
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = first_line + key_node.start_mark.line
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key in values:
            raise ContentError(f"`{key}` is given twice", line)
        if key not in allowed:
            raise ContentError(
                f"unknown key `{key}` for {KIND_NAMES[kind]}: the keys are "
                + ", ".join(f"`{name}`" for name in allowed),
                line,
            )
        loader = _Loader("")
        try:
            values[key] = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError) as error:
            raise ContentError(f"`{key}` cannot be read: {error}", line) from None
        finally:
            loader.dispose()
        lines[key] = line

    for key in REQUIRED[kind]:
        if values.get(key) in (None, ""):
            raise ContentError(
                f"`{key}` is missing: {KIND_NAMES[kind]} needs "
                + ", ".join(f"`{name}`" for name in REQUIRED[kind]),
                lines.get(key, first_line - 1),
            )

    checked = FrontMatter(title="", lines=lines)
    for key, value in values.items():
        line = lines[key]
        setattr(checked, key, _CHECKS[key](key, value, line))
    if checked.hero and not checked.hero_alt:
        raise ContentError(
            "`hero_alt` is missing: describe the lead image for readers who cannot see it",
            lines["hero"],
        )
    if checked.hero_alt and not checked.hero:
        raise ContentError("`hero_alt` is given without a `hero` image", lines["hero_alt"])
    return checked


def _text(key: str, value: object, line: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContentError(f"`{key}` must be text, not {_describe(value)}: put it in quotes", line)
    value = value.strip()
    if len(value) > MAX_LENGTHS[key]:
        raise ContentError(f"`{key}` is longer than {MAX_LENGTHS[key]} characters", line)
    return value


def _slug(key: str, value: object, line: int) -> str:
    value = _text(key, value, line)
    try:
        validate_slug(value)
    except ValidationError:
        raise ContentError(
            f"`slug` {value!r} may only hold letters, numbers, hyphens and underscores", line
        ) from None
    return value


def _date(key: str, value: object, line: int) -> datetime.date:
    text = value if isinstance(value, str) else ""
    if not DATE_FORMAT.match(text):
        raise ContentError(f"`date` must be a day written YYYY-MM-DD, not {value!r}", line)
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ContentError(f"`date` {text} is not a day of the calendar", line) from None


def _names(key: str, value: object, line: int) -> list[str]:
    """A list of names: tags or authors, in the order given, without repeats."""
    maximum = TAG_MAX_LENGTH if key == "tags" else AUTHOR_MAX_LENGTH
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(f"`{key}` must be a list, such as `{key}: [one, two]`", line)
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ContentError(f"each of `{key}` must be a name, not {_describe(item)}", line)
        item = item.strip()
        if len(item) > maximum:
            raise ContentError(f"{item!r} in `{key}` is longer than {maximum} characters", line)
        if item not in names:
            names.append(item)
    return names


def _order(key: str, value: object, line: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ContentError(f"`order` must be a whole number, not {_describe(value)}", line)
    return value


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the yes/no value {value}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


_CHECKS = {
    "title": _text,
    "slug": _slug,
    "summary": _text,
    "date": _date,
    "tags": _names,
    "authors": _names,
    "hero": _text,
    "hero_alt": _text,
    "order": _order,
}
