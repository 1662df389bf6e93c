"""/v2/accelerator_requests: create, list, show, bind/unbind, delete."""

import pecan
from pecan import rest

from cyborg_clone.api import arq_patch
from cyborg_clone.api import validation
from cyborg_clone.api.controllers.v2 import listing
from cyborg_clone.api.schemas import arq as schema
from cyborg_clone.api.types import arq as arq_types
from cyborg_clone.api.types import base as types
from cyborg_clone.common import exception
from cyborg_clone.objects import arq as arq_obj

RULE = 'cyborg:arq:%s'

def _authorize(action, project_id=None):
    target = None if project_id is None else {'project_id': project_id}
    pecan.request.policy.authorize(RULE % action, target)

def _may(action, arq):
    return pecan.request.policy.check(RULE % action,
                                      {'project_id': arq.project_id})

def _visible_project():
    """None when the caller sees every project's ARQs, else its project."""
    request = pecan.request
    for rule in ('admin_api', 'service_api'):
        if request.policy.check(rule):
            return None
    return request.context.project_id

def _visible(uuids, action):
    """The ARQs ``uuids``, which the caller may ``action``.

    A caller that may not ``action`` even in its own project is refused
    (403) before any lookup, so the answer tells nothing about the ARQs.
    Past that, ARQs the caller may not read count as missing (404), so
    nobody learns that another project's ARQ exists; one it may read but
    not ``action`` (a reader deleting) is refused (403).
    """
    _authorize(action)
    arqs = arq_obj.ARQ.list(uuids=uuids)
    readable = {arq.uuid for arq in arqs if _may('get_one', arq)}
    for uuid in uuids:
        if uuid not in readable:
            raise exception.ARQNotFound(uuid=uuid)
    if action != 'get_one':  # get_one was the readability check itself
        for arq in arqs:
            _authorize(action, arq.project_id)
    return arqs

def _release(released):
    """Have a conductor undo on the hosts what the ARQs held (a vGPU's
    mediated device) and clean their devices; the rows changed already."""
    if released:
        pecan.request.conductor_api.release_arqs(
            pecan.request.context,
            released=[held.to_primitive() for held in released])

class ARQsController(rest.RestController):

    @types.expose(arq_types.ARQCollection, types.text, types.text, int,
                  types.text, types.text, types.text)
    def get_all(self, instance=None, bind_state=None, limit=None,
                marker=None, sort_key=None, sort_dir=None):
        _authorize('get_all')
        if bind_state is not None and bind_state != 'resolved':
            raise exception.Invalid(
                reason='bind_state must be "resolved", not %s.' % bind_state)
        if instance is not None:
            instance = validation.uuid(instance)
        page = listing.page(pecan.request, limit, marker, sort_key, sort_dir,
                            arq_obj.SORT_KEYS)
        arqs = arq_obj.ARQ.list(project_id=_visible_project(),
                                instance_uuid=instance, page=page)
        if bind_state is not None:
            if instance is not None and not all(a.resolved for a in arqs):
                raise exception.Locked(
                    reason='accelerator requests of instance %s are still '
                           'binding.' % instance)
            arqs = [arq for arq in arqs if arq.resolved]
        return listing.with_next(
            arq_types.ARQCollection.convert(pecan.request, arqs),
            'accelerator_requests', arqs, page)

    @types.expose(arq_types.ARQ, types.text)
    def get_one(self, uuid):
        uuid = validation.uuid(uuid)
        return arq_types.ARQ.convert(pecan.request,
                                     _visible([uuid], 'get_one')[0])

    @types.expose(arq_types.ARQCollection, body=types.json_body,
                  status_code=201)
    def post(self, body):
        validation.schema(schema.create, body)
        _authorize('create')
        group_id = body.get('device_profile_group_id')
        arqs = arq_obj.ARQ.create_from_profile(
            body['device_profile_name'], pecan.request.context.project_id,
            group_id=None if group_id is None else int(group_id))
        return arq_types.ARQCollection.convert(pecan.request, arqs)

    @types.expose(None, types.text, body=types.json_body, status_code=202)
    def patch(self, uuid=None, body=None):
        """Bind or unbind, at /accelerator_requests (Nova) or at
        /accelerator_requests/{uuid} (openstacksdk)."""
        _authorize('update')
        patch = arq_patch.parse(body, pecan.request.version)
        if uuid is not None and set(patch.bindings) != {
                validation.uuid(uuid)}:
            raise exception.PatchError(
                reason='a patch sent to /accelerator_requests/%s may only '
                       'name that ARQ.' % uuid)
        if any('project_id' in fields for fields in patch.bindings.values()):
            _authorize('update_project_id')
        uuids = sorted(patch.bindings)
        if patch.op == 'add':
            arq_obj.ARQ.bind(patch.bindings)
            pecan.request.conductor_api.bind_arqs(pecan.request.context,
                                                  arq_uuids=uuids)
        else:
            _release(arq_obj.ARQ.unbind(uuids))

    @types.expose(None, types.text, types.text, types.text,
                  status_code=204)
    def delete(self, uuid=None, arqs=None, instance=None):
        """DELETE /{uuid}, ?arqs=u1,u2 or ?instance=uuid."""
        given = [v for v in (uuid, arqs, instance) if v is not None]
        if len(given) != 1:
            raise exception.Invalid(
                reason='give exactly one of: an ARQ uuid in the path, '
                       '?arqs=uuid1,uuid2 or ?instance=uuid.')
        if instance is not None:
            _authorize('delete_by_instance')
            targets = [a.uuid for a in arq_obj.ARQ.list(
                instance_uuid=validation.uuid(instance))]
        else:
            uuids = ([validation.uuid(uuid)] if uuid is not None
                     else validation.uuid_list(arqs, 'arqs'))
            targets = [a.uuid for a in _visible(uuids, 'delete')]
        if targets:
            _release(arq_obj.ARQ.destroy(targets))
