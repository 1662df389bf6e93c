"""WSME building blocks shared by the resource types."""

import datetime

from wsme import types as wtypes
from wsmeext import pecan as wsme_pecan

expose = wsme_pecan.wsexpose
text = wtypes.text
Unset = wtypes.Unset
StringDict = wtypes.DictType(wtypes.text, wtypes.text)


class JsonType(wtypes.UserType):
    """Any JSON value; validated by a JSON schema in ``api/schemas``."""

    basetype = wtypes.text
    name = 'json'

    def validate(self, value):
        return value

    @staticmethod
    def frombasetype(value):
        return value


json_body = JsonType()


class Link(wtypes.Base):
    href = wtypes.text
    rel = wtypes.text


class APIBase(wtypes.Base):
    created_at = datetime.datetime
    updated_at = datetime.datetime
    links = [Link]

    @classmethod
    def build(cls, obj, fields, links, **extra):
        """Copy ``fields`` from ``obj``; timestamps become UTC-aware and
        second-precise so they render as 2020-03-13T02:26:31+00:00."""
        values = {name: getattr(obj, name) for name in fields}
        values['created_at'] = timestamp(obj.created_at)
        values['updated_at'] = timestamp(obj.updated_at)
        values['links'] = [Link(**link) for link in links]
        values.update(extra)
        return cls(**values)


class Envelope(wtypes.Base):
    """A response that wraps one item under a key."""


class Collection(wtypes.Base):
    """A list response; ``next`` links to the following page, if any."""

    next = wtypes.text


def timestamp(value):
    if value is None:
        return None
    return value.replace(microsecond=0, tzinfo=datetime.timezone.utc)
