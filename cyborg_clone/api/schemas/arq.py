"""Schemas of ARQ create and bind/unbind (Nova's JSON patch) requests."""

from cyborg_clone.objects import arq as arq_obj

_GROUP_ID = ('device_profile_group_id must be a non-negative integer '
             'naming one group of the device profile')

# What a bind sets, as JSON patch paths.
PATHS = tuple('/' + name for name in (arq_obj.BINDING_FIELDS
                                      + arq_obj.OPTIONAL_BINDING_FIELDS))

create = {
    'type': 'object',
    'properties': {
        # An empty name is a name no profile has: 404, as upstream says.
        'device_profile_name': {
            'type': 'string', 'maxLength': 255,
            'description': 'device_profile_name must be a string of at '
                           'most 255 characters'},
        # python-cyborgclient sends its --group-id as a string.
        'device_profile_group_id': {
            'anyOf': [dict(kind, description=_GROUP_ID) for kind in (
                {'type': 'integer', 'minimum': 0},
                {'type': 'string', 'pattern': '^[0-9]{1,9}$'},
                {'type': 'null'})],
            'description': _GROUP_ID},
    },
    'required': ['device_profile_name'],
    'additionalProperties': False,
    'x-messages': {'type': 'the body must be a JSON object'},
}

operation = {
    'type': 'object',
    'properties': {
        'op': {'enum': ['add', 'remove'],
               'description': 'op must be "add" (bind) or "remove" '
                              '(unbind)'},
        'path': {'enum': list(PATHS),
                 'description': 'path must be one of ' + ', '.join(PATHS)},
        'value': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    },
    'required': ['op', 'path'],
    'additionalProperties': False,
}

patch = {
    'type': 'object',
    'minProperties': 1,
    'additionalProperties': {'type': 'array', 'minItems': 1,
                             'maxItems': len(PATHS), 'items': operation},
    'x-messages': {
        'type': 'the body must map ARQ uuids to lists of patch operations',
        'minProperties': 'the body names no ARQ'},
}
