"""When an imported page last changed: its file's last commit, not the day of the import.

Each test makes its own git repository of a copy of site/, so the dates are the test's own.
"""

import datetime
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Page

from blog.content.dates import RECORD_NAME, last_commit_times, write_record
from blog.models import BlogPage, DocPage

pytestmark = pytest.mark.django_db

SITE = Path(__file__).resolve().parent.parent / "site"
COMMITTED = datetime.datetime(2026, 11, 21, 8, 30, tzinfo=datetime.UTC)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def git(repository: Path, *args: str, when: datetime.datetime = COMMITTED) -> None:
    stamp = when.isoformat()
    env = {
        **GIT_ENV,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "PATH": os.environ["PATH"],
    }
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repository(tmp_path) -> Path:
    """A git repository holding a copy of site/, committed at COMMITTED."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(SITE, tmp_path / "site", ignore=shutil.ignore_patterns(".*"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "site")
    git(tmp_path, "commit", "-q", "-m", "The site's content")
    return tmp_path


def load(root: Path) -> None:
    call_command("load_content", "--path", str(root), verbosity=0, stdout=io.StringIO())


def docs_page(slug: str) -> DocPage:
    return DocPage.objects.get(slug=slug)


def test_pages_are_dated_by_their_files_last_commit(repository):
    load(repository / "site")

    page = docs_page("scaling")
    assert page.last_published_at == COMMITTED
    assert page.first_published_at > COMMITTED  # when this site first had it: the import


def test_a_later_commit_of_one_file_redates_only_its_page(repository):
    later = COMMITTED + datetime.timedelta(days=3)
    scaling = repository / "site" / "docs" / "operations" / "03-scaling.md"
    scaling.write_text(scaling.read_text() + "\nOne more sentence about scaling.\n")
    git(repository, "commit", "-q", "-am", "More on scaling", when=later)

    load(repository / "site")

    assert docs_page("scaling").last_published_at == later
    assert docs_page("logs").last_published_at == COMMITTED


def test_a_file_with_uncommitted_changes_is_dated_by_the_import(repository):
    scaling = repository / "site" / "docs" / "operations" / "03-scaling.md"
    scaling.write_text(scaling.read_text() + "\nNot committed yet.\n")
    before = datetime.datetime.now(datetime.UTC)

    load(repository / "site")

    assert docs_page("scaling").last_published_at >= before
    assert docs_page("logs").last_published_at == COMMITTED


def test_a_post_is_never_updated_before_it_was_published(repository):
    load(repository / "site")

    # The shipped posts are dated 2 to 25 November; the commit is of 21 November.
    late_post = BlogPage.objects.order_by("-date").first()
    assert late_post.first_published_at > COMMITTED
    assert late_post.last_published_at == late_post.first_published_at
    early_post = BlogPage.objects.order_by("date").first()
    assert early_post.last_published_at == COMMITTED


def test_without_a_repository_there_are_no_dates(tmp_path):
    shutil.copytree(SITE / "docs", tmp_path / "docs")
    assert last_commit_times(tmp_path) == {}


def test_a_shallow_clone_gives_no_dates(repository, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repository}", str(clone))
    assert last_commit_times(clone / "site") == {}


def test_the_page_is_published_only_once(repository):
    load(repository / "site")
    page = docs_page("scaling")
    assert Page.objects.get(pk=page.pk).revisions.count() == 1


# --- Where git is not: the image, whose build records the dates first -------------------------


def image_copy(repository: Path, tmp_path: Path) -> Path:
    """site/ as the image holds it: the files and the build's record, no repository."""
    copy = tmp_path / "image" / "site"
    shutil.copytree(repository / "site", copy)
    return copy


def test_the_builds_record_dates_pages_where_there_is_no_git(repository, tmp_path):
    scaling = repository / "site" / "docs" / "operations" / "03-scaling.md"
    scaling.write_text(scaling.read_text() + "\nNot committed yet.\n")
    assert write_record(repository / "site") > 10
    site = image_copy(repository, tmp_path)
    before = datetime.datetime.now(datetime.UTC)

    load(site)

    assert docs_page("logs").last_published_at == COMMITTED
    # Changed after its last commit: git cannot date it, so the import does.
    assert docs_page("scaling").last_published_at >= before


def test_git_wins_over_a_record_left_from_an_earlier_build(repository):
    (repository / "site" / RECORD_NAME).write_text(
        '{"docs/operations/01-logs.md": "2020-01-01T00:00:00+00:00"}'
    )

    load(repository / "site")

    assert docs_page("logs").last_published_at == COMMITTED


@pytest.mark.parametrize(
    "record",
    [
        "not json",
        '["a list"]',
        '{"docs/operations/01-logs.md": "yesterday"}',
        '{"docs/operations/01-logs.md": "2020-01-01T00:00:00"}',
        '{"../site/docs/operations/01-logs.md": "2020-01-01T00:00:00+00:00"}',
    ],
)
def test_a_record_that_cannot_be_read_leaves_the_import_time(tmp_path, record):
    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".*"))
    (site / RECORD_NAME).write_text(record)
    before = datetime.datetime.now(datetime.UTC)

    load(site)

    assert docs_page("logs").last_published_at >= before


def test_a_shallow_clone_records_nothing_and_removes_an_old_record(repository, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repository}", str(clone))
    (clone / "site" / RECORD_NAME).write_text("{}")
    result = subprocess.run(
        [sys.executable, "blog/content/dates.py", str(clone / "site")],
        cwd=SITE.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "shallow clone: fetch the whole history" in result.stdout
    assert not (clone / "site" / RECORD_NAME).exists()


def test_the_record_is_written_by_a_plain_python_with_a_clear_answer_for_a_wrong_folder(
    repository, tmp_path
):
    def run(*args: str):
        return subprocess.run(
            [sys.executable, "-I", "blog/content/dates.py", *args],
            cwd=SITE.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )

    # -I: no site-packages, as on a build machine before anything is installed.
    written = run(str(repository / "site"))
    assert written.returncode == 0
    assert "files' last commits recorded in" in written.stdout
    assert last_commit_times(image_copy(repository, tmp_path))
    missing = run(str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "is not a folder" in missing.stderr
    assert "Traceback" not in missing.stderr
