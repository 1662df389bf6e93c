"""The /v2 subtree: one controller per resource."""

import pecan
from pecan import rest

from cyborg_clone.api.controllers import fpga_images
from cyborg_clone.api.controllers import versions
from cyborg_clone.api.controllers.v2 import arqs
from cyborg_clone.api.controllers.v2 import attributes
from cyborg_clone.api.controllers.v2 import deployables
from cyborg_clone.api.controllers.v2 import device_profiles
from cyborg_clone.api.controllers.v2 import devices


class V2Controller(rest.RestController):
    RESOURCES = ('device_profiles', 'accelerator_requests', 'devices',
                 'deployables', 'attributes')

    device_profiles = device_profiles.DeviceProfilesController()
    accelerator_requests = arqs.ARQsController()
    devices = devices.DevicesController()
    deployables = deployables.DeployablesController()
    attributes = attributes.AttributesController()

    @pecan.expose()
    def _lookup(self, name, *remainder):
        if name in self.RESOURCES:
            return getattr(self, name), remainder
        # /v2/{project_id}/cloudservers/fpga_image (the FPGA image API).
        found = fpga_images.route('v2', name, remainder)
        if found is None:
            pecan.abort(404)
        return found

    @pecan.expose('json')
    def get_all(self):
        return versions.version_document(pecan.request, 'v2.0')
