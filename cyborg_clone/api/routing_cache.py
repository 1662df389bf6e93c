"""A bounded memo of Pecan's routing: (method, path shape) to controller.

Pecan walks the RestController tree on every request (``_route``,
``_handle_get``, ``_lookup``, signature checks), which cost more than half
of a version document request. The walk's answer depends only on the
method and on the path's literal segments: a segment shaped like an id (a
UUID, 32 hex digits or a decimal number) is never a controller attribute,
custom action or resource name, so it only ever ends up as an argument.
The memo keys on the path with those segments blanked and remembers where
each argument of the answer came from, and the controller's content types,
so that a plain ``Accept: application/json`` needs no negotiation.

Only answers that Pecan reached without side effects worth replaying are
kept: the controller must be a method of a controller built once at start
(not one made per request, like the FPGA image API's, which holds its
project id), nested REST ``routing_args`` must be unused, and the request
must not be a form that can override its method with ``_method``. Errors
(404, 405 with its Allow header) are never kept: Pecan raises them afresh.
"""

import re
import threading

from pecan import core
from pecan import rest
from pecan import util as pecan_util

_ID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                 r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[0-9]{1,19}')
_ID_SLOT = None  # stands for an id-shaped segment in a key
_FORMS = ('', 'application/x-www-form-urlencoded', 'multipart/form-data')

MAX_ENTRIES = 512


def _is_id(segment):
    return _ID.fullmatch(segment) is not None


def static_controllers(root):
    """The controllers reachable from ``root`` through class attributes:
    built once, so an answer naming one of their methods can be reused.
    A controller with ``check_permissions`` (Pecan's secure controllers)
    is left out, since its checks run while routing."""
    found, pending = {}, [root]
    while pending:
        controller = pending.pop()
        if id(controller) in found or hasattr(controller,
                                              'check_permissions'):
            continue
        found[id(controller)] = controller
        for klass in type(controller).__mro__:
            for value in vars(klass).values():
                if isinstance(value, rest.RestController):
                    pending.append(value)
    return list(found.values())


def _is_form(environ):
    # What webob's Request.POST parses, which RestController reads for
    # ``_method`` while routing.
    content_type = environ.get('CONTENT_TYPE', '').split(';', 1)[0].strip()
    return content_type in _FORMS and (
        environ['REQUEST_METHOD'] == 'POST' or content_type != '')


def _negotiate(req, content_types):
    """Settle the response type Pecan would negotiate when Accept names
    exactly one media type the controller offers (``application/json``
    from every OpenStack client): that type. Pecan then skips its own
    negotiation, which parses the header twice. Anything else (several
    types, wildcards, parameters) is left to Pecan."""
    accept = req.environ.get('HTTP_ACCEPT')
    if accept in content_types and req.pecan['content_type'] is None:
        req.pecan['content_type'] = accept


class RouteCache:
    """Wraps a Pecan app's ``route(req, node, path)`` with the memo."""

    def __init__(self, route, root, max_entries=MAX_ENTRIES):
        self._route = route
        self._root = root
        self._controllers = static_controllers(root)
        self._owners = frozenset(id(c) for c in self._controllers)
        self._max_entries = max_entries
        self._entries = {}
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._entries)

    def __call__(self, req, node, path):
        environ = req.environ
        if (node is not self._root
                or '_method' in environ.get('QUERY_STRING', '')
                or _is_form(environ)):
            return self._route(req, node, path)
        segments = path.split('/')[1:]
        key = (environ['REQUEST_METHOD'],
               tuple(_ID_SLOT if _is_id(s) else s for s in segments))
        entry = self._entries.get(key)
        if entry is not None:
            controller, template, content_types = entry
            _negotiate(req, content_types)
            return controller, [segments[i] if i.__class__ is int else i
                                for i in template]
        controller, remainder = self._route(req, node, path)
        entry = self._entry(req, segments, controller, remainder)
        if entry is not None:
            self._store(key, entry)
            _negotiate(req, entry[2])
        return controller, remainder

    def _entry(self, req, segments, controller, remainder):
        """(controller, template, content types) for the answer, or None
        when it may not be reused; a template item is a literal or a
        segment's index."""
        if 'routing_args' in req.pecan:
            return None
        if id(getattr(controller, '__self__', None)) not in self._owners:
            return None
        config = pecan_util._cfg(controller)
        # A generic controller's handler, and so its content types,
        # depends on the method: leave negotiation to Pecan.
        content_types = (frozenset() if config.get('generic')
                         else frozenset(config.get('content_types', ())))
        template = []
        for item in remainder:
            if not isinstance(item, str):
                return None
            if _is_id(item):
                where = [i for i, s in enumerate(segments) if s == item]
                if len(where) != 1:
                    return None
                template.append(where[0])
            else:
                template.append(item)
        return controller, tuple(template), content_types

    def _store(self, key, entry):
        with self._lock:
            while len(self._entries) >= self._max_entries:
                # Oldest first: a flood of made-up paths cannot grow it.
                del self._entries[next(iter(self._entries))]
            self._entries[key] = entry


def install(app, max_entries=MAX_ENTRIES):
    """Memoize the routing of ``app``, the Pecan app (or Pecan's
    RecursiveMiddleware around it, as ``pecan.make_app`` returns)."""
    pecan_app = getattr(app, 'application', app)
    if not isinstance(pecan_app, core.PecanBase):
        raise TypeError('not a Pecan app: %r' % (pecan_app,))
    cache = RouteCache(pecan_app.route, pecan_app.root, max_entries)
    pecan_app.route = cache
    return cache

