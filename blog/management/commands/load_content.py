"""Import the site's content from site/ (Markdown with front matter) into Wagtail pages.

Idempotent, and an editor's change in the admin always wins over the file unless --force.
The format is documented in site/README.md.
"""

import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.content.importer import Importer, ImportStatus
from blog.content.report import count, display, outcome_line, summary

DEFAULT_FOLDER = "site"
LABEL_WIDTH = 19


class Command(BaseCommand):
    help = (
        "Import site/ into Wagtail pages: create missing pages, update the ones whose file "
        "changed, and skip pages an editor changed in the admin (unless --force)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=None,
            help=f"The content folder (default: {DEFAULT_FOLDER}/ in the repository).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Apply files over editors' changes too (their revisions stay in the history).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse every file and print what would happen; write nothing.",
        )

    def handle(self, *args, **options):
        display_root = options["path"] or DEFAULT_FOLDER
        root = Path(options["path"]) if options["path"] else settings.BASE_DIR / DEFAULT_FOLDER
        if not root.is_dir():
            raise CommandError(
                f"{display_root} is not a folder: give the content folder with --path"
            )
        dry_run = options["dry_run"]
        importer = Importer(root, display_root, force=options["force"], dry_run=dry_run)
        verbosity = options["verbosity"]
        # Wagtail logs every page it creates and publishes; the lines below say the same per file.
        wagtail_logger = logging.getLogger("wagtail")
        previous_level = wagtail_logger.level
        if verbosity < 2:
            wagtail_logger.setLevel(logging.WARNING)
        started = time.monotonic()
        try:
            outcomes = importer.run()
        finally:
            wagtail_logger.setLevel(previous_level)
        elapsed = time.monotonic() - started

        for outcome in outcomes:
            if outcome.status == ImportStatus.UNCHANGED and verbosity < 1 and not outcome.note:
                continue
            self.stdout.write(self.format_line(display_root, outcome, dry_run))

        counts = count(outcomes, ImportStatus)
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary(counts)} ({elapsed:.1f} s).")
        changes = (ImportStatus.CREATED, ImportStatus.UPDATED, ImportStatus.FAILED)
        if not any(counts[status] for status in changes) and not dry_run:
            self.stdout.write("Nothing changed: every page matches its file.")
        failed = counts[ImportStatus.FAILED]
        if failed:
            raise CommandError(
                f"{failed} file(s) could not be imported (see the `failed` lines above); "
                "the other files were imported."
            )

    @staticmethod
    def format_line(display_root: str, outcome, dry_run: bool) -> str:
        label = outcome.status
        if dry_run and label in (ImportStatus.CREATED, ImportStatus.UPDATED):
            label = f"would be {label}"
        where = display(display_root, outcome.path)
        if outcome.status == ImportStatus.FAILED:
            return f"{label:<{LABEL_WIDTH}} {where}:{outcome.line}: {outcome.note}"
        return outcome_line(label, LABEL_WIDTH, outcome.url, where, outcome.note)
