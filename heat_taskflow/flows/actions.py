"""The resource actions a node of an operation graph performs: converge, cleanup and check.

Both paths run exactly this code; they differ only in who calls it (a TaskFlow engine in the
calling process, or a conductor that claimed the node's job). Every action is safe to run
twice: it starts from the stored state of the resource, which each step updates before the
next one calls out, and the plugins follow the idempotency contract of resources/base.py.

Every state change is one transaction with its event (the row and its event, the row's
removal and its DELETE_COMPLETE, a replacement's new row and the replaced row's
"replacing" event, a restore and its event): a process killed between two steps leaves
either nothing of a step or all of it, so a re-run neither misses an event nor records a
*_COMPLETE twice (tests/unit/flows/test_crash_points.py kills after every commit).
"""

import contextlib
import logging

from heat_taskflow.common import polling, states
from heat_taskflow.flows import context as ctx_mod
from heat_taskflow.flows import runtime as rt_mod
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as db_mod
from heat_taskflow.resources import exceptions as res_exc
from heat_taskflow.resources import registry
from heat_taskflow.resources.types import resource_group
from heat_taskflow.template import ResourceState, redaction

LOG = logging.getLogger(__name__)

POLL_START = 0.005
POLL_MAX = 0.5
# Back off, but never sleep more than a tenth of the time waited so far: an action that
# completes after t seconds is seen by about 1.1 t (plain doubling: up to 2 t).
POLL = polling.backoff(POLL_START, POLL_MAX, fraction=0.1)


class ResourceActionFailed(Exception):
    """A resource action failed; the message names the resource and the action."""

    def __init__(self, name, action, reason):
        super().__init__('Resource %s failed: %s' % (action, reason))
        self.resource_name = name
        self.action = action
        self.reason = reason


class OperationTimeout(ResourceActionFailed):
    """The stack operation's timeout passed while a resource action was running."""


class OperationCancelled(ResourceActionFailed):
    """The stack operation was cancelled without rollback while the action waited."""


def plugin_class(type_name, template_file=None, files=None, test_types=True, limits=None):
    """The plugin class for a resolved resource type (a template resource's file must be in
    the files map, and is parsed under ``limits``). ``test_types``: whether test-only types
    are found (see resources/registry.py; validation of a new template passes the option)."""
    if template_file:
        if template_file not in (files or {}):
            raise res_exc.ResourceTypeNotFound(
                '%s (template file "%s" is not in the files map)' % (type_name, template_file))
        return registry.get_template_resource_class(type_name, template_file,
                                                    files[template_file], files,
                                                    limits=limits)
    return registry.get_class(type_name, test_types=test_types)


def _states(runtime, names):
    """ResourceState of the current rows of the named resources, and the rows themselves."""
    rows = db.resource_states_by_names(runtime.database, runtime.stack_id, names)
    return {row.name: stored_state(row) for row in rows}, rows


def stored_state(row):
    """The ResourceState templates read of a stored row (stored values only: a group's
    member paths are answered from what it stored, never by its plugin)."""
    return ResourceState(row.reference_id,
                         resource_group.stored_attributes(row.type, row.attributes))


def _wait(runtime, row, action, plugin, check, cookie):
    """Poll a plugin's check_*_complete until it answers True, honouring the deadline. A
    nested stack's action waits for its child stack's operation without holding a job
    slot of its conductor (runtime.waiting_for_child_stack)."""
    waiting = (rt_mod.waiting_for_child_stack() if plugin.waits_for_child_stack
               else contextlib.nullcontext())
    def done():
        # A cancel without rollback stops the waits of the actions in flight (Heat's
        # cancel does too): the plugin's call has been made and recorded, the row is
        # FAILED "cancelled", and the next operation converges it like any failed one.
        if runtime.stopped_lately():
            raise OperationCancelled(row.name, action, "resource '%s': %s" % (
                row.name, 'the stack operation was cancelled'))
        return check(cookie)

    with waiting:
        try:
            polling.wait_until(done, POLL, timed_out=runtime.timed_out)
        except polling.TimedOut:
            raise OperationTimeout(row.name, action, "resource '%s': the stack "
                                   'operation timed out' % row.name) from None


def _stored_attributes(runtime, name, plugin):
    """The attribute values other resources and outputs read from this resource."""
    # What dependents and outputs read, plus the type's own attributes so that
    # "resource show" can present them without calling the plugin again.
    wanted = set(runtime.definition.required_attributes(name)) - {None}
    wanted |= set(plugin.attributes_schema or ())
    values = {}
    for attr in sorted(wanted):
        try:
            values[attr] = plugin.get_attribute(attr)
        except Exception as exc:  # noqa: BLE001 - an attribute error must not fail the action
            LOG.warning('stack %s resource %s: attribute %s unavailable: %s',
                        runtime.stack.name, name, attr, exc)
            values[attr] = None
    return values


def _message(exc):
    """An error's text for a status reason: a database error's first line only (no SQL
    statement), else the error's own text or its class name."""
    return db_mod.error_message(exc) or exc.__class__.__name__


def _limits(runtime):
    """The budgets of the runtime's stack (None: the defaults)."""
    return getattr(runtime, 'limits', None)


def _redactor(runtime):
    """What masks the hidden parameter values in the runtime's messages: the target
    definition's, else (deleting) the stored stack's the runtime was given."""
    redact = getattr(runtime, 'redact', None)
    if redact is None:
        defn = getattr(runtime, 'definition', None)
        redact = defn.redact if defn is not None else redaction.NONE
    return redact


def _set_state(runtime, row, action, status, reason='', values=None):
    """Persist a resource state change and record its event."""
    reason = _redactor(runtime)(reason)
    update = dict(values or {})
    update.update(action=action, status=status, status_reason=reason)
    if status == states.IN_PROGRESS:
        update['engine_id'] = runtime.engine_id
    else:
        update['engine_id'] = None
    for key, value in update.items():
        setattr(row, key, value)
    # One transaction for the row and its event (was two).
    runtime.record_event(row, action, status, reason, resource_update=update)


def _fail(runtime, row, action, exc):
    reason = getattr(exc, 'reason', None) or _message(exc)
    if row.name not in reason:
        reason = "resource '%s': %s" % (row.name, reason)
    masked = _redactor(runtime)(reason)
    _set_state(runtime, row, action, states.FAILED, masked)
    if isinstance(exc, ResourceActionFailed):
        raise exc
    # The reason becomes the stack's too; when it quoted a hidden value, the original
    # error is not chained (a logged traceback would print it).
    if masked != reason:
        raise ResourceActionFailed(row.name, action, masked) from None
    raise ResourceActionFailed(row.name, action, reason) from exc


def converge(runtime, name):
    """Bring resource *name* to its definition in the runtime's target template."""
    defn = runtime.definition
    rdef = defn.resources[name]
    rtype = defn.resource_type(name)
    requires = sorted(runtime.requires(name))
    known, dep_rows = _states(runtime, requires)
    try:
        properties = defn.resolve_properties(name, known)
    except Exception as exc:
        row = db.resource_get_by_name(runtime.database, runtime.stack_id, name)
        if row is None:
            row = _new_row(runtime, name, rtype)
        _fail(runtime, row, states.CREATE if row.action is None else row.action, exc)
    cls = plugin_class(rtype.type_name, rtype.template_file, defn.files,
                       limits=_limits(runtime))
    snippet = _snippet(runtime, name, rdef, rtype, known)
    requires_ids = sorted(r.id for r in dep_rows)
    row = db.resource_get_by_name(runtime.database, runtime.stack_id, name)

    if row is None:
        row = _new_row(runtime, name, rtype)
        return _create(runtime, row, cls, properties, snippet, requires_ids, fresh=True)
    if row.status == states.IN_PROGRESS and row.action == states.CREATE:
        # Interrupted create (the process running it died): run it again; the plugin adopts
        # what it recorded before calling out.
        return _create(runtime, row, cls, properties, snippet, requires_ids)
    if row.status != states.COMPLETE and row.replaces is not None:
        restored = _restore(runtime, row, snippet, properties)
        if restored is not None:
            return restored
    if row.status == states.INIT:
        # Created and never acted on (the process died before the create started): nothing
        # real exists for it, so it is created, not replaced.
        return _create(runtime, row, cls, properties, snippet, requires_ids)
    if row.action in (states.CREATE, None) and row.status != states.COMPLETE:
        return _replace(runtime, row, name, rtype, rdef, cls, properties, snippet,
                        requires_ids)
    if (row.status == states.COMPLETE and row.action != states.CHECK
            and row.template == snippet and row.properties_data == properties):
        if list(row.requires or []) != requires_ids:
            db.resource_update(runtime.database, row.id, {'requires': requires_ids})
        return row
    if (row.action == states.CHECK and row.status == states.FAILED
            and not _repairs_in_place(runtime, row, cls)):
        return _replace(runtime, row, name, rtype, rdef, cls, properties, snippet,
                        requires_ids)
    if row.type != _type_label(rtype):
        return _replace(runtime, row, name, rtype, rdef, cls, properties, snippet,
                        requires_ids)
    try:
        _plugin(runtime, row, cls, properties).validate()
    except res_exc.ResourceError as exc:
        _fail(runtime, row, states.UPDATE, exc)
    old = _plugin(runtime, row, cls, dict(row.properties_data or {}))
    if old.update_requires_replacement(properties):
        return _replace(runtime, row, name, rtype, rdef, cls, properties, snippet,
                        requires_ids)
    return _update(runtime, row, cls, old, properties, snippet, requires_ids)


def _repairs_in_place(runtime, row, cls):
    """Whether a CHECK_FAILED row is repaired by an update in place rather than replaced
    (the plugin says: a nested stack resource whose child stack still exists updates the
    child, which replaces the unhealthy resources inside it)."""
    return _plugin(runtime, row, cls, dict(row.properties_data or {})).repairs_in_place()


def _restore(runtime, row, snippet, properties):
    """After a failed replacement, bring back the resource it was replacing when that one
    already matches the target (the rollback case); None when it does not."""
    previous = db.resource_get(runtime.database, row.replaces)
    if (previous is None or previous.status != states.COMPLETE
            or previous.template != snippet or previous.properties_data != properties):
        return None
    _take_back(runtime, previous, row)
    # The swap and its event in one transaction: a re-run finds previous current (and
    # converged, so nothing more to record) or the replacement still current.
    restored = runtime.record_event(
        previous, previous.action, states.COMPLETE,
        'restored in place of resource %d' % row.id,
        write=lambda event: db.resource_restore(runtime.database, previous.id, row.id,
                                                event=event) or None)
    return previous if restored is not None else None


def _take_back(runtime, previous, row):
    """Before a replaced resource is current again, its plugin takes back what it let go of
    for its failed replacement (Heat's restore_prev_rsrc). A failure leaves the replacement
    current and failed: the next update or rollback tries again."""
    old = _row_plugin(runtime, previous)
    if old is None:
        return
    try:
        old.restore_prev_rsrc(_row_plugin(runtime, row))
    except Exception as exc:
        _fail(runtime, row, row.action or states.CREATE, exc)


def _let_go(runtime, row):
    """Before a replacement is created, the plugin of the resource it replaces lets go of
    what the replacement needs (Heat's prepare_for_replace). Runs before the replacement's
    row exists, so a re-run after a crash in between prepares again. On failure the plugin
    is asked to take back what a partial run let go of, and the replaced row fails (an
    update replaces it again; one back to its own definition updates it in place)."""
    old = _row_plugin(runtime, row)
    if old is None:
        return
    try:
        old.prepare_for_replace()
    except Exception as exc:
        try:
            old.restore_prev_rsrc(None)
        except Exception as undo:  # noqa: BLE001 - the first failure is the one reported
            LOG.warning('stack %s resource %s: taking back after a failed '
                        'prepare_for_replace failed too: %s', runtime.stack.name, row.name,
                        undo)
        action = states.UPDATE if row.status == states.COMPLETE else row.action
        _fail(runtime, row, action or states.CREATE, exc)


def _row_plugin(runtime, row):
    """A plugin on a stored row as it was stored (its own type, properties and physical
    id); None when its type is no longer known (a template resource whose file is gone)."""
    try:
        cls = plugin_class(*_type_of_row(row), files=runtime.files,
                           limits=_limits(runtime))
    except res_exc.ResourceTypeNotFound:
        return None
    return _plugin(runtime, row, cls, dict(row.properties_data or {}))


def _type_label(rtype):
    return rtype.template_file or rtype.type_name


def _snippet(runtime, name, rdef, rtype, known):
    """What is stored of a definition: enough to compare it later and to serve as a facade."""
    try:
        metadata = runtime.definition.resolve_metadata(name, known)
    except Exception:  # noqa: BLE001 - metadata is informational here
        metadata = None
    return {
        'type': _type_label(rtype),
        'raw': rdef.raw,
        'metadata': metadata,
        'deletion_policy': runtime.definition.resolve_field(name, 'deletion_policy', known),
        'update_policy': runtime.definition.resolve_field(name, 'update_policy', known),
    }


def _new_row(runtime, name, rtype):
    """A new row for *name*, in INIT: created, never acted on (a re-run that finds it so
    creates it; nothing real exists for it yet)."""
    return db.resource_create(runtime.database, **_new_row_values(runtime, name, rtype))


def _new_row_values(runtime, name, rtype):
    return dict(stack_id=runtime.stack_id, name=name, type=_type_label(rtype),
                action=states.CREATE, status=states.INIT, status_reason='',
                root_stack_id=runtime.stack.root_stack_id or runtime.stack_id)


def _plugin(runtime, row, cls, properties, fresh=False):
    """The plugin on a row; ``fresh``: the caller has just created the row, so it has no
    stored data yet."""
    policy = (row.template or {}).get('deletion_policy') or 'Delete'
    context = ctx_mod.StoredResourceContext(runtime, row, data={} if fresh else None)
    plugin = cls(row.name, properties, context, physical_id=row.physical_resource_id,
                 deletion_policy=policy)
    limits = _limits(runtime)
    if limits is not None:
        plugin.limits = limits
    return plugin


def _create(runtime, row, cls, properties, snippet, requires_ids, fresh=False):
    plugin = _plugin(runtime, row, cls, properties, fresh=fresh)
    # Store the properties first: a cleanup of a create that failed half-way needs them.
    _set_state(runtime, row, states.CREATE, states.IN_PROGRESS, 'state changed',
               {'properties_data': properties, 'requires': requires_ids})
    try:
        plugin.validate()
        cookie = plugin.handle_create()
        _wait(runtime, row, states.CREATE, plugin, plugin.check_create_complete, cookie)
        values = _completed_values(runtime, row, plugin, properties, snippet, requires_ids)
    except Exception as exc:
        _fail(runtime, row, states.CREATE, exc)
    _set_state(runtime, row, states.CREATE, states.COMPLETE, 'state changed', values)
    return row


def _update(runtime, row, cls, plugin, properties, snippet, requires_ids):
    _set_state(runtime, row, states.UPDATE, states.IN_PROGRESS, 'state changed')
    try:
        cookie = plugin.handle_update(properties, plugin.property_diff(properties))
        _wait(runtime, row, states.UPDATE, plugin, plugin.check_update_complete, cookie)
        # Attributes are read from the resource as it now is: a plugin built on the new
        # properties (everything else it knows is in its stored data).
        updated = _plugin(runtime, row, cls, properties)
        values = _completed_values(runtime, row, updated, properties, snippet, requires_ids)
    except Exception as exc:
        _fail(runtime, row, states.UPDATE, exc)
    _set_state(runtime, row, states.UPDATE, states.COMPLETE, 'state changed', values)
    return row


def _replace(runtime, row, name, rtype, rdef, cls, properties, snippet, requires_ids):
    _let_go(runtime, row)
    # The replacement's row (in INIT), the link and the replaced row's "replacing" event in
    # one transaction: a re-run finds the replacement current, with its event, or neither.
    created = []

    def write(event):
        new_row, stored = db.resource_create_replacement(
            runtime.database, row.id, event=event, **_new_row_values(runtime, name, rtype))
        created.append(new_row)
        return stored

    runtime.record_event(row, states.UPDATE, states.IN_PROGRESS,
                         'replacing with resource %d', write=write)
    return _create(runtime, created[0], cls, properties, snippet, requires_ids, fresh=True)


def _completed_values(runtime, row, plugin, properties, snippet, requires_ids):
    return {
        'physical_resource_id': plugin.physical_id,
        'reference_id': plugin.get_reference_id(),
        'attributes': _stored_attributes(runtime, row.name, plugin),
        'properties_data': properties,
        'template': snippet,
        'requires': requires_ids,
    }


def cleanup(runtime, name, row_id):
    """Delete a stored row's real resource when the row is no longer current; else nothing."""
    row = db.resource_get(runtime.database, row_id)
    if row is None or row.stack_id != runtime.stack_id or row.name != name:
        # Gone (an earlier traversal's cleanup deleted it; the id may even be reused).
        return None
    if row.replaced_by is None and name in runtime.target_names():
        return row
    if row.replaced_by is not None:
        successor = db.resource_get(runtime.database, row.replaced_by)
        if successor is not None and successor.status != states.COMPLETE:
            # The replacement did not finish (a rollback may restore this row): keep it.
            return row
    policy = (row.template or {}).get('deletion_policy') or 'Delete'
    _set_state(runtime, row, states.DELETE, states.IN_PROGRESS, 'state changed')
    try:
        cls = plugin_class(*_type_of_row(row), files=runtime.files,
                           limits=_limits(runtime))
        # The plugin honours the deletion policy (Retain leaves the real thing alone).
        plugin = _plugin(runtime, row, cls, dict(row.properties_data or {}))
        cookie = plugin.handle_delete()
        _wait(runtime, row, states.DELETE, plugin, plugin.check_delete_complete, cookie)
    except Exception as exc:
        _fail(runtime, row, states.DELETE, exc)
    reason = 'retained' if policy == 'Retain' else 'state changed'
    # The row's removal and its event in one transaction (were two: a process killed in
    # between left the row, and its re-run deleted and recorded it again).
    runtime.record_event(row, states.DELETE, states.COMPLETE, reason,
                         write=lambda event: db.resource_delete_with_event(
                             runtime.database, row.id, **event))
    return None


def _type_of_row(row):
    label = row.type
    if label and (label.endswith(('.yaml', '.yml', '.template')) or '/' in label):
        return label, label
    return label, None


def check(runtime, name):
    """Ask the plugin to observe the real resource; drift marks it CHECK_FAILED, not fatal."""
    row = db.resource_get_by_name(runtime.database, runtime.stack_id, name)
    if row is None:
        return None
    if (row.action == states.CHECK and row.status in (states.COMPLETE, states.FAILED)
            and db.event_exists(runtime.database, runtime.stack_id, name,
                                runtime.traversal_id, states.CHECK, row.status)):
        # This traversal checked it already (a re-run after its process died): once.
        return row
    cls = plugin_class(*_type_of_row(row), files=runtime.files, limits=_limits(runtime))
    plugin = _plugin(runtime, row, cls, dict(row.properties_data or {}))
    _set_state(runtime, row, states.CHECK, states.IN_PROGRESS, 'state changed')
    try:
        cookie = plugin.handle_check()
        if cookie is not None:      # a nested stack's check runs as an operation of its own
            _wait(runtime, row, states.CHECK, plugin, plugin.check_check_complete, cookie)
    except res_exc.ResourceCheckFailed as exc:
        _set_state(runtime, row, states.CHECK, states.FAILED, getattr(exc, 'reason', str(exc)))
        return row
    except Exception as exc:  # noqa: BLE001 - a broken check is a failed check
        _set_state(runtime, row, states.CHECK, states.FAILED, _message(exc))
        return row
    _set_state(runtime, row, states.CHECK, states.COMPLETE, 'state changed')
    return row


def mark_if_drifted(runtime, name):
    """Before a converging update: ask the plugin to check the real resource behind the
    current row of *name*; on drift (or a check that cannot run) mark the row CHECK_FAILED,
    which the update's converge then replaces. A healthy row is left as it is (no state
    change, no event). Returns the drift reason, or None."""
    row = db.resource_get_by_name(runtime.database, runtime.stack_id, name)
    if row is None or row.status != states.COMPLETE:
        return None     # missing or failed rows are created or replaced by converge anyway
    reason = drift(runtime, row, mark=True)
    if reason is not None:
        _set_state(runtime, row, states.CHECK, states.FAILED, reason)
    return reason


def drift(runtime, row, mark=False):
    """Ask the plugin to check the real resource behind a stored row; the drift reason (also
    when the check cannot run; not when the cloud does not answer), or None. Changes
    nothing, records nothing (the observer). A nested stack resource looks inside its child
    stack; with ``mark`` it marks the drifted resources in there CHECK_FAILED (for the
    converging update that follows)."""
    try:
        cls = plugin_class(*_type_of_row(row), files=runtime.files,
                           limits=_limits(runtime))
        _observe(_plugin(runtime, row, cls, dict(row.properties_data or {})), mark)
    except res_exc.ResourceCheckFailed as exc:
        return getattr(exc, 'reason', None) or str(exc)
    except res_exc.ServiceUnavailable as exc:
        # An outage is no answer about the resource: marking it drifted would have the
        # update replace a resource that is fine (a delete and a create for a cloud that
        # did not answer for a while).
        LOG.warning('stack %s resource %s: drift check skipped, the cloud does not '
                    'answer: %s', runtime.stack.name, row.name, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a broken check is a failed check
        return _message(exc)
    return None


def _observe(plugin, mark):
    """A plugin's drift check (handle_check unless the type has its own: a nested stack's
    does not start a check operation of the child stack)."""
    plugin.handle_drift_check(mark=mark)
