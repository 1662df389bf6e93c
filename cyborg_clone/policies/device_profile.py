"""Policy rules for device profiles (global, flavor-like objects)."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:device_profile:%s'
PATH = '/v2/device_profiles'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', base.ANY_READER, 'List device profiles.',
        [{'path': PATH, 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', base.ANY_READER, 'Show a device profile.',
        [{'path': PATH + '/{device_profile_name_or_uuid}',
          'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'create', base.ADMIN, 'Create a device profile.',
        [{'path': PATH, 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'delete', base.ADMIN, 'Delete device profiles.',
        [{'path': PATH + '/{device_profile_uuid}', 'method': 'DELETE'},
         {'path': PATH + '?value={names}', 'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
