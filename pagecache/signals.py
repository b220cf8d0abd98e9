"""What counts as a change to published content, and so invalidates every cached page."""

from django.db.models.signals import post_delete, post_save
from wagtail.models import Page
from wagtail.signals import page_slug_changed, post_page_move, published, unpublished

from pagecache.generation import bump

# Page fields that saving a draft touches; changing only these leaves the live page as it was.
DRAFT_ONLY_FIELDS = frozenset(
    {
        "draft_title",
        "has_unpublished_changes",
        "latest_revision",
        "latest_revision_created_at",
        "locked",
        "locked_at",
        "locked_by",
    }
)
# Models whose rows readers see (besides pages): any app label here, or a "label.Model" name.
SHOWN_APPS = {"blog", "taggit"}
SHOWN_MODELS = {
    "wagtailcore.site",
    # Making a page private must stop its cached copy reaching anonymous readers at once.
    "wagtailcore.pageviewrestriction",
    "wagtailimages.image",
    "wagtaildocs.document",
    "wagtailredirects.redirect",
}


def _on_publish_change(sender, **kwargs):
    bump()


def _page_change_is_public(page, update_fields, created) -> bool:
    if update_fields is not None and set(update_fields) <= DRAFT_ONLY_FIELDS:
        return False
    return bool(page.live or created)


def _on_row_saved(sender, instance, created=False, update_fields=None, **kwargs):
    # Django sends post_save with the concrete class as sender, so page subclasses arrive here
    # too; they are told apart by instance, not by sender.
    if isinstance(instance, Page):
        if _page_change_is_public(instance, update_fields, created):
            bump()
    elif _shown_to_readers(sender):
        bump()


def _on_row_deleted(sender, instance, **kwargs):
    if isinstance(instance, Page) or _shown_to_readers(sender):
        bump()


def _shown_to_readers(model) -> bool:
    meta = model._meta
    return meta.app_label in SHOWN_APPS or meta.label_lower in SHOWN_MODELS


def connect() -> None:
    for signal in (published, unpublished, page_slug_changed, post_page_move):
        signal.connect(_on_publish_change, dispatch_uid=f"pagecache-{id(signal)}")
    post_save.connect(_on_row_saved, dispatch_uid="pagecache-row-saved")
    post_delete.connect(_on_row_deleted, dispatch_uid="pagecache-row-deleted")
