"""The request context of the API: who calls, in which project, with which roles."""

from oslo_context import context

from heat_taskflow.api import policy


class RequestContext(context.RequestContext):
    """oslo.context's RequestContext whose ``is_admin`` is the policy rule context_is_admin.

    ``from_environ(environ, **kw)`` (inherited) reads what the auth middleware left in the
    WSGI environ: X-Project-Id, X-User-Id, X-Roles, X-Is-Admin-Project, the request id.
    ``is_admin`` given explicitly is kept; otherwise it is role admin in the admin project.
    """

    def __init__(self, is_admin=None, enforcer=None, **kwargs):
        super().__init__(is_admin=bool(is_admin), **kwargs)
        # The policy enforcer of the application that made the context (None: the
        # process default of api/policy.py).
        self.enforcer = enforcer
        if is_admin is None:
            self.is_admin = policy.check_is_admin(self)

    @property
    def tenant_id(self):
        """Heat's name for project_id."""
        return self.project_id
