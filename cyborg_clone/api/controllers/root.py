"""The root controller: the version document and the /v2 subtree."""

import pecan
from pecan import rest

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
        return self.v2._lookup(primary_key, *remainder)
