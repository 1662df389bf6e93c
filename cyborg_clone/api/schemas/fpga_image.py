"""Schemas of the FPGA image API's request bodies (structure and types;
field rules are in api/fpga_image_params.py)."""


def _string(max_length, nullable=False):
    # The lengths are the field rules' own bounds (api/fpga_image_params),
    # checked here first so that no rule runs on a huge string.
    return {'type': ['string', 'null'] if nullable else 'string',
            'maxLength': max_length,
            'x-messages': {'maxLength': 'must be at most %d characters'
                                        % max_length}}


# "<bucket>:<object>": a 63-character bucket and a 128-character key.
_LOCATION = 192
_metadata = {'type': ['object', 'null'], 'maxProperties': 64,
             'propertyNames': {'maxLength': 255},
             'additionalProperties': {'type': 'string', 'maxLength': 255},
             'description': 'metadata must be an object of at most 64 '
                            'strings, keys and values at most 255 '
                            'characters'}


def _envelope(properties, required):
    return {
        'type': 'object',
        'properties': {'fpga_image': {
            'type': 'object', 'properties': properties,
            'required': list(required), 'additionalProperties': False,
            'x-messages': {'type': 'fpga_image must be an object'}}},
        'required': ['fpga_image'],
        'additionalProperties': False,
        'x-messages': {'type': 'the body must be a JSON object'},
    }


create = _envelope({'dcp_location': _string(_LOCATION),
                    'log_directory': _string(64, nullable=True),
                    'name': _string(64),
                    'description': _string(255, nullable=True)},
                   ('dcp_location', 'name'))

register = _envelope({'location': _string(_LOCATION), 'name': _string(64),
                      'description': _string(255, nullable=True),
                      'metadata': _metadata},
                     ('location', 'name'))

association = {
    'type': 'object',
    'properties': {'image': {
        'type': 'object', 'properties': {'id': _string(36)},
        'required': ['id'], 'additionalProperties': False}},
    'required': ['image'],
    'additionalProperties': False,
    'x-messages': {'type': 'the body must be a JSON object'},
}
