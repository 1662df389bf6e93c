"""Schemas of ARQ create and bind/unbind (Nova's JSON patch) requests."""

PATHS = ('/hostname', '/device_rp_uuid', '/instance_uuid', '/project_id')

create = {
    'type': 'object',
    'properties': {
        'device_profile_name': {
            'type': 'string', 'minLength': 1, 'maxLength': 255,
            'description': 'device_profile_name must be a non-empty '
                           'string'},
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
