"""Security middleware and helpers: Permissions-Policy, request size, client IP."""

from django.conf import settings
from django.http import HttpResponse

# Browser features the site never uses; denying them limits what injected code could do.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )
)


def client_ip(request) -> str:
    """The reader's address. On Fly the proxy puts it in Fly-Client-IP; anywhere else that
    header could be forged, so only the socket address counts."""
    if settings.FLY_APP_NAME:
        forwarded = request.META.get("HTTP_FLY_CLIENT_IP", "").strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


class PermissionsPolicyMiddleware:
    """Adds Permissions-Policy to every response. (The Content-Security-Policy comes from
    Django's middleware: the admin's views get theirs in config/urls.py, previews in
    blog.models.base.BasePage.serve_preview.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestSizeLimitMiddleware:
    """Refuses bodies over MAX_REQUEST_BYTES with 413 before anything reads them.

    Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not multipart uploads as a whole.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.\n", status=400, content_type="text/plain")
        if length > settings.MAX_REQUEST_BYTES:
            limit_mb = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            return HttpResponse(
                f"Request too large: the limit is {limit_mb} MB.\n",
                status=413,
                content_type="text/plain",
            )
        return self.get_response(request)
