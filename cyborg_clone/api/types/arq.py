"""WSME types of accelerator requests."""

from wsme import types as wtypes

from cyborg_clone.api import links
from cyborg_clone.api.types import base


class ARQ(base.APIBase):
    uuid = base.text
    state = base.text
    device_profile_name = base.text
    device_profile_group_id = int
    hostname = base.text
    device_rp_uuid = base.text
    instance_uuid = base.text
    project_id = base.text
    attach_handle_type = base.text
    attach_handle_uuid = base.text
    attach_handle_info = wtypes.DictType(wtypes.text, wtypes.text)

    @classmethod
    def convert(cls, request, obj, link_base=None):
        return cls.build(obj, links.make(request, 'accelerator_requests',
                                         obj.uuid, base=link_base))


class ARQCollection(base.Collection):
    arqs = [ARQ]
