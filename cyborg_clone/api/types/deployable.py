"""WSME types of deployables."""

import json

from cyborg_clone.api import links
from cyborg_clone.api.types import base


class Deployable(base.APIBase):
    uuid = base.text
    parent_id = int
    root_id = int
    name = base.text
    num_accelerators = int
    device_id = int
    # A JSON string of one-key objects, e.g. '[{"traits1": "CUSTOM_X"},
    # {"rc": "FPGA"}]', as upstream clients expect.
    attributes_list = base.text
    rp_uuid = base.text
    driver_name = base.text
    bitstream_id = base.text
    # Only from microversion 2.4: available | cleaning | cleanup_failed,
    # and why the cleanup failed.
    state = base.text
    state_reason = base.text

    @classmethod
    def convert(cls, request, obj, link_base=None):
        attributes = json.dumps([{key: value}
                                 for key, value in obj.attributes])
        extra = {}
        if not request.version.matches('2.4'):
            extra = {'state': base.Unset, 'state_reason': base.Unset}
        return cls.build(obj, links.make(request, 'deployables', obj.uuid,
                                         bookmark=True, base=link_base),
                         attributes_list=attributes, **extra)


class DeployableCollection(base.Collection):
    deployables = [Deployable]
