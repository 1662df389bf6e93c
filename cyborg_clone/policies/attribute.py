"""Policy rules for deployable attributes."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:attribute:%s'
PATH = '/v2/attributes'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', base.HARDWARE_READER, 'List attributes.',
        [{'path': PATH, 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', base.HARDWARE_READER, 'Show an attribute.',
        [{'path': PATH + '/{attribute_uuid}', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'create', base.ADMIN, 'Create an attribute.',
        [{'path': PATH, 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'delete', base.ADMIN, 'Delete an attribute.',
        [{'path': PATH + '/{attribute_uuid}', 'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
