"""The base of resources that are a nested stack: ResourceGroup, OS::Heat::Stack, templates.

A subclass builds the child template, parameters, files and environment; this class creates,
updates, deletes and checks the child stack through ``ctx.nested`` and polls its status.
The child stack's name is recorded before it is created, and ``create_stack`` is idempotent
by name, so a create re-run after a crash adopts the stack the first run started.
"""

import math
import secrets

from heat_taskflow.resources import base
from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure


class NestedStackResource(base.Resource):
    """A resource whose physical id is the id of a child stack it owns."""

    # Its check_*_complete waits for the child stack's operation, which other jobs run on
    # the distributed path: the wait must not hold one of the conductor's job slots.
    waits_for_child_stack = True

    def child_template(self):
        """The child stack's template, as a dict."""
        raise NotImplementedError

    def child_parameters(self):
        """The child stack's parameter values."""
        return {}

    def child_files(self):
        """The files map the child template may read (get_file, template resources)."""
        return None

    def child_environment(self):
        """The child stack's environment, as a dict."""
        return None

    def child_timeout_mins(self):
        """Whole minutes left before the parent's deadline (at least 1), or None."""
        left = self.time_left()
        return None if left is None else max(1, math.ceil(left / 60.0))

    def nested_stack_name(self):
        """The child stack's name, recorded on first use so every run agrees on it."""
        stack = self.ctx.stack_name
        return self.remember('nested_stack_name', lambda: '%s-%s-%s' % (
            stack, self.name, secrets.token_hex(6)))

    def _cookie(self, action):
        return {'action': action, 'stack_id': self.physical_id}

    def handle_create(self):
        """Create the child stack (or adopt the one an interrupted run created)."""
        if self.physical_id is None:
            self.prepare_child()
            name = self.nested_stack_name()
            stack_id = self.ctx.nested.create_stack(
                name, self.child_template(), self.child_files(), self.child_environment(),
                self.child_parameters(), self.child_timeout_mins())
            self.set_physical_id(stack_id)
        return self._cookie(base.CREATE)

    def check_create_complete(self, cookie):
        """Poll the child stack until CREATE COMPLETE (raise when it fails)."""
        return self._poll(cookie)

    def handle_update(self, new_properties, prop_diff):
        """Update the child stack to the template and parameters of the new properties."""
        if self.physical_id is None:
            return self.handle_create()
        self.prepare_child()
        self.ctx.nested.update_stack(
            self.physical_id, self.child_template(), self.child_files(),
            self.child_environment(), self.child_parameters(), self.child_timeout_mins())
        return self._cookie(base.UPDATE)

    def check_update_complete(self, cookie):
        """Poll the child stack until UPDATE COMPLETE (raise when it fails)."""
        return self._poll(cookie)

    def handle_delete(self):
        """Delete the child stack; none, or one already gone, is fine."""
        if self.physical_id is None:
            return None
        self.ctx.nested.delete_stack(self.physical_id)
        return self._cookie(base.DELETE)

    def check_delete_complete(self, cookie):
        """Poll the child stack until it is gone (raise when its delete fails)."""
        if cookie is None:
            return True
        return self._poll(cookie)

    def handle_check(self):
        """The child stack must exist and not be FAILED; then its own resources are checked
        (a check of the child stack, polled by ``check_check_complete``), so drift inside a
        nested stack fails this resource's check with a reason naming the inner resource."""
        self._check_child_exists()
        if not self.ctx.nested.check_stack(self.physical_id):
            return None             # a service that cannot check nested stacks: shallow
        return self._cookie(base.CHECK)

    def check_check_complete(self, cookie):
        """Poll the child stack's check; raise ResourceCheckFailed naming the inner
        resources whose check failed."""
        if cookie is None:
            return True
        action, status, reason = self.ctx.nested.stack_status(cookie['stack_id'])
        if status == base.IN_PROGRESS:
            return False
        if (action, status) == (base.CHECK, base.COMPLETE):
            return True
        raise ResourceCheckFailed(self.name, self._inner_failures(cookie['stack_id'], action,
                                                                  status, reason))

    def handle_drift_check(self, mark=False):
        """Drift without a check operation: the child stack must exist; then its resources
        are checked in turn (descending further), and with ``mark`` the drifted ones are
        marked CHECK_FAILED, so the child's next update replaces them (``update
        --converge``). Raise ResourceCheckFailed naming what inside needs repair: the engine
        then updates this resource in place (see repairs_in_place)."""
        self._check_child_exists(allow_failed=True)
        # A service that cannot look inside finds nothing: shallow.
        inner = self.ctx.nested.drifted(self.physical_id, mark=mark)
        if inner:
            raise ResourceCheckFailed(self.name, 'nested stack %s: %s' % (
                self.physical_id, _describe(inner)))

    def repairs_in_place(self):
        """A CHECK_FAILED nested stack resource whose child stack still exists is repaired
        by updating the child (which replaces its unhealthy resources), not by replacing
        the whole child stack."""
        if self.physical_id is None or self.ctx is None or self.ctx.nested is None:
            return False
        action, status, _ = self.ctx.nested.stack_status(self.physical_id)
        return not (action == base.DELETE and status == base.COMPLETE) and \
            status != base.IN_PROGRESS

    def _check_child_exists(self, allow_failed=False):
        if self.physical_id is None:
            raise ResourceCheckFailed(self.name, 'no nested stack was ever created')
        action, status, reason = self.ctx.nested.stack_status(self.physical_id)
        if action == base.DELETE and status == base.COMPLETE:
            raise ResourceCheckFailed(self.name, 'nested stack %s does not exist'
                                      % self.physical_id)
        # A child whose last check failed is checked again (that is what is asked).
        if status == base.FAILED and action != base.CHECK and not allow_failed:
            raise ResourceCheckFailed(self.name, 'nested stack %s is %s_%s: %s'
                                      % (self.physical_id, action, status, reason))

    def _inner_failures(self, stack_id, action, status, reason):
        inner = self.ctx.nested.failed_resources(stack_id)
        if inner:
            return 'nested stack %s: %s' % (stack_id, _describe(inner))
        return 'nested stack %s is %s_%s: %s' % (stack_id, action, status,
                                                 reason or 'no reason given')

    def prepare_child(self):
        """Record what the child template depends on before it is built (subclass hook)."""

    def _poll(self, cookie):
        action, status, reason = self.ctx.nested.stack_status(cookie['stack_id'])
        if status == base.IN_PROGRESS:
            return False
        if status == base.COMPLETE and action == cookie['action']:
            return True
        raise ResourceFailure(self.name, 'nested stack %s is %s_%s: %s' % (
            cookie['stack_id'], action, status, reason or 'no reason given'),
            cookie['action'])

    def outputs(self):
        """The child stack's outputs, or {} when there is no child stack yet."""
        if self.physical_id is None or self.ctx is None:
            return {}
        return self.ctx.nested.stack_outputs(self.physical_id)

    def member_ids(self):
        """``{name: reference id}`` of the child stack's resources ({} without one)."""
        if self.physical_id is None or self.ctx is None:
            return {}
        return self.ctx.nested.stack_resource_ids(self.physical_id)


def _describe(inner):
    """``{name: reason}`` of a nested stack's unhealthy resources, as one line."""
    return '; '.join("resource '%s': %s" % (name, inner[name]) for name in sorted(inner))
