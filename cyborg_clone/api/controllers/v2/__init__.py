"""The /v2 subtree: one controller per resource."""

import pecan
from pecan import rest

from cyborg_clone.api.controllers import versions
from cyborg_clone.api.controllers.v2 import device_profiles


class V2Controller(rest.RestController):
    RESOURCES = ('device_profiles',)

    device_profiles = device_profiles.DeviceProfilesController()

    @pecan.expose()
    def _lookup(self, name, *remainder):
        if name not in self.RESOURCES:
            pecan.abort(404)
        return getattr(self, name), remainder

    @pecan.expose('json')
    def get_all(self):
        return versions.version_document(pecan.request, 'v2.0')
