"""WSME types of device profiles."""

from cyborg_clone.api import links
from cyborg_clone.api.types import base


class DeviceProfile(base.APIBase):
    uuid = base.text
    name = base.text
    description = base.text
    groups = [base.StringDict]

    @classmethod
    def convert(cls, request, obj, link_base=None):
        return cls.build(obj, links.make(request, 'device_profiles',
                                         obj.uuid, base=link_base))


class DeviceProfileCollection(base.Collection):
    device_profiles = [DeviceProfile]


class DeviceProfileEnvelope(base.Envelope):
    device_profile = DeviceProfile
