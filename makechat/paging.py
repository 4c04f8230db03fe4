"""Cursor paging: a range on an indexed key plus a limit, never skip().

The HTTP side (reading ``limit`` and ``after``, announcing the next page in
a ``Link`` header) is in ``makechat.resources.operation``."""

from typing import Any, NamedTuple

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(NamedTuple):
    """One page of a listing, and the cursor of the next page (None: last page)."""

    items: list[Any]
    next_after: Any = None


def page_by_id(queryset: Any, after: Any, limit: int) -> Page:
    """Return the Page of a queryset ordered by _id, after the id ``after``."""
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    items = list(queryset.order_by("id").limit(limit + 1))
    if len(items) > limit:
        items = items[:limit]
        return Page(items, items[-1].id)
    return Page(items)
