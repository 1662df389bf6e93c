"""Schemas of the FPGA image API's request bodies (structure and types;
field rules are in api/fpga_image_params.py)."""

_string = {'type': 'string'}
_nullable_string = {'type': ['string', 'null']}


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


create = _envelope({'dcp_location': _string, 'log_directory':
                    _nullable_string, 'name': _string,
                    'description': _nullable_string},
                   ('dcp_location', 'name'))

register = _envelope({'location': _string, 'name': _string,
                      'description': _nullable_string,
                      'metadata': {'type': ['object', 'null']}},
                     ('location', 'name'))

association = {
    'type': 'object',
    'properties': {'image': {
        'type': 'object', 'properties': {'id': _string},
        'required': ['id'], 'additionalProperties': False}},
    'required': ['image'],
    'additionalProperties': False,
    'x-messages': {'type': 'the body must be a JSON object'},
}
