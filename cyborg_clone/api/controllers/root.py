"""The root controller: the version document and the /v2 subtree."""

import pecan
from pecan import rest

from cyborg_clone.api.controllers import fpga_images
from cyborg_clone.api.controllers import v2
from cyborg_clone.api.controllers import versions


class RootController(rest.RestController):
    v2 = v2.V2Controller()

    @pecan.expose('json')
    def get_all(self):
        return versions.root_document(pecan.request)

    @pecan.expose()
    def _lookup(self, primary_key, *remainder):
        # RestController consults _lookup before child attributes, so /v2
        # is routed here too. Upstream also serves every resource without
        # the /v2 prefix (bookmark links point there).
        if primary_key == 'v2':
            return self.v2, remainder
        if primary_key == 'v1' and remainder:
            # /v1/{project_id}/cloudservers/fpga_image (FPGA image API).
            found = fpga_images.route('v1', remainder[0], remainder[1:])
            if found is not None:
                return found
            pecan.abort(404)
        return self.v2._lookup(primary_key, *remainder)
