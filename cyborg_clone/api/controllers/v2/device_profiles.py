"""/v2/device_profiles: list, show, create, delete."""

import pecan
from pecan import rest

from cyborg_clone.api import validation
from cyborg_clone.api.controllers.v2 import listing
from cyborg_clone.api.schemas import device_profile as schema
from cyborg_clone.api.types import base as types
from cyborg_clone.api.types import device_profile as dp_types
from cyborg_clone.clients import image_source
from cyborg_clone.common import exception
from cyborg_clone.objects import device_profile

RULE = 'cyborg:device_profile:%s'


def _authorize(action):
    pecan.request.policy.authorize(RULE % action)


class DeviceProfilesController(rest.RestController):

    @types.expose(dp_types.DeviceProfileCollection, types.text, int,
                  types.text, types.text, types.text)
    def get_all(self, name=None, limit=None, marker=None, sort_key=None,
                sort_dir=None):
        _authorize('get_all')
        names = [n for n in name.split(',') if n] if name else None
        page = listing.page(pecan.request, limit, marker, sort_key, sort_dir,
                            device_profile.SORT_KEYS)
        profiles = device_profile.DeviceProfile.list(names=names, page=page)
        return listing.with_next(
            dp_types.DeviceProfileCollection.convert(pecan.request,
                                                     profiles),
            'device_profiles', profiles, page)

    @types.expose(dp_types.DeviceProfileEnvelope, types.text)
    def get_one(self, name_or_uuid):
        _authorize('get_one')
        if validation.is_uuid(name_or_uuid):
            profile = device_profile.DeviceProfile.get_by_uuid(
                name_or_uuid.lower())
        elif pecan.request.version.matches('2.2'):
            profile = device_profile.DeviceProfile.get_by_name(name_or_uuid)
        else:
            raise exception.NotAcceptable(
                reason='getting a device profile by name needs API version '
                       '2.2 or later; %s is not a UUID.' % name_or_uuid)
        return dp_types.DeviceProfileEnvelope.wrap(
            dp_types.DeviceProfile.convert(pecan.request, profile))

    @types.expose(dp_types.DeviceProfile, body=types.json_body,
                  status_code=201)
    def post(self, body):
        _authorize('create')
        if isinstance(body, list):
            body = validation.schema(schema.profile_list, body)[0]
        validation.schema(schema.profile, body)
        _check_bitstreams(pecan.request.conf, body['groups'])
        profile = device_profile.DeviceProfile.create(
            name=body['name'], groups=body['groups'],
            description=body.get('description'), uuid=body.get('uuid'))
        return dp_types.DeviceProfile.convert(pecan.request, profile)

    @types.expose(None, types.text, status_code=204)
    def delete(self, value=None):
        """DELETE /{uuid}, or DELETE ?value=name1,name2 (names or uuids)."""
        _authorize('delete')
        if not value:
            raise exception.Invalid(
                reason='give a device profile uuid in the path or names '
                       'in ?value=')
        items = [v.strip() for v in value.split(',') if v.strip()]
        uuids = [v.lower() for v in items if validation.is_uuid(v)]
        names = [v for v in items if not validation.is_uuid(v)]
        device_profile.DeviceProfile.destroy(uuids=uuids, names=names)


def _check_bitstreams(conf, groups):
    """With Glance configured, refuse a bitstream id found neither in the
    image store nor in Glance (400): such a profile could never bind.
    Without it, the id's form is all the schema checks, as before."""
    if not image_source.glance_configured(conf):
        return
    sources = image_source.ImageSources(conf)
    for group in groups:
        if device_profile.BITSTREAM_KEY in group:
            sources.check(group[device_profile.BITSTREAM_KEY])
