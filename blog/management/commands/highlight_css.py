"""Write the Pygments rules for code blocks into static/css/site.css (or check they are current).

The rules sit between `/* pygments:start */` and `/* pygments:end */`, so the site keeps one
stylesheet. Run this after changing the styles or colours in blog/highlighting.py.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.highlighting import stylesheet_rules

START, END = "/* pygments:start */\n", "/* pygments:end */"


def stylesheet_path() -> Path:
    return Path(settings.BASE_DIR) / "static" / "css" / "site.css"


def with_current_rules(css: str) -> str:
    """The stylesheet with its generated section replaced by the current rules."""
    if START not in css or END not in css:
        raise CommandError(f"site.css has no {START.strip()} ... {END} section to fill in")
    before, rest = css.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}{stylesheet_rules()}{END}{after}"


class Command(BaseCommand):
    help = "Write the code highlighting rules into static/css/site.css (--check: only compare)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with an error when site.css is out of date, without writing it.",
        )

    def handle(self, *args, check=False, **options):
        path = stylesheet_path()
        css = path.read_text()
        updated = with_current_rules(css)
        if check:
            if updated != css:
                raise CommandError(
                    "static/css/site.css is out of date: run `python manage.py highlight_css`"
                )
            self.stdout.write("site.css highlighting rules are current.")
            return
        if updated == css:
            self.stdout.write("site.css highlighting rules were already current.")
            return
        path.write_text(updated)
        self.stdout.write(
            f"Wrote the highlighting rules into {path.relative_to(settings.BASE_DIR)}."
        )
