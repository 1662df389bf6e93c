"""/v2/devices: list, show, enable, disable."""

import oslo_messaging as messaging
import pecan
from pecan import hooks
from pecan import rest

from cyborg_clone.api import validation
from cyborg_clone.api.controllers.v2 import listing
from cyborg_clone.api.types import base as types
from cyborg_clone.api.types import device as device_types
from cyborg_clone.common import exception
from cyborg_clone.objects import device

RULE = 'cyborg:device:%s'


def _authorize(action):
    pecan.request.policy.authorize(RULE % action)


def _set_status(device_uuid, status):
    # Through a conductor: it also reserves or releases the device's
    # inventory in Placement.
    request = pecan.request
    device_uuid = validation.uuid(device_uuid)
    try:
        request.conductor_api.set_device_status(
            request.context, device_uuid=device_uuid, status=status)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(
            reason='no conductor answered the request to make device %s %s '
                   'in time.' % (device_uuid, status)) from None


class EmptyOkHook(hooks.PecanHook):
    """Keeps "200 OK, empty body" a 200.

    The API reference answers enable/disable with 200 and no body, but
    Pecan turns every empty 200 into a 204. It leaves a response alone when
    the body comes from a generator that yields something, so give it one
    that yields nothing but an empty chunk.
    """

    def after(self, state):
        response = state.response
        if response.status_int == 200 and not response.body:
            response.app_iter = (chunk for chunk in (b'',))
            response.content_length = 0


class DevicesController(rest.RestController, hooks.HookController):
    __hooks__ = [EmptyOkHook()]
    # POST /devices/{uuid}/enable routes to enable(uuid), and so on.
    _custom_actions = {'enable': ['POST'], 'disable': ['POST']}

    @types.expose(device_types.DeviceCollection, types.text, types.text,
                  types.text, int, types.text, types.text, types.text)
    def get_all(self, type=None, vendor=None, hostname=None, limit=None,
                marker=None, sort_key=None, sort_dir=None):
        _authorize('get_all')
        page = listing.page(pecan.request, limit, marker, sort_key, sort_dir,
                            device.SORT_KEYS)
        devices = device.Device.list(type=type, vendor=vendor,
                                     hostname=hostname, page=page)
        return listing.with_next(
            device_types.DeviceCollection.convert(pecan.request, devices),
            'devices', devices, page)

    @types.expose(device_types.Device, types.text)
    def get_one(self, device_uuid):
        _authorize('get_one')
        found = device.Device.get_by_uuid(validation.uuid(device_uuid))
        return device_types.Device.convert(pecan.request, found)

    @types.expose(None, types.text, status_code=200)
    def enable(self, device_uuid):
        _authorize('enable')
        _set_status(device_uuid, device.ENABLED)

    @types.expose(None, types.text, status_code=200)
    def disable(self, device_uuid):
        _authorize('disable')
        _set_status(device_uuid, device.MAINTAINING)
