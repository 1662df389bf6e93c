"""Project scope on every rule, and the project-scoped service user on
ARQ writes (what the Cyborg tempest plugin's SRBAC tests expect)."""

from oslo_policy import policy
import pytest

from cyborg_clone import policies
from cyborg_clone.common import context
from cyborg_clone.common import exception
from tests.conftest import make_conf

PROJECT = 'project-a'
OTHER = 'project-b'


@pytest.fixture
def enforcer(tmp_path):
    return policies.get_enforcer(make_conf(tmp_path))


def ctx(roles, project_id=PROJECT, **kwargs):
    return context.RequestContext(user_id='u', project_id=project_id,
                                  roles=list(roles), **kwargs)


def test_every_api_rule_is_project_scoped():
    documented = [rule for rule in policies.list_rules()
                  if isinstance(rule, policy.DocumentedRuleDefault)]
    assert documented
    assert {rule.name: rule.scope_types for rule in documented} == {
        rule.name: ['project'] for rule in documented}


@pytest.mark.parametrize('scope', [{'system_scope': 'all'},
                                   {'domain_id': 'default'}],
                         ids=['system', 'domain'])
def test_a_token_not_scoped_to_a_project_is_403_even_for_an_admin(
        enforcer, scope):
    admin = context.RequestContext(
        user_id='u', roles=['admin', 'manager', 'member', 'reader'],
        **scope)

    with pytest.raises(exception.Forbidden) as raised:
        policies.authorize(enforcer, 'cyborg:device:get_all', admin)

    assert raised.value.code == 403
    assert raised.value.faultstring == (
        'cyborg:device:get_all needs a project-scoped token.')
    assert not policies.check(enforcer, 'cyborg:device:get_all', admin)


def test_a_project_scoped_admin_still_passes(enforcer):
    policies.authorize(enforcer, 'cyborg:device:get_all',
                       ctx(['admin', 'member', 'reader'], 'admin'))


def test_a_service_user_creates_reads_and_deletes_its_projects_arqs(
        enforcer):
    service_user = ctx(['service'])

    policies.authorize(enforcer, 'cyborg:arq:create', service_user)
    for action in ('get_all', 'get_one', 'delete'):
        policies.authorize(enforcer, 'cyborg:arq:' + action, service_user,
                           {'project_id': PROJECT})


@pytest.mark.parametrize('rule,target', [
    ('cyborg:arq:get_one', {'project_id': OTHER}),
    ('cyborg:arq:delete', {'project_id': OTHER}),
    ('cyborg:arq:update', None),
    ('cyborg:arq:delete_by_instance', None),
])
def test_a_service_role_without_a_service_token_reaches_nothing_else(
        enforcer, rule, target):
    with pytest.raises(exception.Forbidden):
        policies.authorize(enforcer, rule, ctx(['service']), target)


def test_a_reader_still_may_not_create_arqs(enforcer):
    with pytest.raises(exception.Forbidden):
        policies.authorize(enforcer, 'cyborg:arq:create', ctx(['reader']))
