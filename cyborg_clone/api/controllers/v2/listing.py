"""Paging of list responses: limit/marker/sort_key/sort_dir in, a ``next``
link out when the page is full."""

from urllib import parse

import pecan

from cyborg_clone.api import links
from cyborg_clone.api import validation
from cyborg_clone.common import exception
from cyborg_clone.objects import base


def page(request, limit, marker, sort_key, sort_dir, sort_keys):
    """A Page from the query parameters, or None when none were given."""
    if limit is None and marker is None and sort_key is None \
            and sort_dir is None:
        return None
    max_limit = request.conf.api.max_limit
    if limit is not None and not 1 <= limit <= max_limit:
        raise exception.Invalid(reason='limit must be between 1 and %d.'
                                % max_limit)
    if marker is not None:
        marker = validation.uuid(marker)
    sort_key = sort_key or 'id'
    if sort_key not in sort_keys:
        raise exception.Invalid(reason='sort_key must be one of: %s.'
                                % ', '.join(sort_keys))
    sort_dir = sort_dir or 'asc'
    if sort_dir not in ('asc', 'desc'):
        raise exception.Invalid(reason='sort_dir must be asc or desc.')
    return base.Page(limit=limit or max_limit, marker=marker,
                     sort_key=sort_key, sort_dir=sort_dir)


def with_next(collection, resource, objs, page):
    """Add a ``next`` link to ``collection`` when ``objs`` filled the
    page."""
    if page is None or len(objs) < page.limit:
        return collection
    request_query = dict(parse.parse_qsl(pecan.request.query_string))
    request_query['marker'] = objs[-1].uuid
    request_query['limit'] = str(page.limit)
    collection['next'] = '%s/v2/%s?%s' % (
        links.base_url(pecan.request), resource,
        parse.urlencode(request_query))
    return collection
