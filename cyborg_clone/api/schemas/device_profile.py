"""Schema of a device profile create request."""

from cyborg_clone.api.schemas import deployable

# Placement's accelerator resource classes; anything else must be CUSTOM_.
RESOURCE_KEY = r'^resources:(FPGA|PGPU|VGPU|CUSTOM_[A-Z0-9_]+)$'
TRAIT_KEY = r'^trait:[A-Z][A-Z0-9_]*$'
ACCEL_KEY = r'^accel:[a-z][a-z0-9_]*$'
# Longest group key and value: Placement's resource class and trait names
# are at most 255 characters, and so are this API's other short strings.
MAX_KEY = 255
MAX_VALUE = 255

group = {
    'type': 'object',
    'x-messages': {
        'type': 'each group must be an object',
        'not': 'each group must ask for at least one resources:<class>',
        'additionalProperties': 'group keys must be resources:<FPGA, PGPU, '
                                'VGPU or CUSTOM_*>, trait:<TRAIT> or '
                                'accel:<key>',
    },
    'properties': {
        # Loaded at bind time: a malformed id would only fail the bind.
        'accel:bitstream_id': {
            'type': 'string', 'pattern': deployable.IMAGE_ID,
            'description': 'accel:bitstream_id must be an image id: a UUID '
                           'or 32 lowercase hex characters'},
    },
    'patternProperties': {
        RESOURCE_KEY: {
            'type': 'string', 'pattern': '^[1-9][0-9]{0,2}$',
            'description': 'a resource amount is an integer from 1 to 999 '
                           'given as a string'},
        TRAIT_KEY: {
            'enum': ['required', 'forbidden'],
            'description': 'a trait is "required" or "forbidden"'},
        ACCEL_KEY: {
            'type': 'string', 'maxLength': MAX_VALUE,
            'description': 'an accel:<key> value is a string of at most '
                           '%d characters' % MAX_VALUE},
    },
    'propertyNames': {
        'maxLength': MAX_KEY,
        'description': 'a group key is at most %d characters' % MAX_KEY},
    'additionalProperties': False,
    # At least one key must ask for a resource, or the group makes no ARQ.
    'not': {'propertyNames': {'not': {'pattern': '^resources:'}}},
}

profile = {
    'type': 'object',
    'properties': {
        # Not starting with "_": such a path segment is never routed
        # (api/middleware/request_guard.py), so the profile could not
        # be named there.
        'name': {'type': 'string',
                 'pattern': '^[A-Za-z0-9-][A-Za-z0-9_-]{0,254}$',
                 'description': 'name must be 1 to 255 characters of '
                                'letters, digits, "_" and "-", not '
                                'starting with "_"'},
        'description': {'type': ['string', 'null'], 'maxLength': 255,
                        'description': 'description must be a string of '
                                       'at most 255 characters'},
        'uuid': {'type': 'string', 'format': 'uuid'},
        'groups': {'type': 'array', 'minItems': 1, 'maxItems': 64,
                   'items': group,
                   'description': 'groups must be a non-empty list of '
                                  'objects'},
    },
    'required': ['name', 'groups'],
    'x-messages': {'type': 'a device profile must be a JSON object'},
    'additionalProperties': False,
}

# Clients (openstacksdk among them) send a list holding one profile.
profile_list = {'type': 'array', 'minItems': 1, 'maxItems': 1}
