"""Base rules the resource rules are built from.

The policy target is always the resource's own project, so ``project_id``
checks compare the caller with the owner of what is touched (upstream Cyborg
compares the caller with itself).

Every API rule is project-scoped (:data:`SCOPE_TYPES`): oslo.policy refuses
system- and domain-scoped tokens before it evaluates the rule, admins
included, and ``authorize`` answers them 403.
"""

from oslo_policy import policy

SCOPE_TYPES = ['project']

ADMIN = 'rule:admin_api'
SERVICE = 'rule:service_api'
PROJECT_READER = 'rule:project_reader'
PROJECT_MEMBER = 'rule:project_member'
PROJECT_MANAGER = 'rule:project_manager'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
PROJECT_SERVICE = 'rule:project_service'
# Any authenticated role may read device profiles: they are like flavors.
# So may Nova with its service token alone, as when it rebuilds an
# instance's request groups with its own credentials.
ANY_READER = ('role:reader or role:member or role:manager or rule:admin_api '
              'or rule:service_api')
HARDWARE_READER = 'rule:admin_api or role:manager'

rules = [
    policy.RuleDefault('admin_api', 'role:admin',
                       description='Cloud administrator.'),
    # The request context decides is_service, from the service token's
    # roles and [keystone_authtoken]service_token_roles, so this rule and
    # keystonemiddleware can never disagree about which roles count.
    policy.RuleDefault('service_api', 'is_service:True',
                       description='An OpenStack service (Nova): the '
                                   'request carries a service token '
                                   '(X-Service-Token) holding a role of '
                                   '[keystone_authtoken]service_token_roles'
                                   '. A service role on the user token '
                                   'alone does not count. In noauth mode '
                                   'the X-Service-Roles header plays the '
                                   'service token.'),
    policy.RuleDefault('project_reader',
                       'role:reader and project_id:%(project_id)s',
                       description='Reader of the target\'s project.'),
    policy.RuleDefault('project_member',
                       'role:member and project_id:%(project_id)s',
                       description='Member of the target\'s project.'),
    policy.RuleDefault('project_manager',
                       'role:manager and project_id:%(project_id)s',
                       description='Manager of the target\'s project.'),
    # A service user (role service on its own user token, no service
    # token) acting on its own project's resources, as upstream's
    # project_member_or_service lets machine-to-machine callers do; it
    # reaches no other project, unlike service_api.
    policy.RuleDefault('project_service',
                       'role:service and project_id:%(project_id)s',
                       description='Service user of the target\'s project.'),
    policy.RuleDefault('project_reader_or_admin',
                       'rule:project_reader or rule:admin_api'),
    policy.RuleDefault('project_member_or_admin',
                       'rule:project_member or rule:admin_api'),
]


def list_rules():
    return rules
