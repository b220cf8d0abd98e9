"""Admin registrations: authors as snippets, shared by every post that names them."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from blog.models import Author


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    menu_label = "Authors"
    list_display = ["name", "url"]
    search_fields = ["name"]


register_snippet(AuthorViewSet)
