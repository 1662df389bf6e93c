"""oslo.policy defaults and the one ``authorize`` call the API makes."""

import inspect
import itertools
import time

from oslo_policy import _checks
from oslo_policy import policy

from cyborg_clone.common import exception
from cyborg_clone.policies import arq
from cyborg_clone.policies import attribute
from cyborg_clone.policies import base
from cyborg_clone.policies import deployable
from cyborg_clone.policies import device
from cyborg_clone.policies import device_profile
from cyborg_clone.policies import fpga_image

_MODULES = (base, device_profile, arq, device, deployable, attribute,
            fpga_image)


def list_rules():
    """Every default rule, for the enforcer and the sample generator."""
    return list(itertools.chain.from_iterable(
        module.list_rules() for module in _MODULES))


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking for policy file changes at most once
    every RELOAD_CHECK_SECONDS instead of on every check.

    ``enforce`` reloads its rules first, each time: it looks the policy
    file and the policy directories up in the configuration directories and
    checks their modification times, several system calls per check and a
    few per request. An edited policy file still takes effect, within a
    second.
    """

    RELOAD_CHECK_SECONDS = 1.0
    _next_reload_check = None

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if (force_reload or not self.rules
                or self._next_reload_check is None
                or now >= self._next_reload_check):
            super().load_rules(force_reload)
            self._next_reload_check = now + self.RELOAD_CHECK_SECONDS

    def clear(self):
        super().clear()
        self._next_reload_check = None


def _remember_check_signatures():
    """oslo.policy evaluates each node of a rule through ``_checks._check``,
    which inspects the node's ``__call__`` signature every time to learn
    whether it takes the rule name: most of a check's cost. The signature
    is its class's, so ask once per class; a node with its own ``__call__``
    goes the original way."""
    original = _checks._check
    if getattr(original, 'remembers_signatures', False):
        return
    takes_rule_name = {}

    def _check(rule, target, creds, enforcer, current_rule):
        kind = type(rule)
        passes_name = takes_rule_name.get(kind)
        if passes_name is None:
            if '__call__' in getattr(rule, '__dict__', ()):
                return original(rule, target, creds, enforcer, current_rule)
            passes_name = len(inspect.getfullargspec(kind.__call__).args) > 4
            takes_rule_name[kind] = passes_name
        if passes_name:
            return rule(target, creds, enforcer, current_rule)
        return rule(target, creds, enforcer)

    _check.remembers_signatures = True
    _checks._check = _check


def get_enforcer(conf):
    """An enforcer for ``conf`` with every default registered."""
    _remember_check_signatures()
    enforcer = Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


def authorize(enforcer, rule, context, target=None):
    """Raise Forbidden unless ``context`` may perform ``rule`` on ``target``.

    ``target`` names the owner of the resource touched, e.g.
    ``{'project_id': arq.project_id}``; without one, the caller's own
    project is the target (for creates and lists).
    """
    if target is None:
        target = {'project_id': context.project_id}
    try:
        enforcer.authorize(rule, target, context, do_raise=True,
                           exc=exception.Forbidden, action=rule)
    except policy.InvalidScope:
        # A system- or domain-scoped token on a project-scoped rule.
        raise exception.Forbidden(
            '%s needs a project-scoped token.' % rule) from None


def check(enforcer, rule, context, target=None):
    """Like authorize(), returning a bool instead of raising."""
    if target is None:
        target = {'project_id': context.project_id}
    return enforcer.authorize(rule, target, context, do_raise=False)
