"""When an imported page last changed: its file's last commit, not the day of the import.

Each test makes its own git repository of a copy of site/, so the dates are the test's own.
"""

import datetime
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Page

from blog.content.importer import last_commit_times
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
