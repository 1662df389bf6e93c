"""Policy rules for deployables."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:deployable:%s'
PATH = '/v2/deployables'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', base.HARDWARE_READER, 'List deployables.',
        [{'path': PATH, 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', base.HARDWARE_READER, 'Show a deployable.',
        [{'path': PATH + '/{deployable_uuid}', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'program', base.ADMIN, 'Program a deployable.',
        [{'path': PATH + '/{deployable_uuid}/program', 'method': 'PATCH'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
