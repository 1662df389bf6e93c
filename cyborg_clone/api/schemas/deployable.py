"""Schema of a deployable program request (a one-operation JSON patch)."""

# An image id: a Glance-style UUID or an FPGA image id (32 lowercase hex).
IMAGE_ID = (r'^([0-9a-f]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
            r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$')

program_patch = {
    'type': 'array',
    'minItems': 1,
    'maxItems': 1,
    'description': 'the body must be a list holding one operation: '
                   '[{"op": "replace", "path": "/program", "value": '
                   '[{"image_uuid": <image id>}]}]',
    'items': {
        'type': 'object',
        'properties': {
            'op': {'const': 'replace',
                   'description': 'op must be "replace"'},
            'path': {'const': '/program',
                     'description': 'path must be "/program"'},
            'value': {
                'type': 'array', 'minItems': 1, 'maxItems': 1,
                'description': 'value must be a list holding one '
                               '{"image_uuid": <image id>} object',
                'items': {
                    'type': 'object',
                    'properties': {
                        'image_uuid': {
                            'type': 'string', 'pattern': IMAGE_ID,
                            'description': 'image_uuid must be a UUID or '
                                           '32 lowercase hex characters'},
                    },
                    'required': ['image_uuid'],
                    'additionalProperties': False,
                    'x-messages': {
                        'type': 'value must hold an {"image_uuid": <image '
                                'id>} object'},
                },
            },
        },
        'required': ['op', 'path', 'value'],
        'additionalProperties': False,
        'x-messages': {'type': 'each operation must be a JSON object'},
    },
}
