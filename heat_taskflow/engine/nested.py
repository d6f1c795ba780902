"""Nested stacks as the engine offers them to resource plugins (ResourceGroup, template
resources, OS::Heat::Stack): child stack rows of their own, run on the parent's path.

``NestedStackService(engine, parent)`` is the StackEngine's ``nested_factory``: every child
operation goes through the engine's public operations (create, update, delete, check,
resume) and its traversal lifecycle, never around them.
"""

import time

from heat_taskflow.common import polling, states
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import operations as ops
from heat_taskflow.flows import actions
from heat_taskflow.persistence import api as db
from heat_taskflow.resources import base
from heat_taskflow.template import parser


class NestedStackService:
    """Hands out a per-resource NestedStackService for one parent stack's operation."""

    def __init__(self, engine, parent):
        self._engine = engine
        self._parent = parent

    def for_resource(self, resource_name):
        """The service a plugin of resource ``resource_name`` sees as ``ctx.nested``."""
        return ResourceNestedStacks(self._engine, self._parent, resource_name)


class ResourceNestedStacks(base.NestedStackService):
    """Child stacks of one resource. On the legacy path an operation runs to its end
    before the call returns, so ``stack_status`` always reports a finished state."""

    def __init__(self, engine, parent, resource_name):
        self._engine = engine
        self._parent = parent
        self._resource_name = resource_name

    def _source(self, template, files, environment, parameters):
        env = [('environment.yaml', parser.dump_data(environment))] if environment else []
        # A child stack sees its parent's files (as in Heat), so a group member or nested
        # template may use get_file and template-resource types from the parent's files map.
        merged = dict(self._parent_files())
        merged.update(files or {})
        return ops.Source(parser.dump_data(template, sort_keys=False), 'template.yaml',
                          files=merged, environments=env, parameters=parameters)

    def _parent_files(self):
        raw = db.raw_template_get(self._engine.database, self._parent.raw_template_id)
        return (raw.files or {}) if raw is not None else {}

    def _stack(self, stack_id):
        stack = db.stack_get(self._engine.database, stack_id)
        if stack is None or stack.owner_id != self._parent.id:
            return None
        return stack

    def create_stack(self, name, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        """Create a child stack (or adopt the one an interrupted run created)."""
        existing = db.stack_get_by_name(self._engine.database, name,
                                        self._parent.project_id)
        if existing is not None and existing.owner_id == self._parent.id:
            self._resume_if_interrupted(existing)
            return existing.id
        stack = self._engine.create(
            name, self._source(template, files, environment, parameters),
            timeout_mins=timeout_mins or self._parent.timeout, disable_rollback=True,
            owner=self._parent, parent_resource_name=self._resource_name,
            project_id=self._parent.project_id)
        return stack.id

    def _resume_if_interrupted(self, stack):
        """A legacy child left IN_PROGRESS by a dead process (its parent's action is being
        resumed): finish the child's operation here, as the dead process would have.

        The dead process may have begun the child after the parent's last heartbeat, so the
        child can look alive for up to a heartbeat interval longer than its parent did when
        the parent was taken over. A child whose heartbeat does not move is waited for until
        it is stale, then resumed; one whose heartbeat moves on is run by a live process,
        and the plugin polls it until that process ends it."""
        if stack.status != states.IN_PROGRESS or stack.convergence:
            return
        from heat_taskflow.engine import resume as resume_mod
        first_seen = resume_mod.last_seen(stack)
        interval = (self._engine.runner(stack).heartbeat_interval
                    or resume_mod.DEFAULT_INTERVAL)
        interval = max(interval, resume_mod.parse_holder(stack.engine_id)[1] or 0)
        # A guard only: a holder that stopped beating is stale after STALE_INTERVALS.
        give_up = time.monotonic() + (resume_mod.STALE_INTERVALS + 2) * interval + 5
        first_look = True

        def resumed_or_alive():
            # True once there is nothing more to do here: resumed, ended, or alive.
            nonlocal first_look
            child = stack
            if not first_look:
                child = self._stack(stack.id)
                if child is not None and resume_mod.last_seen(child) != first_seen:
                    return True     # its process lives: the plugin polls it until it ends
            first_look = False
            if child is None or child.status != states.IN_PROGRESS:
                return True
            try:
                self._engine.resume(child)
                return True
            except resume_mod.NothingToResume:
                return True         # it ended meanwhile
            except resume_mod.StillRunning:
                return False

        try:
            polling.wait_until(resumed_or_alive, min(interval / 2.0, 1.0), deadline=give_up)
        except polling.TimedOut:
            return

    def update_stack(self, stack_id, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        """Update a child stack to a new template and parameters."""
        stack = self._stack(stack_id)
        if stack is None:
            raise exc.StackNotFound(stack_id)
        if stack.status == states.IN_PROGRESS:
            self._resume_if_interrupted(stack)
            stack = self._stack(stack_id)
        self._engine.update(stack, self._source(template, files, environment, parameters),
                            timeout_mins=timeout_mins, disable_rollback=True)

    def delete_stack(self, stack_id):
        """Delete a child stack; one already gone is fine."""
        stack = self._stack(stack_id)
        if stack is None or stack.deleted_at is not None:
            return
        if stack.status == states.IN_PROGRESS:
            # Only an interrupted operation can leave a child busy while its parent acts.
            values = {'status': states.FAILED, 'status_reason': 'interrupted'}
            db.stack_update(self._engine.database, stack.id, values,
                            event=ops.state_event(stack, values))
            stack = db.stack_get(self._engine.database, stack.id)
        self._engine.delete(stack)

    def stack_status(self, stack_id):
        """(action, status, reason) of a child stack; a gone one is DELETE COMPLETE."""
        stack = self._stack(stack_id)
        if stack is None or stack.deleted_at is not None:
            return (states.DELETE, states.COMPLETE, 'stack does not exist')
        return (stack.action, stack.status, stack.status_reason)

    def stack_outputs(self, stack_id):
        """{name: value} of a child stack's stored outputs."""
        return {o.name: (None if o.error else o.value)
                for o in db.output_list(self._engine.database, stack_id)}

    def stack_resource_ids(self, stack_id):
        """{name: reference id} of a child stack's current resources."""
        return {r.name: r.reference_id
                for r in db.resource_list(self._engine.database, stack_id)
                if r.replaced_by is None}

    def check_stack(self, stack_id):
        """Start a check of a child stack (on the legacy path it has ended on return);
        True: started."""
        stack = self._stack(stack_id)
        if stack is None or stack.deleted_at is not None:
            raise exc.StackNotFound(stack_id)
        self._engine.check(stack)
        return True

    def drifted(self, stack_id, mark=False):
        """Check a child stack's resources now, in this process (descending into its own
        nested stacks), without a stack operation; with ``mark`` the drifted ones are marked
        CHECK_FAILED (before the parent's converging update). Returns ``{name: reason}`` of
        every current resource of the child that needs repair (drifted now, or unhealthy
        already)."""
        stack = self._stack(stack_id)
        if stack is None or stack.deleted_at is not None:
            raise exc.StackNotFound(stack_id)
        if stack.status == states.IN_PROGRESS:
            raise exc.ActionInProgress(stack.name, stack.action)
        defn = self._engine.stack_definition(stack, stack.raw_template_id)
        if mark:
            self._engine.mark_drifted(stack, defn)
            return self._unhealthy(stack_id, lambda r: r.status != states.COMPLETE)
        runtime = self._engine.traversal_runtime(stack, states.CHECK, defn, None)
        found = {}
        for row in db.resource_list(self._engine.database, stack_id, current_only=True):
            if row.name not in defn.resources:
                continue
            if row.status != states.COMPLETE:
                found[row.name] = '%s_%s: %s' % (row.action, row.status,
                                                 row.status_reason or 'no reason')
                continue
            reason = actions.drift(runtime, row)
            if reason is not None:
                found[row.name] = reason
        return found

    def failed_resources(self, stack_id):
        """``{name: 'ACTION_FAILED: reason'}`` of a child stack's failed current resources."""
        return self._unhealthy(stack_id, lambda r: r.status == states.FAILED)

    def _unhealthy(self, stack_id, pick):
        return {r.name: '%s_%s: %s' % (r.action, r.status, r.status_reason or 'no reason')
                for r in db.resource_list(self._engine.database, stack_id, current_only=True)
                if pick(r)}
