"""Wagtail: giving a request the Site it is for without a database query.

Wagtail's `Site.find_for_request(request)` looks the site up (a query) and keeps the answer on the
request as `request._wagtail_site`, which every later call on that request returns. There is no
public way to hand a request a Site found earlier, so blog.site_data, which keeps the Site per
process, sets that attribute here. If a Wagtail release renames it, Wagtail simply looks the site
up again (one query), and tests/test_upstream.py fails to say so.
"""

WAGTAIL_SITE_ATTRIBUTE = "_wagtail_site"


def give_request_its_site(request, site) -> None:
    """Make `Site.find_for_request(request)` answer `site` for this request."""
    setattr(request, WAGTAIL_SITE_ATTRIBUTE, site)
