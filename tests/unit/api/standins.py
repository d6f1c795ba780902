"""Stand-ins for what other branches provide, used only until they are merged: the auth
pipeline and policy (api-auth) and StackService.scoped (api-engine). Each steps aside as
soon as the real thing exists."""

import re

from oslo_context import context as oslo_context


class Forbidden(Exception):
    """api.policy.Forbidden's stand-in: 403 naming the rule."""

    code = 403

    def __init__(self, rule):
        super().__init__('You are not authorized to use %s.' % rule)


def authorize(context, rule, target, tenant_id=None):
    """api.policy.authorize's stand-in: members of the URL's project only; 'deny' rules."""
    if rule in ('stacks:global_index', 'software_configs:global_index', 'service:index'):
        raise Forbidden(rule)
    if tenant_id is not None and not context.is_admin and context.project_id != tenant_id:
        raise Forbidden(rule)


def auth_pipeline():
    """api.auth.pipeline when it exists, else a noauth stand-in: the caller is a member and
    reader of the URL's project."""
    try:
        from heat_taskflow.api import auth
        return auth.pipeline
    except ImportError:
        pass

    def pipeline(conf, app):
        def middleware(environ, start_response):
            match = re.match(r'/v1/([^/]+)', environ.get('PATH_INFO', ''))
            environ['heat_taskflow.context'] = oslo_context.RequestContext(
                project_id=match.group(1) if match else None, roles=['member', 'reader'],
                is_admin=False)
            return app(environ, start_response)
        return middleware

    return pipeline


def service(svc):
    """svc, with a scoped() that returns itself when the engine has none yet."""
    if not hasattr(svc, 'scoped'):
        svc.scoped = lambda project_id, admin=False: _Unscoped(svc)
    return svc


class _Unscoped:
    """Forwards to the service; list_stacks takes (and ignores) the contract's keywords."""

    def __init__(self, svc):
        self._svc = svc

    def __getattr__(self, name):
        return getattr(self._svc, name)

    def list_stacks(self, **kwargs):
        return self._svc.list_stacks()

    def count_stacks(self, **kwargs):
        return len(self._svc.list_stacks())
