"""/v2/deployables: list, show, program."""

import oslo_messaging as messaging
import pecan
from pecan import rest

from cyborg_clone.api import validation
from cyborg_clone.api.controllers.v2 import listing
from cyborg_clone.api.schemas import deployable as schema
from cyborg_clone.api.types import base as types
from cyborg_clone.api.types import deployable as deployable_types
from cyborg_clone.clients import image_store
from cyborg_clone.common import exception
from cyborg_clone.objects import deployable

RULE = 'cyborg:deployable:%s'


def _authorize(action):
    pecan.request.policy.authorize(RULE % action)


class DeployablesController(rest.RestController):

    @types.expose(deployable_types.DeployableCollection, int, types.text,
                  types.text, types.text)
    def get_all(self, limit=None, marker=None, sort_key=None, sort_dir=None):
        _authorize('get_all')
        page = listing.page(pecan.request, limit, marker, sort_key, sort_dir,
                            deployable.SORT_KEYS)
        deployables = deployable.Deployable.list(page=page)
        return listing.with_next(
            deployable_types.DeployableCollection.convert(pecan.request,
                                                          deployables),
            'deployables', deployables, page)

    @types.expose(deployable_types.Deployable, types.text)
    def get_one(self, deployable_uuid):
        _authorize('get_one')
        found = deployable.Deployable.get_by_uuid(
            validation.uuid(deployable_uuid))
        return deployable_types.Deployable.convert(pecan.request, found)

    @types.expose(deployable_types.Deployable, types.text, types.text,
                  body=types.json_body)
    def patch(self, deployable_uuid, action=None, body=None):
        """PATCH /{uuid}/program: load an image onto the deployable."""
        if action != 'program':
            raise exception.NotFound(
                'Deployables only support PATCH /deployables/{uuid}/program.')
        _authorize('program')
        deployable_uuid = validation.uuid(deployable_uuid)
        image_id = validation.schema(schema.program_patch,
                                     body)[0]['value'][0]['image_uuid']
        request = pecan.request
        try:
            request.conductor_api.program_deployable(
                request.context, deployable_uuid=deployable_uuid,
                image_id=image_store.image_id_from(image_id))
        except messaging.MessagingTimeout:
            raise exception.ServiceUnavailable(
                reason='no conductor answered the program request for '
                       'deployable %s in time.' % deployable_uuid) from None
        return deployable_types.Deployable.convert(
            request, deployable.Deployable.get_by_uuid(deployable_uuid))
