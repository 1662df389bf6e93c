"""Remembered policy verdicts (policies.Enforcer.verdict) and a request's
Decisions: the same answers as oslo.policy's own enforcer, forgotten when
the rules change, never remembered for checks that could answer
differently next time."""

import itertools
import json

from oslo_policy import _checks
from oslo_policy import policy
import pytest

from cyborg_clone import policies
from cyborg_clone.common import context
from cyborg_clone.common import exception
from tests.fixtures import policy_files
from tests.fixtures.policy_files import Clock
from tests.fixtures.policy_files import rewrite

ROLE_SETS = (['reader'], ['member', 'reader'], ['admin'], ['service'],
             ['manager'], [])
PROJECTS = ('p1', 'p2')


def ctx(roles, project_id='p1', service_roles=()):
    return context.RequestContext(
        user_id='u', project_id=project_id, roles=list(roles),
        service_roles=list(service_roles),
        is_service=bool(service_roles))


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(json.dumps({}))
    return path


enforcer = policy_files.enforcer


def oslo_answer(enforcer, rule, context_, target):
    """What oslo.policy's enforcer itself says, with nothing remembered."""
    plain = policy.Enforcer(enforcer.conf)
    plain.register_defaults(policies.list_rules())
    try:
        return bool(plain.authorize(rule, target, context_, do_raise=True))
    except policy.PolicyNotAuthorized:
        return False
    except policy.InvalidScope:
        return 'scope'


def test_remembered_verdicts_are_oslo_policys_own(enforcer):
    rules = [rule.name for rule in policies.list_rules()]
    contexts = [ctx(roles, project) for roles, project in
                itertools.product(ROLE_SETS, PROJECTS)]
    contexts.append(ctx(['reader'], service_roles=['service']))
    contexts.append(context.RequestContext(user_id='u', roles=['admin'],
                                           system_scope='all'))
    expected, seen = {}, {}
    for _ in range(2):  # the second round from remembered verdicts
        for rule, (number, context_), project in itertools.product(
                rules, enumerate(contexts), PROJECTS):
            target = {'project_id': project}
            key = (rule, number, project)
            if key not in expected:
                expected[key] = oslo_answer(enforcer, rule, context_, target)
            decisions = policies.Decisions(enforcer, context_)
            allowed = decisions.check(rule, target)
            try:
                decisions.authorize(rule, target)
                raised = None
            except exception.Forbidden as error:
                raised = error.faultstring
            seen[key] = ('scope' if raised and 'project-scoped' in raised
                         else allowed)
            assert allowed is (raised is None)
    assert seen == expected
    assert set(expected.values()) == {True, False, 'scope'}


def test_a_request_converts_its_credentials_once(enforcer, monkeypatch):
    calls = []
    original = context.RequestContext.to_policy_values

    def counting(self):
        calls.append(self)
        return original(self)
    monkeypatch.setattr(context.RequestContext, 'to_policy_values',
                        counting)
    decisions = policies.Decisions(enforcer, ctx(['reader']))
    decisions.authorize('cyborg:arq:get_one')
    assert not decisions.check('cyborg:arq:delete', {'project_id': 'p1'})
    assert decisions.check('cyborg:arq:get_one', {'project_id': 'p1'})
    assert len(calls) == 1


def test_an_edited_policy_file_still_takes_effect_within_a_second(
        enforcer, policy_file, monkeypatch):
    clock = Clock(monkeypatch)
    reader = ctx(['reader'])
    rule = 'cyborg:device_profile:get_all'
    for _ in range(2):  # the first loads the rules, the second remembers
        assert policies.check(enforcer, rule, reader)
    rewrite(policy_file, {rule: '!'})
    clock.now += 0.5
    assert policies.check(enforcer, rule, reader)
    clock.now += enforcer.RELOAD_CHECK_SECONDS
    assert not policies.check(enforcer, rule, reader)


def test_rules_set_in_code_take_effect_at_once(enforcer, monkeypatch):
    Clock(monkeypatch)  # no time passes
    reader = ctx(['reader'])
    rule = 'cyborg:device_profile:get_all'
    for _ in range(2):  # the first loads the rules, the second remembers
        assert policies.check(enforcer, rule, reader)
    enforcer.set_rules({rule: _checks.FalseCheck()}, overwrite=False)
    assert not policies.check(enforcer, rule, reader)


class Counting(_checks.Check):
    """A check whose answer is not a function of its arguments."""

    calls = 0

    def __call__(self, target, creds, enforcer, current_rule=None):
        Counting.calls += 1
        return Counting.calls % 2 == 1


def test_a_check_of_unknown_kind_is_asked_every_time(enforcer, monkeypatch):
    Clock(monkeypatch)
    monkeypatch.setattr(Counting, 'calls', 0)
    enforcer.register_default(policy.RuleDefault('odd', '@'))
    enforcer.register_default(policy.RuleDefault('uses_odd', '@'))
    enforcer.load_rules()
    enforcer.set_rules({'odd': Counting('odd', 'x'),
                        'uses_odd': _checks.RuleCheck('rule', 'odd')},
                       overwrite=False, use_conf=True)
    reader = ctx(['reader'])
    answers = [policies.check(enforcer, rule, reader)
               for rule in ('odd', 'odd', 'uses_odd', 'uses_odd')]
    assert answers == [True, False, True, False]
    assert Counting.calls == 4


def test_verdicts_of_a_rule_are_bounded(enforcer, monkeypatch):
    Clock(monkeypatch)
    monkeypatch.setattr(policies.Enforcer, 'MAX_VERDICTS_PER_RULE', 3)
    reader = ctx(['reader'])
    rule = 'cyborg:arq:get_one'
    for number in range(10):
        policies.check(enforcer, rule, reader, {'project_id': str(number)})
    assert len(enforcer._verdicts[rule]) <= 3
    assert policies.check(enforcer, rule, reader, {'project_id': 'p1'})
    assert not policies.check(enforcer, rule, reader, {'project_id': 'p2'})


def test_an_unhashable_target_is_decided_without_remembering(enforcer):
    reader = ctx(['reader'])
    rule = 'cyborg:arq:get_one'
    for _ in range(2):  # the first loads the rules
        assert policies.check(enforcer, rule, reader)
    assert len(enforcer._verdicts[rule]) == 1
    for project, allowed in (('p1', True), ('p2', False)):
        target = {'project_id': project, 'tags': ['a']}
        assert policies.check(enforcer, rule, reader, target) is allowed
    assert len(enforcer._verdicts[rule]) == 1
