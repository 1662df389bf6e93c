"""oslo.policy defaults, the enforcer, and the decisions the API asks of it."""

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


# Check kinds whose verdict depends on nothing but the rules, the target
# and the credentials: a verdict made of them alone can be remembered. An
# http: check asks a server, and an unknown class could do anything.
_PURE_CHECKS = frozenset((_checks.TrueCheck, _checks.FalseCheck,
                          _checks.AndCheck, _checks.OrCheck, _checks.NotCheck,
                          _checks.RuleCheck, _checks.RoleCheck,
                          _checks.GenericCheck))
ALLOWED, DENIED, WRONG_SCOPE = 'allowed', 'denied', 'wrong scope'


class _Denied(Exception):
    pass


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking for policy file changes at most once
    every RELOAD_CHECK_SECONDS instead of on every check, and remembering
    verdicts of pure rules until then.

    ``enforce`` reloads its rules first, each time: it looks the policy
    file and the policy directories up in the configuration directories and
    checks their modification times, several system calls per check and a
    few per request. An edited policy file still takes effect, within a
    second: each look at the files (and any change of the rules or the
    registered defaults through this class) forgets every verdict.
    """

    RELOAD_CHECK_SECONDS = 1.0
    # Verdicts kept per rule; past it that rule's are dropped, so many
    # callers or targets cannot grow the memory.
    MAX_VERDICTS_PER_RULE = 2048
    _next_reload_check = None
    # {rule: {(credentials key, target items): verdict}, or None when the
    # rule is not pure}; replaced, never emptied in place, so a verdict
    # made on the rules of before lands in a dict nobody reads any more.
    _verdicts = None

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if (force_reload or not self.rules
                or self._next_reload_check is None
                or now >= self._next_reload_check):
            super().load_rules(force_reload)
            self._next_reload_check = now + self.RELOAD_CHECK_SECONDS
            self._verdicts = {}

    def set_rules(self, rules, overwrite=True, use_conf=False):
        super().set_rules(rules, overwrite, use_conf)
        self._verdicts = {}

    def register_default(self, default):
        super().register_default(default)
        self._verdicts = {}

    def clear(self):
        super().clear()
        self._next_reload_check = None

    def verdict(self, rule, target, creds, creds_key=None):
        """ALLOWED, DENIED or WRONG_SCOPE (a token not of the rule's scope)
        for registered ``rule``; ``creds`` the credentials as a dict and
        ``creds_key`` a hashable form of them (None: do not remember)."""
        if self.rules:
            # Due once a second; with no rules enforce() loads them at
            # once, which forgets the verdicts too.
            self.load_rules()
        verdicts = self._verdicts
        if verdicts is None or creds_key is None:
            return self._verdict(rule, target, creds)
        remembered = verdicts.get(rule, verdicts)
        if remembered is verdicts:
            remembered = verdicts[rule] = {} if self._is_pure(rule) else None
        if remembered is None:
            return self._verdict(rule, target, creds)
        try:
            key = (creds_key, tuple(target.items()))
            found = remembered.get(key)
        except TypeError:  # a target value that cannot be a key
            return self._verdict(rule, target, creds)
        if found is None:
            found = self._verdict(rule, target, creds)
            if len(remembered) >= self.MAX_VERDICTS_PER_RULE:
                remembered.clear()
            remembered[key] = found
        return found

    def _verdict(self, rule, target, creds):
        try:
            self.authorize(rule, target, creds, do_raise=True, exc=_Denied)
        except _Denied:
            return DENIED
        except policy.InvalidScope:
            return WRONG_SCOPE
        return ALLOWED

    def _is_pure(self, rule):
        """Whether ``rule``'s check, with the rules it refers to, is made of
        _PURE_CHECKS only."""
        try:
            pending = [self.rules[rule]]
        except KeyError:
            return True  # always denied, until the rules change
        seen = set()
        while pending:
            check = pending.pop()
            if (type(check) not in _PURE_CHECKS
                    or '__call__' in getattr(check, '__dict__', ())):
                return False
            if isinstance(check, _checks.RuleCheck):
                if check.match not in seen:
                    seen.add(check.match)
                    try:
                        pending.append(self.rules[check.match])
                    except KeyError:
                        pass  # denies, until the rules change
            pending.extend(getattr(check, 'rules', ()))
            if isinstance(check, _checks.NotCheck):
                pending.append(check.rule)
        return True


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


class Decisions:
    """The policy decisions of one caller (a request's context): its
    credentials turned into oslo.policy's form once, not at every check.
    ``target`` names the owner of the resource touched, e.g.
    ``{'project_id': arq.project_id}``; without one, the caller's own
    project is the target (for creates and lists)."""

    def __init__(self, enforcer, context):
        self.enforcer = enforcer
        self.context = context
        self._creds = None
        self._creds_key = None

    def _decide(self, rule, target):
        if self._creds is None:
            # What oslo.policy makes of a context at every enforce().
            self._creds = dict(self.context.to_policy_values().items())
            try:
                key = tuple((name, tuple(value) if isinstance(value, list)
                             else value)
                            for name, value in self._creds.items())
                hash(key)
            except TypeError:
                key = None
            self._creds_key = key
        if target is None:
            target = {'project_id': self.context.project_id}
        return self.enforcer.verdict(rule, target, self._creds,
                                     self._creds_key)

    def authorize(self, rule, target=None):
        """Raise Forbidden unless the caller may perform ``rule`` on
        ``target``."""
        verdict = self._decide(rule, target)
        if verdict is WRONG_SCOPE:
            # A system- or domain-scoped token on a project-scoped rule.
            raise exception.Forbidden('%s needs a project-scoped token.'
                                      % rule)
        if verdict is not ALLOWED:
            raise exception.Forbidden(action=rule)

    def check(self, rule, target=None):
        """Like authorize(), returning a bool instead of raising."""
        return self._decide(rule, target) is ALLOWED


def authorize(enforcer, rule, context, target=None):
    """Decisions(enforcer, context).authorize(rule, target): one check."""
    Decisions(enforcer, context).authorize(rule, target)


def check(enforcer, rule, context, target=None):
    """Decisions(enforcer, context).check(rule, target): one check."""
    return Decisions(enforcer, context).check(rule, target)
