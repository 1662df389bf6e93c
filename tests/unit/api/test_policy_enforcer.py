"""The enforcer's two savings: policy files looked at once a second, and
each check class's signature inspected once, with the same verdicts."""

import json

from oslo_policy import _checks
from oslo_policy import policy
import pytest

from cyborg_clone import policies
from cyborg_clone.common import context
from tests.conftest import make_conf
from tests.fixtures import policy_files
from tests.fixtures.policy_files import Clock
from tests.fixtures.policy_files import rewrite

RULE = 'cyborg:device_profile:get_all'


def reader():
    return context.RequestContext(user_id='u', project_id='p1',
                                  roles=['reader'])


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / 'policy.json'
    path.write_text(json.dumps({RULE: '!'}))
    return path


enforcer = policy_files.enforcer


def test_an_edited_policy_file_takes_effect_within_a_second(
        enforcer, policy_file, monkeypatch):
    clock = Clock(monkeypatch)
    assert not policies.check(enforcer, RULE, reader())
    rewrite(policy_file, {RULE: '@'})
    clock.now += 0.5
    assert not policies.check(enforcer, RULE, reader())
    clock.now += enforcer.RELOAD_CHECK_SECONDS
    assert policies.check(enforcer, RULE, reader())


def count_loads(monkeypatch):
    """The force_reload of each call to oslo.policy's own load_rules."""
    loads = []
    original = policy.Enforcer.load_rules

    def counting(self, force_reload=False):
        loads.append(force_reload)
        return original(self, force_reload)
    monkeypatch.setattr(policy.Enforcer, 'load_rules', counting)
    return loads


def test_files_are_looked_at_once_per_interval(enforcer, monkeypatch):
    clock = Clock(monkeypatch)
    loads = count_loads(monkeypatch)
    for _ in range(50):
        policies.check(enforcer, RULE, reader())
    assert loads == [False]
    clock.now += enforcer.RELOAD_CHECK_SECONDS
    policies.check(enforcer, RULE, reader())
    enforcer.load_rules(force_reload=True)
    assert loads == [False, False, True]


def test_after_clear_the_rules_are_loaded_at_once(enforcer, monkeypatch):
    Clock(monkeypatch)  # no time passes
    loads = count_loads(monkeypatch)
    policies.check(enforcer, RULE, reader())
    enforcer.clear()
    enforcer.register_defaults(policies.list_rules())
    policies.check(enforcer, RULE, reader())
    assert loads == [False, False]


class Legacy(_checks.Check):
    """A check written before oslo.policy passed the rule name."""

    def __call__(self, target, creds, enforcer):
        return creds['user_id'] == self.match


class Named(_checks.Check):
    seen = []

    def __call__(self, target, creds, enforcer, current_rule=None):
        Named.seen.append(current_rule)
        return True


def enforcer_with(tmp_path, **checks):
    """An enforcer whose rules ``checks`` (name: check) are these
    objects; no time passes, so no reload replaces them."""
    enforcer = policies.get_enforcer(make_conf(tmp_path))
    enforcer.register_defaults([policy.RuleDefault(name, '@')
                                for name in checks])
    enforcer.load_rules()
    enforcer.rules.update(checks)
    return enforcer


def test_checks_get_the_arguments_their_signature_asks_for(tmp_path,
                                                           monkeypatch):
    Clock(monkeypatch)
    monkeypatch.setattr(Named, 'seen', [])
    enforcer = enforcer_with(tmp_path, legacy=Legacy('user_id', 'u'),
                             named=Named('named', 'x'))
    for _ in range(2):  # the second time from the remembered signature
        assert policies.check(enforcer, 'legacy', reader())
        assert policies.check(enforcer, 'named', reader())
    assert Named.seen == ['named', 'named']
    assert _checks._check.remembers_signatures


def test_a_check_with_its_own_call_goes_the_original_way(tmp_path,
                                                        monkeypatch):
    Clock(monkeypatch)
    check = Named('named', 'x')
    check.__call__ = lambda target, creds, enforcer: False
    enforcer = enforcer_with(tmp_path, odd=check)
    # oslo.policy asks the instance's own __call__ for its signature (3
    # arguments: the legacy way), though calling it runs the class's.
    assert policies.check(enforcer, 'odd', reader())
