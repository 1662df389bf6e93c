"""/v2/attributes: list, show, create, delete."""

import pecan
from pecan import rest

from cyborg_clone.api import validation
from cyborg_clone.api.controllers.v2 import listing
from cyborg_clone.api.schemas import attribute as schema
from cyborg_clone.api.types import attribute as attribute_types
from cyborg_clone.api.types import base as types
from cyborg_clone.objects import attribute

RULE = 'cyborg:attribute:%s'


def _ident(value):
    """An attribute is named by its uuid or by its integer id."""
    if value.isdigit():
        return validation.integer_param(value, 'attribute id',
                                        maximum=schema.MAX_ID)
    return validation.uuid(value)


def _authorize(action):
    pecan.request.policy.authorize(RULE % action)


class AttributesController(rest.RestController):

    @types.expose(attribute_types.AttributeCollection, types.text,
                  types.text, int, types.text, types.text, types.text)
    def get_all(self, deployable_id=None, key=None, limit=None, marker=None,
                sort_key=None, sort_dir=None):
        _authorize('get_all')
        if deployable_id is not None:
            deployable_id = validation.integer_param(
                deployable_id, 'deployable_id', maximum=schema.MAX_ID)
        page = listing.page(pecan.request, limit, marker, sort_key, sort_dir,
                            attribute.SORT_KEYS)
        attributes = attribute.Attribute.list(deployable_id=deployable_id,
                                              key=key, page=page)
        return listing.with_next(
            attribute_types.AttributeCollection.convert(pecan.request,
                                                        attributes),
            'attributes', attributes, page)

    @types.expose(attribute_types.Attribute, types.text)
    def get_one(self, attribute_uuid):
        _authorize('get_one')
        found = attribute.Attribute.get(_ident(attribute_uuid))
        return attribute_types.Attribute.convert(pecan.request, found)

    @types.expose(attribute_types.Attribute, body=types.json_body,
                  status_code=201)
    def post(self, body):
        _authorize('create')
        if isinstance(body, dict) and 'attribute' in body:
            body = validation.schema(schema.envelope, body)['attribute']
        validation.schema(schema.attribute, body)
        created = attribute.Attribute.create(
            deployable_id=int(body['deployable_id']), key=body['key'],
            value=body['value'])
        return attribute_types.Attribute.convert(pecan.request, created)

    @types.expose(None, types.text, status_code=204)
    def delete(self, attribute_uuid):
        _authorize('delete')
        attribute.Attribute.destroy(_ident(attribute_uuid))
