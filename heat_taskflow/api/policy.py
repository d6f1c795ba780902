"""Policy enforcement: one oslo.policy Enforcer per process over Heat's rules (api/policies).

The defaults are Heat's new ones (reader, member, admin); a policy file named by
``[oslo_policy] policy_file`` overrides any rule, and ``[oslo_policy] enforce_new_defaults``
(True by default, as in oslo.policy) decides whether the pre-Wallaby rules are ORed in.
A denial raises ``Forbidden``, which the fault middleware answers with 403.
"""

import threading

from oslo_config import cfg
from oslo_policy import policy

from heat_taskflow.api import policies

_lock = threading.Lock()
_enforcer = None


class Forbidden(Exception):
    """The caller may not do this: answered with 403 and Heat's fault type "Forbidden"."""

    code = 403

    def __init__(self, message, rule=None):
        super().__init__(message)
        self.message = message
        self.rule = rule


def init(conf=None):
    """Make the process's enforcer on conf (cfg.CONF by default) and return it."""
    global _enforcer
    with _lock:
        enforcer = policy.Enforcer(conf if conf is not None else cfg.CONF)
        enforcer.register_defaults(policies.list_rules())
        _enforcer = enforcer
    return enforcer


def reset():
    """Forget the process's enforcer (the next use makes one on cfg.CONF)."""
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None


def enforcer():
    """The process's enforcer, made on cfg.CONF the first time when init() was not called."""
    current = _enforcer
    return current if current is not None else init()


def get_enforcer():
    """The enforcer for oslo.policy's command line tools (entry point oslo.policy.enforcer).

    They call it without arguments, after parsing their own command line into cfg.CONF
    (``--config-file`` among it); when nothing parsed cfg.CONF yet, it reads
    heat-taskflow's default configuration files (and so its [oslo_policy] options).
    """
    if 'config_file' not in cfg.CONF:       # registered when cfg.CONF is parsed
        cfg.CONF([], project='heat-taskflow')
    return init(cfg.CONF)


def check_is_admin(context):
    """Whether the context passes ``context_is_admin`` (role admin in the admin project)."""
    return enforcer().authorize('context_is_admin', {}, context, do_raise=False)


def authorize(context, rule, target=None, tenant_id=None):
    """Let the context use rule on target, or raise Forbidden.

    tenant_id is the project of the request's URL: a caller who is not admin may only use
    its own project's URL. The default target is the context's own project (an admin's
    request is judged in its own project, as Heat does, whatever the URL names).
    """
    if tenant_id is not None and not context.is_admin and tenant_id != context.project_id:
        raise Forbidden('Access was denied to this resource.', rule)
    if target is None:
        if context.project_id is None:
            raise Forbidden('You are not authorized to use %s.' % rule, rule)
        target = {'project_id': context.project_id}
    try:
        allowed = enforcer().authorize(rule, target, context, do_raise=False)
    except policy.InvalidScope:
        allowed = False
    if not allowed:
        raise Forbidden('You are not authorized to use %s.' % rule, rule)
