"""Policy rules for accelerator requests (owned by a project)."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:arq:%s'
PATH = '/v2/accelerator_requests'
# A project's service user reads the ARQs it may write: a delete finds
# its targets through what the caller may read.
_OWNER_OR_SERVICE = ' or '.join(
    (base.PROJECT_READER_OR_ADMIN, base.PROJECT_SERVICE, base.SERVICE))
_WRITER_OR_SERVICE = ' or '.join(
    (base.PROJECT_MEMBER_OR_ADMIN, base.PROJECT_SERVICE, base.SERVICE))
_CREATOR = ' or '.join((base.PROJECT_MEMBER_OR_ADMIN, base.PROJECT_SERVICE))

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', _OWNER_OR_SERVICE,
        'List accelerator requests. Callers that are neither admin nor '
        'service only see their own project\'s ARQs.',
        [{'path': PATH, 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', _OWNER_OR_SERVICE, 'Show an accelerator request.',
        [{'path': PATH + '/{accelerator_request_uuid}', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'create', _CREATOR,
        'Create accelerator requests from a device profile.',
        [{'path': PATH, 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'update', base.SERVICE,
        'Bind or unbind accelerator requests (Nova, with a service token).',
        [{'path': PATH, 'method': 'PATCH'},
         {'path': PATH + '/{accelerator_request_uuid}', 'method': 'PATCH'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'update_project_id', base.ADMIN,
        'Set /project_id while binding (microversion 2.1), which moves the '
        'ARQ to another project. Checked on top of cyborg:arq:update.',
        [{'path': PATH, 'method': 'PATCH'},
         {'path': PATH + '/{accelerator_request_uuid}', 'method': 'PATCH'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'delete', _WRITER_OR_SERVICE,
        'Delete accelerator requests by uuid.',
        [{'path': PATH + '?arqs={uuids}', 'method': 'DELETE'},
         {'path': PATH + '/{accelerator_request_uuid}',
          'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'delete_by_instance', base.SERVICE,
        'Delete every accelerator request of an instance (Nova, with a '
        'service token).',
        [{'path': PATH + '?instance={instance_uuid}', 'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
