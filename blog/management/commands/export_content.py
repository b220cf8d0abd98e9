"""Write the site's live pages back to Markdown files in the format load_content imports."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.content.errors import ContentError
from blog.content.exporter import Exporter, ExportStatus
from blog.content.report import count, display, outcome_line, summary

DEFAULT_FOLDER = "site"
LABEL_WIDTH = 10


class Command(BaseCommand):
    help = (
        "Export the live pages to Markdown files with front matter (the format of site/), "
        "images included, so that load_content reproduces the same pages."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help=f"The folder to write (default: {DEFAULT_FOLDER}/ in the repository).",
        )

    def handle(self, *args, **options):
        display_root = options["path"] or DEFAULT_FOLDER
        target = Path(options["path"]) if options["path"] else settings.BASE_DIR / DEFAULT_FOLDER
        if target.exists() and not target.is_dir():
            raise CommandError(f"{display_root} is a file: give a folder with --path")
        exporter = Exporter(target)
        started = time.monotonic()
        try:
            outcomes = exporter.run()
        except ContentError as error:
            raise CommandError(str(error)) from None
        elapsed = time.monotonic() - started

        for outcome in outcomes:
            if outcome.status == ExportStatus.UNCHANGED and options["verbosity"] < 1:
                continue
            where = display(display_root, outcome.path) if outcome.path else ""
            self.stdout.write(
                outcome_line(outcome.status, LABEL_WIDTH, outcome.url, where, outcome.note)
            )
        counts = count(outcomes, ExportStatus)
        images = len(exporter.image_names)
        self.stdout.write(
            f"{summary(counts)}; {images} image(s) in {display_root}/images ({elapsed:.1f} s)."
        )
        failed = counts[ExportStatus.FAILED]
        if failed:
            raise CommandError(f"{failed} page(s) could not be exported (see above).")
