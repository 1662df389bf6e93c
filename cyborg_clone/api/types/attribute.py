"""WSME types of attributes."""

from cyborg_clone.api import links
from cyborg_clone.api.types import base


class Attribute(base.APIBase):
    uuid = base.text
    id = int
    deployable_id = int
    key = base.text
    value = base.text

    @classmethod
    def convert(cls, request, obj, link_base=None):
        return cls.build(obj, links.make(request, 'attributes', obj.uuid,
                                         base=link_base))


class AttributeCollection(base.Collection):
    attributes = [Attribute]
