"""Cursor paging for listings: a range on an indexed key plus a limit, never
skip(), and the next page announced in a ``Link: <...>; rel="next"`` header."""

from urllib.parse import urlencode

import falcon

from makechat.ids import parse_id

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def get_limit(req, default=DEFAULT_LIMIT, maximum=MAX_LIMIT):
    """Return the 'limit' query parameter (1..maximum), 400 if malformed."""
    return req.get_param_as_int("limit", min_value=1, max_value=maximum, default=default)


def get_after_id(req):
    """Return the 'after' cursor as an ObjectId (None if absent), 400 if malformed."""
    value = req.get_param("after")
    if value is None:
        return None
    cursor = parse_id(value)
    if cursor is None:
        raise falcon.HTTPInvalidParam("The cursor must be an id from a previous page.", "after")
    return cursor


def page_by_id(queryset, req, resp):
    """Return one page of the queryset ordered by _id, setting the Link header."""
    limit = get_limit(req)
    after = get_after_id(req)
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    items = list(queryset.order_by("id").limit(limit + 1))
    if len(items) > limit:
        items = items[:limit]
        set_next_link(req, resp, after=str(items[-1].id), limit=limit)
    return items


def set_next_link(req, resp, drop=(), **params):
    """Announce the next page: the current query with new cursor parameters
    (and without those named in ``drop``)."""
    query = {key: value for key, value in req.params.items()
             if key not in params and key not in drop}
    query.update(params)
    resp.append_header("Link", f'<{req.path}?{urlencode(query, doseq=True)}>; rel="next"')
