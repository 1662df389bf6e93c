"""Schema of an attribute create request."""

# The largest id an Integer primary key holds on every backend.
MAX_ID = 2 ** 31 - 1

attribute = {
    'type': 'object',
    'properties': {
        # The reference's own example sends the id as a string.
        'deployable_id': {
            'oneOf': [
                {'type': 'integer', 'minimum': 1, 'maximum': MAX_ID},
                {'type': 'string', 'pattern': '^[1-9][0-9]{0,8}$'},
            ],
            'description': 'deployable_id must be the integer id of a '
                           'deployable'},
        'key': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                'description': 'key must be a string of 1 to 255 '
                               'characters'},
        'value': {'type': 'string', 'maxLength': 255,
                  'description': 'value must be a string of at most 255 '
                                 'characters'},
    },
    'required': ['deployable_id', 'key', 'value'],
    'additionalProperties': False,
    'x-messages': {'type': 'an attribute must be a JSON object'},
}

# openstacksdk wraps create bodies in the resource key.
envelope = {
    'type': 'object',
    'properties': {'attribute': attribute},
    'required': ['attribute'],
    'additionalProperties': False,
}
