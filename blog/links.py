"""Absolute URLs on the host and scheme a request came in on."""


def absolute_url(request, path: str) -> str:
    """`path` on the host and scheme this request came in on (validated by ALLOWED_HOSTS).

    The request, not Wagtail's Site record, decides: the Site says `localhost` until someone
    edits it, and a Fly app is reached as <app>.fly.dev or a custom domain.
    """
    if request is None:
        return path
    return request.build_absolute_uri(path)
