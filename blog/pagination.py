"""Pagination that never fails on a bad `?page=`: anything unreadable or too small is page 1,
anything past the end is the last page."""

from django.core.paginator import Page, Paginator


def paginate(request, items, per_page: int) -> Page:
    paginator = Paginator(items, per_page, allow_empty_first_page=True)
    try:
        number = int(request.GET.get("page", "1"))
    except (TypeError, ValueError, OverflowError):
        number = 1
    number = min(max(number, 1), paginator.num_pages)
    return paginator.page(number)
