"""WSME building blocks shared by the resource types.

Each response shape is declared once, as a WSME class in this package. The
classes are rendered as plain dicts following their declared attributes
rather than instantiated: WSME validates every attribute on assignment and
walks every object again to encode it, which made a 1,000-item list several
times slower than the database query behind it (bench/api_bench.py).
"""

import datetime
import functools
import operator

from wsme import types as wtypes
from wsmeext import pecan as wsme_pecan

from cyborg_clone.api import links as links_module

text = wtypes.text
Unset = wtypes.Unset
StringDict = wtypes.DictType(wtypes.text, wtypes.text)
# Attributes every item has that build() fills itself.
_SPECIAL = ('created_at', 'updated_at', 'links')
_NO_EXTRA = frozenset()


class JsonType(wtypes.UserType):
    """Any JSON value: request bodies (validated by a JSON schema in
    ``api/schemas``) and responses already rendered as dicts."""

    basetype = wtypes.text
    name = 'json'

    def validate(self, value):
        return value

    @staticmethod
    def frombasetype(value):
        return value


json_body = JsonType()


def expose(return_type=None, *args, **kwargs):
    """WSME's expose; a declared response class is rendered as a dict."""
    if isinstance(return_type, type) and issubclass(return_type,
                                                    wtypes.Base):
        return_type = json_body
    return wsme_pecan.wsexpose(return_type, *args, **kwargs)


class Link(wtypes.Base):
    href = wtypes.text
    rel = wtypes.text


class APIBase(wtypes.Base):
    """An item: its declared attributes plus timestamps and links."""

    created_at = datetime.datetime
    updated_at = datetime.datetime
    links = [Link]

    @classmethod
    @functools.cache
    def attribute_names(cls):
        return tuple(attr.name for attr in wtypes.list_attributes(cls))

    @classmethod
    @functools.cache
    def _layout(cls, extra_names):
        """How build() fills a dict when ``extra_names`` come from the
        caller: the names read from the object at once, the timestamps and
        links, the extras, and whether that is already declared order."""
        names = cls.attribute_names()
        plain = tuple(n for n in names
                      if n not in extra_names and n not in _SPECIAL)
        special = tuple(n for n in names
                        if n in _SPECIAL and n not in extra_names)
        extras = tuple(n for n in names if n in extra_names)
        ordered = plain + special + extras == names
        return plain, _reader(plain), special, extras, ordered

    @classmethod
    def build(cls, obj, links, **extra):
        """The response dict of ``obj``: each declared attribute from
        ``extra`` or else from ``obj``; an Unset value in ``extra`` is left
        out (how a field newer than the request's microversion
        disappears)."""
        plain, getter, special, extras, ordered = cls._layout(
            frozenset(extra) if extra else _NO_EXTRA)
        values = dict(zip(plain, getter(obj), strict=True))
        for name in special:
            values[name] = (links if name == 'links'
                            else timestamp(getattr(obj, name)))
        for name in extras:
            values[name] = extra[name]
        if not ordered:
            values = {name: values[name] for name in cls.attribute_names()}
        if extras and any(extra[name] is Unset for name in extras):
            values = {k: v for k, v in values.items() if v is not Unset}
        return values


class Envelope(wtypes.Base):
    """A response that wraps one item under a key."""

    @classmethod
    def wrap(cls, item):
        [attr] = wtypes.list_attributes(cls)
        return {attr.name: item}


class Collection(wtypes.Base):
    """A list response; ``next`` links to the following page, if any."""

    next = wtypes.text

    @classmethod
    @functools.cache
    def _items(cls):
        [attr] = [a for a in wtypes.list_attributes(cls)
                  if isinstance(a.datatype, wtypes.ArrayType)]
        return attr.name, attr.datatype.item_type

    @classmethod
    def convert(cls, request, objs):
        key, item_type = cls._items()
        base = links_module.base_url(request)
        return {key: [item_type.convert(request, obj, base) for obj in objs]}


def _reader(names):
    """A function of an object returning the tuple of its ``names``."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda obj: tuple(getattr(obj, name) for name in names)


def timestamp(value):
    """ISO 8601 in UTC to the second: 2020-03-13T02:26:31+00:00."""
    if value is None:
        return None
    if value.tzinfo is None:  # as the database gives them: one call less
        return value.isoformat(timespec='seconds') + '+00:00'
    return value.replace(microsecond=0,
                         tzinfo=datetime.timezone.utc).isoformat()
