"""End-to-end helpers: the browser to use, page problems, colours, sample pages, polling."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, WebError

# The index pages' addresses: data migration 0004 creates them with these slugs.
BLOG_INDEX = "/blog/"
DOCS_INDEX = "/docs/"

# Always passed to Chromium: no background traffic to Google's services, no updates, no QUIC
# (UDP is often filtered in CI), no first-run dialogs.
CHROMIUM_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEBIAN_CHROMIUM = "/usr/bin/chromium"

NO_BROWSER = (
    "No Chromium for the end-to-end suite. Install one of: Debian/Ubuntu's package "
    "(`apt-get install -y chromium`, used from /usr/bin/chromium); Playwright's own "
    "(`uv run --frozen playwright install --with-deps chromium`, needs the internet); "
    "or set CHROMIUM_PATH to a Chromium or Chrome executable."
)
PLAYWRIGHT_INSTALL = [sys.executable, "-m", "playwright", "install", "chromium"]


class NoBrowserError(Exception):
    """No usable Chromium: the message says how to get one. `installable` when installing
    Playwright's own would help (not when CHROMIUM_PATH names a file that is not there)."""

    def __init__(self, message: str, installable: bool = False):
        super().__init__(message)
        self.installable = installable


def _is_executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find_chromium(
    environ: dict[str, str], managed_path: str | None, debian_path: str = DEBIAN_CHROMIUM
) -> str | None:
    """The Chromium executable to launch: CHROMIUM_PATH, else Debian's, else None for the one
    Playwright manages. Raises NoBrowserError when none of them exists."""
    explicit = environ.get("CHROMIUM_PATH", "").strip()
    if explicit:
        if not _is_executable(explicit):
            raise NoBrowserError(
                f"CHROMIUM_PATH={explicit} is not an executable file. {NO_BROWSER}"
            )
        return explicit
    if _is_executable(debian_path):
        return debian_path
    if managed_path and _is_executable(managed_path):
        return None
    raise NoBrowserError(NO_BROWSER, installable=True)


def install_playwright_chromium(
    say: Callable[[str], object],
    run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
) -> None:
    """Download Playwright's own Chromium (no root needed); raises NoBrowserError naming what
    to install by hand when that fails (no internet, an unsupported system)."""
    say("e2e: no Chromium found: installing Playwright's own (`playwright install chromium`)")
    try:
        result = run(PLAYWRIGHT_INSTALL, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NoBrowserError(
            f"Installing Playwright's Chromium failed ({error}). {NO_BROWSER}"
        ) from None
    if result.returncode != 0:
        # Its first "Error:" line names the cause (a DNS failure, an unsupported system).
        errors = [
            line.strip()
            for line in f"{result.stdout}\n{result.stderr}".splitlines()
            if line.strip().startswith("Error:")
        ]
        reason = errors[0] if errors else f"exit status {result.returncode}"
        raise NoBrowserError(f"Installing Playwright's Chromium failed ({reason}). {NO_BROWSER}")


# --- Video ------------------------------------------------------------------------------------

# The name of Playwright's ffmpeg inside its folder, per platform (its registry's own table).
FFMPEG_EXECUTABLES = {"linux": "ffmpeg-linux", "darwin": "ffmpeg-mac", "win32": "ffmpeg-win64.exe"}


def playwright_registry(environ: dict[str, str]) -> Path:
    """The folder where Playwright looks for its browsers and ffmpeg, computed as its driver
    does: PLAYWRIGHT_BROWSERS_PATH, else the platform's cache folder."""
    import playwright

    configured = environ.get("PLAYWRIGHT_BROWSERS_PATH", "")
    if configured == "0":
        return Path(playwright.__file__).parent / "driver" / "package" / ".local-browsers"
    if configured:
        return Path(configured).absolute()
    home = Path.home()
    if sys.platform == "darwin":
        cache = home / "Library" / "Caches"
    elif sys.platform == "win32":
        cache = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        cache = Path(environ.get("XDG_CACHE_HOME") or home / ".cache")
    return cache / "ms-playwright"


def playwright_ffmpeg(environ: dict[str, str]) -> Path:
    """Where this Playwright release expects its ffmpeg (the revision is in its browsers.json)."""
    import playwright

    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    revision = next(
        entry["revision"]
        for entry in json.loads(browsers.read_text())["browsers"]
        if entry["name"] == "ffmpeg"
    )
    name = FFMPEG_EXECUTABLES.get(sys.platform, "ffmpeg-linux")
    return playwright_registry(environ) / f"ffmpeg-{revision}" / name


def registry_with_system_ffmpeg(
    environ: dict[str, str], folder: Path, system_ffmpeg: str | None = None
) -> Path | None:
    """A browsers folder for PLAYWRIGHT_BROWSERS_PATH that lends Playwright the system's ffmpeg
    (Debian's `apt-get install ffmpeg` encodes the VP9 WebM it asks for) when its own is not
    installed, as with a system Chromium and no internet; everything already in Playwright's
    folder (its browsers) is linked in unchanged. None when nothing needs lending, or there is
    no system ffmpeg to lend."""
    own = playwright_ffmpeg(environ)
    system_ffmpeg = system_ffmpeg or shutil.which("ffmpeg")
    if _is_executable(str(own)) or not system_ffmpeg or sys.platform == "win32":
        return None
    folder.mkdir(parents=True, exist_ok=True)
    registry = own.parent.parent
    if registry.is_dir():
        for entry in registry.iterdir():
            if entry.name != own.parent.name:
                (folder / entry.name).symlink_to(entry)
    (folder / own.parent.name).mkdir()
    (folder / own.parent.name / own.name).symlink_to(system_ffmpeg)
    return folder


def video_recording_problem(context_factory: Callable[[], BrowserContext]) -> str | None:
    """Why videos cannot be recorded with this browser build (None when they can).

    Playwright encodes video with an ffmpeg it downloads next to its own browsers; with a
    system Chromium and no internet that binary is missing, and every new page would fail.
    """
    context = None
    try:
        context = context_factory()
        context.new_page()
    except Error as error:
        if "ffmpeg" not in str(error).lower():
            raise
        return (
            "no ffmpeg to encode them: `uv run --frozen playwright install ffmpeg`, or the "
            "system's (`apt-get install ffmpeg`), which the suite lends Playwright"
        )
    finally:
        if context is not None:
            context.close()
    return None


# Chromium fires `securitypolicyviolation` for each thing the Content-Security-Policy blocks;
# logging it as a console error lets one listener collect both kinds of problem.
CSP_VIOLATION_LOGGER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}` +
      ` (${event.sourceFile || document.URL}:${event.lineNumber})`
  );
});
"""


class PageProblems:
    """Console errors, uncaught exceptions and CSP violations on the pages of watched contexts."""

    def __init__(self):
        self.seen: list[str] = []
        self._expected: list[re.Pattern] = []

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(CSP_VIOLATION_LOGGER)
        context.on("console", self._on_console)
        context.on("weberror", self._on_error)

    def expect(self, pattern: str) -> None:
        """Let problems matching `pattern` (a regular expression) pass, for a test that causes
        them on purpose."""
        self._expected.append(re.compile(pattern))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url") or (message.page.url if message.page else "?")
        self.seen.append(f"console error: {message.text} [{where}]")

    def _on_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.seen.append(f"uncaught exception: {error.error.message} [{where}]")

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(e.search(p) for e in self._expected)]

    def check(self) -> None:
        unexpected = self.unexpected()
        if unexpected:
            raise AssertionError(
                "The browser reported problems on the pages this test visited:\n  "
                + "\n  ".join(unexpected)
            )


# Paints the page background into a 1x1 canvas so any CSS colour syntax (rgb, oklch,
# light-dark(), color-mix()) comes back as plain sRGB bytes.
BACKGROUND_COLOUR = """
() => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const paint = canvas.getContext("2d", { willReadFrequently: true });
  for (const element of [document.body, document.documentElement]) {
    const colour = getComputedStyle(element).backgroundColor;
    paint.clearRect(0, 0, 1, 1);
    paint.fillStyle = colour;
    paint.fillRect(0, 0, 1, 1);
    const [red, green, blue, alpha] = paint.getImageData(0, 0, 1, 1).data;
    if (alpha > 0) return { colour, rgb: [red, green, blue] };
  }
  return { colour: "transparent (the browser's white)", rgb: [255, 255, 255] };
}
"""


def relative_luminance(rgb: list[int]) -> float:
    """WCAG relative luminance: 0 for black, 1 for white."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def background(page: Page) -> tuple[str, float]:
    """The page's background colour as CSS computed it, and its relative luminance."""
    result = page.evaluate(BACKGROUND_COLOUR)
    return result["colour"], relative_luminance(result["rgb"])


def eventually[T](
    check: Callable[[], T],
    description: str,
    timeout: float = 30.0,
    pause: Callable[[float], object] = time.sleep,
) -> T:
    """Call `check` until it returns something truthy, and return that.

    A publish reaches every reader within seconds, not at once: each gunicorn worker (and each
    machine) drops its cached copy of a page when it next polls the database. A check that only
    reads what Playwright already knows (page.frames) needs a `pause` that lets Playwright take
    in browser events, such as page.wait_for_timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{description}: still not the case after {timeout:.0f} s")
        pause(0.5)


def layout_widths(page: Page) -> dict[str, int]:
    """How wide the page's content is (scrollWidth) against the viewport (clientWidth)."""
    return page.evaluate(
        "() => ({scrollWidth: document.documentElement.scrollWidth,"
        " clientWidth: document.documentElement.clientWidth})"
    )


@dataclass
class Sample:
    """Pages of the shipped content that the journeys need, found by browsing rather than
    named, so the suite follows the content as it changes."""

    # A post with a code block and an image block.
    post_with_code: str
    docs_page_with_contents: str
    # The longest word in the newest post's title, which search must find.
    search_word: str


def find_sample(browser: Browser, base_url: str) -> Sample:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    try:
        page.goto(BLOG_INDEX)
        newest_title = page.locator("main article h2 a").first.inner_text()
        search_word = max(re.findall(r"[A-Za-z]{4,}", newest_title), key=len)
        # A post with a code block and an image, so both are checked (copy button, axe).
        post = _first_page_with(
            page, _links(page, "main article h2 a"), "main:has(pre code):has(figure img)"
        )
        page.goto(DOCS_INDEX)
        docs_page = _first_page_with(
            page, _links(page, "main nav a"), "main nav[aria-labelledby='toc-heading'] a"
        )
    finally:
        context.close()
    return Sample(post, docs_page, search_word)


def _links(page: Page, selector: str) -> list[str]:
    return [link.get_attribute("href") for link in page.locator(selector).all()]


def _first_page_with(page: Page, urls: list[str], selector: str) -> str:
    for url in urls:
        page.goto(url)
        if page.locator(selector).count():
            return url
    raise AssertionError(f"none of {urls} has {selector!r}: has the shipped content changed?")
