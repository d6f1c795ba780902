"""POST /stacks/{name}/{id}/actions: exactly one action per request (Heat's
ActionController): check, cancel_update, cancel_without_rollback; suspend and resume are
not there yet (501); from microversion 1.1, resume_interrupted."""

from heat_taskflow.api import faults, versions, wsgi
from heat_taskflow.api.controllers import base

ROUTES = [
    ('/stacks/{stack_name}/{stack_id}/actions', 'POST', 'action'),
]

HEAT_ACTIONS = ('suspend', 'resume', 'check', 'cancel_update', 'cancel_without_rollback')
# Actions added by microversions: name -> the first version that has it.
EXTRA_ACTIONS = {'resume_interrupted': versions.Version(1, 1)}


class Controller(base.Controller):
    """Stack actions."""

    def action(self, req, tenant_id, stack_name, stack_id):
        """Run the one action the body names; 200 with a null body (Heat's)."""
        body = req.json_body() or {}
        if len(body) < 1:
            raise faults.BadRequest('No action specified')
        if len(body) > 1:
            raise faults.BadRequest('Multiple actions specified')
        name = next(iter(body))
        since = EXTRA_ACTIONS.get(name)
        if name not in HEAT_ACTIONS and (since is None or req.api_version < since):
            raise faults.BadRequest('Invalid action %s specified' % name)
        return getattr(self, name)(req, tenant_id, stack_name, stack_id)

    def _engine(self, req, tenant_id, rule, stack_name, stack_id):
        self.authorize(req, rule, tenant_id)
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        return engine

    def suspend(self, req, tenant_id, stack_name, stack_id):
        self._engine(req, tenant_id, 'actions:suspend', stack_name, stack_id)
        raise faults.NotImplementedYet('Stack suspend is not implemented yet.')

    def resume(self, req, tenant_id, stack_name, stack_id):
        self._engine(req, tenant_id, 'actions:resume', stack_name, stack_id)
        raise faults.NotImplementedYet('Stack resume (of a suspended stack) is not '
                                       'implemented yet.')

    def check(self, req, tenant_id, stack_name, stack_id):
        engine = self._engine(req, tenant_id, 'actions:check', stack_name, stack_id)
        engine.check_stack(stack_id)

    def cancel_update(self, req, tenant_id, stack_name, stack_id):
        engine = self._engine(req, tenant_id, 'actions:cancel_update', stack_name, stack_id)
        engine.cancel_stack(stack_id, rollback=True)

    def cancel_without_rollback(self, req, tenant_id, stack_name, stack_id):
        engine = self._engine(req, tenant_id, 'actions:cancel_without_rollback', stack_name,
                              stack_id)
        engine.cancel_stack(stack_id, rollback=False)

    def resume_interrupted(self, req, tenant_id, stack_name, stack_id):
        """1.1: resume the stack's interrupted operation (policy actions:resume)."""
        engine = self._engine(req, tenant_id, 'actions:resume', stack_name, stack_id)
        engine.resume_stack(stack_id)
        return wsgi.empty_response(202)
