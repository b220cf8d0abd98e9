"""Server-side syntax highlighting for code blocks, and the stylesheet rules it needs.

Code is highlighted with Pygments into short CSS class names (no inline styles, so a strict
Content-Security-Policy holds). `stylesheet_rules()` writes one rule per token type whose colour
is `light-dark(<light>, <dark>)`, so the page's colour scheme switches code colours with
everything else. Colours are nudged until they reach WCAG AA contrast on the code background.
"""

from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Token
from pygments.util import ClassNotFound

# (stored value, label shown to editors, Pygments lexer name). The stored values are what the
# content importer maps a Markdown fence's language onto.
LANGUAGES = [
    ("python", "Python", "python"),
    ("pycon", "Python console", "pycon"),
    ("bash", "Bash / shell script", "bash"),
    ("console", "Shell session (prompt and output)", "console"),
    ("dockerfile", "Dockerfile", "docker"),
    ("makefile", "Makefile", "make"),
    ("toml", "TOML", "toml"),
    ("yaml", "YAML", "yaml"),
    ("json", "JSON", "json"),
    ("html", "HTML", "html"),
    ("django", "Django / Jinja template", "html+django"),
    ("css", "CSS", "css"),
    ("javascript", "JavaScript", "javascript"),
    ("ini", "INI / .env", "ini"),
    ("sql", "SQL", "sql"),
    ("diff", "Diff", "diff"),
    ("http", "HTTP request or response", "http"),
    ("text", "Plain text", "text"),
]
LANGUAGE_CHOICES = [(value, label) for value, label, _ in LANGUAGES]
LANGUAGE_LABELS = dict(LANGUAGE_CHOICES)
_LEXERS = {value: lexer for value, _, lexer in LANGUAGES}

# Other names a Markdown fence may use for the languages above.
LANGUAGE_ALIASES = {
    "py": "python",
    "python3": "python",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "shell-session": "console",
    "shellsession": "console",
    "terminal": "console",
    "docker": "dockerfile",
    "containerfile": "dockerfile",
    "make": "makefile",
    "yml": "yaml",
    "jinja": "django",
    "jinja2": "django",
    "htmldjango": "django",
    "html+django": "django",
    "js": "javascript",
    "env": "ini",
    "dotenv": "ini",
    "cfg": "ini",
    "conf": "ini",
    "postgresql": "sql",
    "psql": "sql",
    "patch": "diff",
    "txt": "text",
    "plaintext": "text",
    "plain": "text",
    "": "text",
}

# Light and dark Pygments styles, and the code-block backgrounds they are checked against.
LIGHT_STYLE, DARK_STYLE = "default", "github-dark"
LIGHT_BACKGROUND, DARK_BACKGROUND = "#f5f5f3", "#1b1e23"
LIGHT_TEXT, DARK_TEXT = "#1d2125", "#e4e2de"
MINIMUM_CONTRAST = 4.5


def normalise_language(name: str) -> str:
    """The stored language value for a fence name ("sh" -> "bash"); "text" when unknown."""
    name = (name or "").strip().lower()
    if name in _LEXERS:
        return name
    return LANGUAGE_ALIASES.get(name, "text")


@lru_cache(maxsize=1024)
def highlight_code(code: str, language: str) -> str:
    """The code as HTML spans with Pygments' short class names, without the <pre> wrapper."""
    try:
        lexer = get_lexer_by_name(_LEXERS.get(language, "text"))
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    formatter = HtmlFormatter(nowrap=True)
    return highlight(code, lexer, formatter).rstrip("\n")


# --- The stylesheet rules ----------------------------------------------------------------


def _channel(value: int) -> float:
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def _luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio between two #rrggbb colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _readable(colour: str, background: str) -> str:
    """The colour, moved towards black or white in small steps until it reaches AA contrast."""
    target = 0 if _luminance(background) > 0.5 else 255
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    while contrast(f"#{red:02x}{green:02x}{blue:02x}", background) < MINIMUM_CONTRAST:
        red, green, blue = (round(c + (target - c) * 0.08) for c in (red, green, blue))
    return f"#{red:02x}{green:02x}{blue:02x}"


def _expand(colour: str) -> str:
    colour = colour.lstrip("#").lower()
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return "#" + colour


def _base_text(style) -> str:
    colour = style.style_for_token(Token.Text)["color"] or style.style_for_token(Token)["color"]
    return _expand(colour) if colour else ""


def stylesheet_rules() -> str:
    """CSS for every highlighted token type, light and dark in one `light-dark()` value.

    Token types that look the same are grouped into one rule, to keep the stylesheet small.
    """
    light = get_style_by_name(LIGHT_STYLE)
    dark = get_style_by_name(DARK_STYLE)
    light_base, dark_base = _base_text(light), _base_text(dark)
    selectors_by_declarations: dict[str, list[str]] = {}
    for token_type, short_name in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        if not short_name:
            continue
        light_style = light.style_for_token(token_type)
        dark_style = dark.style_for_token(token_type)
        light_colour = _expand(light_style["color"]) if light_style["color"] else light_base
        dark_colour = _expand(dark_style["color"]) if dark_style["color"] else dark_base
        light_colour = LIGHT_TEXT if light_colour in ("", light_base) else light_colour
        dark_colour = DARK_TEXT if dark_colour in ("", dark_base) else dark_colour
        declarations = []
        if (light_colour, dark_colour) != (LIGHT_TEXT, DARK_TEXT):
            light_colour = _readable(light_colour, LIGHT_BACKGROUND)
            dark_colour = _readable(dark_colour, DARK_BACKGROUND)
            declarations.append(f"color:light-dark({light_colour},{dark_colour})")
        if light_style["bold"]:
            declarations.append("font-weight:600")
        if light_style["italic"]:
            declarations.append("font-style:italic")
        if declarations:
            key = ";".join(declarations)
            selectors_by_declarations.setdefault(key, []).append(f".highlight .{short_name}")
    rules = [
        f"{','.join(selectors)}{{{declarations}}}"
        for declarations, selectors in selectors_by_declarations.items()
    ]
    return "\n".join(rules) + "\n"
