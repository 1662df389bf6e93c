"""WSME types of devices."""

from cyborg_clone.api import links
from cyborg_clone.api.types import base


class Device(base.APIBase):
    uuid = base.text
    type = base.text
    vendor = base.text
    model = base.text
    std_board_info = base.text
    vendor_board_info = base.text
    hostname = base.text
    # Only from microversion 2.3; older versions leave it out.
    status = base.text

    @classmethod
    def convert(cls, request, obj, link_base=None):
        status = obj.status if request.version.matches('2.3') else base.Unset
        return cls.build(obj, links.make(request, 'devices', obj.uuid,
                                         base=link_base),
                         status=status)


class DeviceCollection(base.Collection):
    devices = [Device]
