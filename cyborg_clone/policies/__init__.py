"""oslo.policy defaults and the one ``authorize`` call the API makes."""

import itertools

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


def get_enforcer(conf):
    """An enforcer for ``conf`` with every default registered."""
    enforcer = policy.Enforcer(conf)
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
