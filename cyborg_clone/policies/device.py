"""Policy rules for devices (hardware records: admins write)."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:device:%s'
PATH = '/v2/devices'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', base.HARDWARE_READER, 'List devices.',
        [{'path': PATH, 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', base.HARDWARE_READER, 'Show a device.',
        [{'path': PATH + '/{device_uuid}', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'enable', base.ADMIN, 'Enable a device.',
        [{'path': PATH + '/{device_uuid}/enable', 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'disable', base.ADMIN,
        'Disable a device (put it in maintenance).',
        [{'path': PATH + '/{device_uuid}/disable', 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
