"""Policy enforcement: oslo.policy Enforcers over Heat's rules (api/policies), one per API
application (on its configuration; each request context carries its application's), and a
process default for contexts that carry none.

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


def make_enforcer(conf):
    """An enforcer over Heat's rules reading conf's [oslo_policy] options (what each API
    application holds: its request contexts carry it)."""
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    return enforcer


def init(conf=None):
    """Make the process's default enforcer on conf (cfg.CONF by default) and return it:
    the one used for a context that carries none (oslo.policy's tools, tests)."""
    global _enforcer
    with _lock:
        enforcer = make_enforcer(conf if conf is not None else cfg.CONF)
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


def _enforcer_of(context):
    return getattr(context, 'enforcer', None) or enforcer()


def check_is_admin(context):
    """Whether the context passes ``context_is_admin`` (role admin in the admin project)."""
    return _enforcer_of(context).authorize('context_is_admin', {}, context, do_raise=False)


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
        allowed = _enforcer_of(context).authorize(rule, target, context, do_raise=False)
    except policy.InvalidScope:
        allowed = False
    if not allowed:
        raise Forbidden('You are not authorized to use %s.' % rule, rule)
