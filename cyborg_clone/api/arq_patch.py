"""Nova's bind/unbind request: ``{arq_uuid: [JSON patch ops]}``.

A bind is all ``add`` ops setting hostname, device_rp_uuid and
instance_uuid (and project_id from microversion 2.1); an unbind is all
``remove`` ops. Mixing them, in one ARQ or across ARQs, is refused.
"""

import dataclasses

from cyborg_clone.api import validation
from cyborg_clone.api.schemas import arq as schema
from cyborg_clone.common import exception
from cyborg_clone.objects import arq as arq_obj


@dataclasses.dataclass(frozen=True)
class Patch:
    op: str  # 'add' (bind) or 'remove' (unbind)
    bindings: dict  # uuid -> {field: value}, empty values for 'remove'


def parse(body, version):
    """The validated Patch; raises Invalid (400) or NotAcceptable (406)."""
    validation.schema(schema.patch, body)
    ops = {op['op'] for ops in body.values() for op in ops}
    if len(ops) != 1:
        raise exception.PatchError(
            reason='every op must be "add" (bind) or every op "remove" '
                   '(unbind); they cannot be mixed.')
    op = ops.pop()
    bindings = {}
    for uuid, operations in body.items():
        bindings[validation.uuid(uuid)] = _fields(uuid, operations, op,
                                                  version)
    return Patch(op=op, bindings=bindings)


def _fields(uuid, operations, op, version):
    fields = {}
    for operation in operations:
        name = operation['path'][1:]
        if name == 'project_id' and not version.matches('2.1'):
            raise exception.NotAcceptable(
                reason='setting /project_id needs API version 2.1 or '
                       'later.')
        if name in fields:
            raise exception.PatchError(reason='%s appears twice for ARQ %s.'
                                       % (operation['path'], uuid))
        if op == 'add' and 'value' not in operation:
            raise exception.PatchError(reason='add %s for ARQ %s has no '
                                       'value.' % (operation['path'], uuid))
        if op == 'remove' and 'value' in operation:
            raise exception.PatchError(reason='remove %s for ARQ %s takes '
                                       'no value.' % (operation['path'],
                                                      uuid))
        fields[name] = operation.get('value')
    if op == 'add':
        missing = [name for name in arq_obj.BINDING_FIELDS
                   if name not in fields]
        if missing:
            raise exception.PatchError(
                reason='binding ARQ %s needs %s.' % (
                    uuid, ', '.join('/' + m for m in missing)))
        for name in ('device_rp_uuid', 'instance_uuid'):
            fields[name] = validation.uuid(fields[name])
    return fields
