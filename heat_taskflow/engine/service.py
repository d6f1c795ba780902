"""The stack service: what the command line calls. It posts work and reads state."""

import contextlib
import copy
import logging
import re
import threading
import time
import uuid

from heat_taskflow.common import polling, states
from heat_taskflow.common.text import shown
from heat_taskflow.engine import distributed, legacy
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import nested as nested_mod
from heat_taskflow.engine import operations as ops
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.flows import context as ctx_mod
from heat_taskflow.flows import runtime as rt
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as database_mod
from heat_taskflow.persistence import exceptions as db_exc
from heat_taskflow.resources import exceptions as res_exc
from heat_taskflow.resources import registry
from heat_taskflow.template import Environment

LOG = logging.getLogger(__name__)

_SHARED = {}
# What wait()'s poll answers for a stack that is gone (deleted while it waited).
_GONE = object()
_SHARED_LOCK = threading.Lock()


def _shared(conf):
    """The process's Database and thread pools for a database URL (built once)."""
    url = conf.database.connection
    # The key file and the switch are part of what makes the Database.
    url = (url, bool(getattr(conf, 'encrypt_parameters_and_properties', False)),
           getattr(conf, 'auth_encryption_key_file', None))
    with _SHARED_LOCK:
        entry = _SHARED.get(url)
        if entry is None:
            database = database_mod.Database.from_conf(conf)
            database.sync()
            entry = (database, legacy.ExecutorPool(conf.max_concurrent_resource_actions))
            _SHARED[url] = entry
        return entry


# Heat's rule for the name of a stack a user creates (heat/engine/service.py), and its
# length limit (the column's). Child stacks, named by the engine after their parent and
# resource, are not held to it: they are created below this service.
STACK_NAME_RE = re.compile(r'[a-zA-Z][a-zA-Z0-9_.-]*\Z')
MAX_STACK_NAME = 255


def validate_stack_name(name):
    """Refuse a stack name Heat would refuse, or one shaped like a stack id (a uuid: it
    would shadow, or be shadowed by, the stack whose id it is)."""
    if not isinstance(name, str) or not name:
        raise exc.InvalidInput('a stack name is required')
    if len(name) > MAX_STACK_NAME:
        raise exc.InvalidInput('stack name is %d characters long; the limit is %d'
                               % (len(name), MAX_STACK_NAME))
    if not STACK_NAME_RE.match(name):
        raise exc.InvalidInput(
            'invalid stack name %s: a name must start with a letter and contain only '
            'letters, digits, "_", "-" and "."' % _quoted(name))
    if _stack_id(name) is not None:
        raise exc.InvalidInput('invalid stack name "%s": a name must not have the form of '
                               'a stack id (a uuid)' % shown(name))


def _quoted(text):
    """Text for a message, with control characters and escapes shown, never emitted."""
    return ascii(text[:80] + ('...' if len(text) > 80 else ''))


def _stack_id(text):
    """The canonical id a text names when it has the form of a uuid, else None."""
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


def _time(value):
    return value.isoformat() if value is not None else None


class StackService:
    """Stack operations and read-only views, as dicts with Heat's field names."""

    def __init__(self, conf, database=None, executors=None, background=False):
        """background: top-level legacy operations run on the engine's background
        threads, so create/update/delete/check/cancel/resume return at once with the stack
        IN_PROGRESS (the API service); without it they return when they have ended."""
        self.conf = conf
        # The project this view acts in (scoped() makes views of other projects).
        self.project_id = conf.project_id
        self.admin = False
        self._root = None
        self._closed = False
        self.background = bool(background)
        if database is None:
            database, shared_pools = _shared(conf)
            executors = executors or shared_pools
        self.database = database
        executors = executors or legacy.ExecutorPool(conf.max_concurrent_resource_actions)
        self.distributed = distributed.DistributedRunner(conf, database,
                                                         before_post=self.before_post)
        self.legacy = legacy.LegacyRunner(
            database, executors, heartbeat_interval=conf.legacy_heartbeat_interval,
            background=(legacy.BackgroundPool(conf.max_background_operations)
                        if background else None))
        runners = {'legacy': self.legacy, 'distributed': self.distributed}
        self.engine = ops.StackEngine(conf, database, runners,
                                      nested_factory=nested_mod.NestedStackService)

    def before_post(self, stack_id):
        """Called before this service posts jobs for a stack to the job board (a hook:
        conductors/local.py starts an in-process conductor here)."""

    def scoped(self, project_id, admin=False):
        """A view of this service acting in one project: it shares the engine, database
        and runners (cheap: build one per request). Every lookup, list and create is
        limited to the project; an admin view also finds any project's stack by id.
        Another project's stack is StackNotFound, as a missing one."""
        view = copy.copy(self)
        view.project_id = str(project_id)
        view.admin = bool(admin)
        view._root = self._root or self
        return view

    def close(self, timeout=None):
        """Stop: a background service accepts no more operations (ServiceUnavailable) and
        waits up to timeout seconds ([DEFAULT] shutdown_timeout) for the legacy
        operations running in the background; then the job board is released. An
        operation still running then keeps running only until the process exits: its
        heartbeat stops, so "stack resume" (or resume_orphans at the next start)
        continues it. Returns the ids of those stacks. On a scoped view:
        closes the service it views."""
        if self._root is not None:
            return self._root.close(timeout)
        # A service without background work (the command line's, tests') may be used
        # again after close: its next post connects to the board again.
        self._closed = self.background
        left = self.legacy.shutdown(self.conf.shutdown_timeout if timeout is None
                                    else timeout)
        self.distributed.close()
        return left

    def _accepting(self):
        """Refuse an operation once the service is closing (before anything is stored)."""
        if (self._root or self)._closed:
            raise exc.ServiceUnavailable('the engine is shutting down; try again later')

    def _board_ready(self, convergence):
        """Before anything of a distributed operation is stored: the job board must be
        usable (connected now, and kept for the posts that follow)."""
        if not convergence:
            return
        try:
            self.distributed.board()
        except jobboards.JobBoardError as err:
            raise exc.JobBoardUnavailable(str(err)) from err

    def resume_orphans(self):
        """Resume every interrupted top-level legacy stack (IN_PROGRESS, whose holder is
        dead or whose heartbeat is stale; see engine/resume.py), of every project, on
        this service's runner (in the background on a background service). Returns the
        ids of the stacks resumed. What the API service calls once at its start."""
        resumed = []
        for stack in db.stack_list(self.database, None, convergence=False,
                                   status=states.IN_PROGRESS):
            try:
                self.engine.resume(stack)
            except (resume_mod.StillRunning, resume_mod.NothingToResume) as err:
                LOG.info('stack %s (%s) not resumed: %s', stack.name, stack.id, err)
                continue
            except Exception:  # noqa: BLE001 - one stack's failure does not stop the rest
                LOG.exception('stack %s (%s) could not be resumed', stack.name, stack.id)
                continue
            resumed.append(stack.id)
        if resumed:
            LOG.warning('resumed %d interrupted legacy stack(s): %s', len(resumed),
                        ', '.join(resumed))
        return resumed

    # -- lookups ----------------------------------------------------------------------

    def _stack(self, name, show_deleted=False):
        """The stack whose id is NAME (an admin view: of any project; deleted ones with
        show_deleted), else the stack of this project named NAME. StackNotFound else.

        The id comes first: a stack stored with a name of another stack's id (before
        names were checked) must not take that stack's place."""
        stack_id = _stack_id(name)
        if stack_id is not None:
            stack = db.stack_get(self.database, stack_id)
            if stack is not None and not (
                    (stack.deleted_at is not None and not show_deleted)
                    or (stack.project_id != self.project_id and not self.admin)):
                return stack
        stack = db.stack_get_by_name(self.database, name, self.project_id)
        if stack is None:
            raise exc.StackNotFound(name)
        return stack

    def _row(self, stack, resource_name):
        row = db.resource_get_by_name(self.database, stack.id, resource_name)
        if row is None:
            raise exc.ResourceNotFound(stack.name, resource_name)
        return row

    # -- operations -------------------------------------------------------------------

    def create_stack(self, name, template, template_filename, files=None, environments=None,
                     parameters=None, timeout_mins=None, disable_rollback=False,
                     on_event=None, auto_converge=False):
        """Create a stack; on the legacy path this returns when the operation has ended."""
        self._accepting()
        validate_stack_name(name)
        self._board_ready(self.conf.convergence_engine)
        source = ops.Source(template, template_filename, files, environments, parameters)
        stack = self.engine.create(name, source, timeout_mins=timeout_mins,
                                   disable_rollback=disable_rollback, on_event=on_event,
                                   auto_converge=auto_converge, project_id=self.project_id)
        return self.stack_view(stack)

    def update_stack(self, name, template=None, template_filename=None, files=None,
                     environments=None, parameters=None, existing=False, timeout_mins=None,
                     disable_rollback=None, converge=False, on_event=None,
                     auto_converge=None):
        """Update a stack to a new template, or (existing) patch its current one."""
        self._accepting()
        stack = self._stack(name)
        self._board_ready(stack.convergence)
        current = ops.Source.from_raw(db.raw_template_get(self.database,
                                                          stack.raw_template_id))
        if template is None and not existing:
            raise exc.InvalidInput('stack update needs a template, or --existing to reuse '
                                   'the current one')
        if existing:
            params = dict(current.parameters)
            params.update(parameters or {})
            source = ops.Source(
                template if template is not None else current.text,
                template_filename if template is not None else current.filename,
                dict(current.files, **(files or {})),
                current.environments + [tuple(e) for e in (environments or [])], params)
        else:
            source = ops.Source(template, template_filename, files, environments, parameters)
        stack = self.engine.update(stack, source, timeout_mins=timeout_mins,
                                   disable_rollback=disable_rollback, on_event=on_event,
                                   converge=converge, auto_converge=auto_converge)
        return self.stack_view(stack)

    def delete_stack(self, name, on_event=None):
        """Delete a stack and every resource in it."""
        self._accepting()
        stack = self._stack(name)
        self._board_ready(stack.convergence)
        stack = self.engine.delete(stack, on_event=on_event)
        return self.stack_view(stack)

    def check_stack(self, name, on_event=None):
        """Check every resource of a stack against reality."""
        self._accepting()
        return self.stack_view(self.engine.check(self._stack(name), on_event=on_event))

    def cancel_stack(self, name, rollback=True, on_event=None):
        """Cancel a stack's operation in progress: roll it back (a create or update), or
        without rollback stop it (the stack FAILED "... cancelled"); see
        StackEngine.cancel. Returns the stack as the cancel left it."""
        self._accepting()
        return self.stack_view(self.engine.cancel(self._stack(name), rollback=rollback,
                                                  on_event=on_event))

    def resume_stack(self, name, on_event=None):
        """Resume a stack's interrupted operation. Legacy: finishes it in this process and
        returns the final stack. Distributed: re-posts the jobs the board lacks and returns
        the stack (still IN_PROGRESS) with 'reposted': the node keys posted again."""
        self._accepting()
        stack, reposted = self.engine.resume(self._stack(name), on_event=on_event)
        view = self.stack_view(stack)
        if reposted is not None:
            view['reposted'] = list(reposted)
        return view

    def wait(self, name, on_event=None, poll=0.5, timeout=None):
        """Block until the stack is no longer IN_PROGRESS (None once it is gone); with a
        timeout (seconds), raise TimeoutError if it is still in progress then. on_event
        gets the resource events (not the stack's own: as on the legacy path, where
        on_event hears the resource actions only)."""
        try:
            stack = self._stack(name)
        except exc.StackNotFound:
            return None
        since = None

        def settled():
            # The stack row once it is no longer IN_PROGRESS, _GONE once it is gone.
            nonlocal since
            if on_event is not None:
                # Straight from the table: a stack being deleted is no longer found by name.
                for event in db.event_list(self.database, stack.id, since_id=since):
                    since = event.id
                    if not _own_event(event, stack):
                        on_event(rt.event_view(event, stack))
            row = db.stack_get(self.database, stack.id)
            if row is None:
                return _GONE
            return row if row.status != states.IN_PROGRESS else None

        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            row = polling.wait_until(settled, poll, deadline=deadline)
        except polling.TimedOut:
            row = db.stack_get(self.database, stack.id) or stack
            raise TimeoutError('stack %s is still %s_IN_PROGRESS after %.0f s'
                               % (row.name, row.action, timeout)) from None
        return None if row is _GONE else self.stack_view(row)

    def signal_resource(self, name, resource_name, data=None):
        """Store a signal for a resource (a wait condition handle reads it)."""
        stack = self._stack(name)
        row = self._row(stack, resource_name)
        if not _takes_signals(row.type):
            raise exc.InvalidInput('resource "%s" of stack "%s" is of type %s, which does not '
                                   'take signals' % (row.name, stack.name, row.type))
        key = '%s%020d-%s' % (ctx_mod.SIGNAL_PREFIX, time.time_ns(), uuid.uuid4().hex[:8])
        db.resource_data_set(self.database, row.id, key, dict(data or {}))

    def mark_resource_unhealthy(self, name, resource_name, reset=False, reason=''):
        """Mark a resource's current row CHECK_FAILED (the next converge replaces it), or
        with reset put a CHECK_FAILED one back to CHECK_COMPLETE; records an event.

        Refused while the stack has an operation in progress. Returns the resource view.
        """
        stack = self._stack(name)
        if stack.status == states.IN_PROGRESS:
            raise exc.ActionInProgress(stack.name, stack.action,
                                       hint='mark resources once it has finished')
        row = self._row(stack, resource_name)
        if reset:
            if (row.action, row.status) != (states.CHECK, states.FAILED):
                return self.resource_view(stack, row)    # not marked: nothing to undo
            status, reason = states.COMPLETE, reason or 'marked healthy by operator'
        else:
            status, reason = states.FAILED, reason or 'marked unhealthy by operator'
        values = dict(action=states.CHECK, status=status, status_reason=reason)
        if not db.resource_update(self.database, row.id, values,
                                  expected_atomic_key=row.atomic_key):
            raise exc.ActionInProgress(stack.name, stack.action,
                                       hint='resource "%s" changed meanwhile' % row.name)
        db.event_create(self.database, stack_id=stack.id, resource_name=row.name,
                        physical_resource_id=row.physical_resource_id, resource_type=row.type,
                        resource_action=states.CHECK, resource_status=status,
                        resource_status_reason=reason)
        return self.resource_view(stack, self._row(stack, resource_name))

    def validate_template(self, template, template_filename, files=None, environments=None,
                          parameters=None):
        """Validate a template without storing anything; describe its parameters."""
        source = ops.Source(template, template_filename, files, environments, parameters)
        defn = self.engine.definition(source, 'validate', str(uuid.uuid4()))
        return describe(defn)

    # -- views ------------------------------------------------------------------------

    def get_stack(self, name, outputs=True):
        """A stack with its outputs (without them, and without its template's description,
        when outputs is False: no read beyond the stack's row)."""
        return self.stack_view(self._stack(name), outputs=outputs)

    def list_stacks(self, filters=None, sort_keys=None, sort_dir=None, limit=None,
                    marker=None, show_deleted=False, show_nested=False, all_projects=False):
        """The project's stacks (live and top-level unless show_deleted / show_nested),
        selected, sorted and paged in SQL.

        ``filters``: Heat's {id, name, status, action, owner_id (parent), tenant: value
        or list of values}; a status is COMPLETE or CREATE_COMPLETE. ``sort_keys``: name,
        status, action, created_at, updated_at (or Heat's stack_name, stack_status,
        creation_time, updated_time), default created_at, in ``sort_dir`` asc (the
        default; Heat's API defaults to desc) or desc; ``marker``: a stack id, exclusive.
        ``all_projects``: every project's stacks (an admin view only).
        """
        project_id, filters, pairs = self._stack_selection(filters, all_projects)
        with _invalid_input():
            rows = db.stack_query(self.database, project_id, filters=filters,
                                  action_status=pairs, sort_keys=_list(sort_keys),
                                  descending=_descending(sort_dir), limit=_limit(limit),
                                  marker=marker, show_deleted=bool(show_deleted),
                                  show_nested=bool(show_nested))
        return [self.stack_view(s, outputs=False) for s in rows]

    def count_stacks(self, filters=None, show_deleted=False, show_nested=False,
                     all_projects=False):
        """How many stacks list_stacks would list without limit and marker."""
        project_id, filters, pairs = self._stack_selection(filters, all_projects)
        with _invalid_input():
            return db.stack_count(self.database, project_id, filters=filters,
                                  action_status=pairs, show_deleted=bool(show_deleted),
                                  show_nested=bool(show_nested))

    def _stack_selection(self, filters, all_projects):
        """(project id or None for all, column filters, (action, status) pairs)."""
        if all_projects and not self.admin:
            raise exc.InvalidInput('only an admin may list the stacks of every project')
        filters = dict(filters or {})
        pairs = _status_filter(filters, 'status', 'stack_status')
        return (None if all_projects else self.project_id), filters, pairs

    def list_outputs(self, name):
        """Output names and descriptions (stored values only)."""
        return [{'output_key': o.name, 'description': o.description}
                for o in db.output_list(self.database, self._stack(name).id)]

    def show_output(self, name, key):
        """One stored output value."""
        stack = self._stack(name)
        out = db.output_get(self.database, stack.id, key)
        if out is None:
            raise exc.OutputNotFound(stack.name, key)
        return _output_view(out)

    def list_resources(self, name, nested_depth=0, filters=None, with_detail=False):
        """Current resources of a stack (and of nested stacks, down to nested_depth),
        one query. ``filters``: Heat's {type, status, name, action, id,
        physical_resource_id: value or list}; a status is COMPLETE or CREATE_COMPLETE.
        ``with_detail``: each view adds description, metadata and attributes."""
        stack = self._stack(name)
        # One level more than listed: those name the nested stacks of listed resources.
        family = db.stack_descendants(self.database, stack.id, nested_depth + 1)
        top = stack.nested_depth or 0
        stacks = {stack.id: stack}
        stacks.update((s.id, s) for s in family if (s.nested_depth or 0) - top <= nested_depth)
        nested = {(s.owner_id, s.parent_resource_name): s for s in family
                  if s.deleted_at is None}
        filters = dict(filters or {})
        pairs = _status_filter(filters, 'status')
        with _invalid_input():
            rows = db.resource_query(self.database, list(stacks), filters=filters,
                                     action_status=pairs)
        required_by = {}
        for r in rows:
            if r.stack_id not in required_by:
                required_by[r.stack_id] = self._required_by(stacks[r.stack_id])
        return [self.resource_view(stacks[r.stack_id], r, full=with_detail,
                                   nested_stack=nested.get((r.stack_id, r.name)),
                                   required_by=required_by[r.stack_id].get(r.name, []))
                for r in rows]

    def _required_by(self, stack):
        """{resource name: sorted names of the resources that require it} in the stack's
        current template (Heat's required_by), from the engine's cached definition."""
        try:
            deps = self.engine.stack_definition(stack, stack.raw_template_id).dependencies()
        except Exception as err:  # noqa: BLE001 - a view must not fail on a stored template
            LOG.warning('stack %s: dependencies unavailable for required_by: %s',
                        stack.id, err)
            return {}
        out = {}
        for name, requires in deps.items():
            for required in requires:
                out.setdefault(required, []).append(name)
        return {name: sorted(names) for name, names in out.items()}

    def list_failures(self, name):
        """Failed resources of a stack and its nested stacks, from stored state only.

        Each has ``resource_path``: resource names from the top stack down, dotted
        (``group.0.member``). A failed nested-stack resource whose nested stack has failed
        resources of its own is left out: those are the causes and are listed instead.
        """
        return self._failures(self._stack(name), ())

    def _failures(self, stack, prefix):
        children = {c.parent_resource_name: c for c in
                    db.stack_list(self.database, None, owner_id=stack.id)}
        out = []
        for row in db.resource_list(self.database, stack.id, current_only=True):
            path = prefix + (row.name,)
            child = children.pop(row.name, None)
            below = self._failures(child, path) if child is not None else []
            if row.status == states.FAILED and not below:
                view = self.resource_view(stack, row)
                view['resource_path'] = '.'.join(path)
                out.append(view)
            out.extend(below)
        for child in children.values():     # a nested stack whose resource row is gone
            out.extend(self._failures(child, prefix + (child.parent_resource_name or
                                                        child.name,)))
        return out

    def show_resource(self, name, resource_name):
        """One resource with its stored attributes, description and metadata."""
        stack = self._stack(name)
        row = self._row(stack, resource_name)
        child = [c for c in db.stack_list(self.database, None, owner_id=stack.id)
                 if c.parent_resource_name == row.name]
        return self.resource_view(stack, row, full=True,
                                  nested_stack=child[0] if child else None)

    def resource_metadata(self, name, resource_name):
        """A resource's metadata as last converged (its template metadata, resolved);
        {} when it has none."""
        stack = self._stack(name)
        return _metadata(self._row(stack, resource_name))

    def get_environment(self, name):
        """The stack's environment as Heat shows it: its environment files merged in
        order, with the parameters given on the command line or request on top
        (parameters, parameter_defaults, resource_registry, event_sinks,
        encrypted_param_names); hidden parameters masked."""
        stack = self._stack(name)
        raw = db.raw_template_get(self.database, stack.raw_template_id)
        source = ops.Source.from_raw(raw)
        env = Environment.load(source.environments).as_dict()
        env['parameters'].update(source.parameters)
        # What the engine stored encrypted ([DEFAULT] encrypt_parameters_and_properties).
        env['encrypted_param_names'] = list(
            (raw.environment or {}).get('encrypted_param_names') or [])
        hidden = {n for n, schema in self.engine.stack_definition(
            stack, stack.raw_template_id).template.parameter_schemas.items()
            if schema.hidden}
        for section in ('parameters', 'parameter_defaults'):
            for key in set(env[section]) & hidden:
                env[section][key] = MASK
        return env

    def get_files(self, name):
        """The stack's files map (what get_file and template resources read)."""
        raw = db.raw_template_get(self.database, self._stack(name).raw_template_id)
        return dict(raw.files or {})

    def list_events(self, name, resource_name=None, marker=None, limit=None, sort_dir='asc',
                    sort_keys=None, filters=None, nested_depth=0):
        """Events of a stack (a deleted one's too, by id), and of its nested stacks down to
        nested_depth, selected, sorted and paged in SQL.

        ``marker``: an event id (uuid), exclusive; ``sort_keys``: event_time (default),
        resource_name, resource_type, resource_action, resource_status, all in
        ``sort_dir`` (asc, desc), the event's order breaking ties; ``filters``:
        {resource_status, resource_action, resource_name, resource_type,
        physical_resource_id: value or list}; a resource_status may be a status
        (COMPLETE) or ACTION_STATUS (CREATE_COMPLETE).
        """
        stack = self._stack(name, show_deleted=True)
        stacks = {stack.id: stack}
        stacks.update((s.id, s) for s in db.stack_descendants(self.database, stack.id,
                                                              nested_depth))
        filters = dict(filters or {})
        if resource_name is not None:
            filters['resource_name'] = resource_name
        pairs = _status_filter(filters, 'resource_status')
        with _invalid_input():
            events = db.event_query(self.database, list(stacks), filters=filters,
                                    action_status=pairs, marker=marker,
                                    limit=_limit(limit), sort_keys=_list(sort_keys),
                                    descending=_descending(sort_dir))
        return [rt.event_view(e, stacks[e.stack_id]) for e in events]

    def show_event(self, name, resource_name, event_id):
        """One event of a stack's resource (resource_name: the stack's name for its own
        events), by the event's id; EventNotFound otherwise."""
        stack = self._stack(name, show_deleted=True)
        event = db.event_get(self.database, [stack.id], event_id)
        if event is None or (resource_name is not None
                             and event.resource_name != resource_name):
            raise exc.EventNotFound(stack.name, event_id)
        return rt.event_view(event, stack)

    def get_template(self, name):
        """The template the stack currently converges to, as a dict.

        Read from the engine's definition of the stored template (parsed as every template
        is: scalars such as heat_template_version stay the text written, not dates), so
        every output format can render it.
        """
        stack = self._stack(name)
        defn = self.engine.stack_definition(stack, stack.raw_template_id)
        return copy.deepcopy(defn.template.raw)     # the engine's definition stays as it is

    def stack_view(self, stack, outputs=True):
        """The API dict of a stack row."""
        view = {
            'id': stack.id,
            'stack_name': stack.name,
            'project': stack.project_id,
            'description': None,            # filled in below for a full view
            'stack_status': '%s_%s' % (stack.action, stack.status),
            'stack_status_reason': stack.status_reason,
            'action': stack.action,
            'status': stack.status,
            'creation_time': _time(stack.created_at),
            'updated_time': _time(stack.updated_at),
            'deletion_time': _time(stack.deleted_at),
            'parameters': dict(stack.parameters or {}),  # stored masked
            'timeout_mins': stack.timeout,
            'disable_rollback': stack.disable_rollback,
            'auto_converge': bool(stack.auto_converge),
            'parent': stack.owner_id,
            'path': 'distributed' if stack.convergence else 'legacy',
            'current_traversal': stack.current_traversal,
        }
        if outputs:
            view['outputs'] = [_output_view(o) for o in db.output_list(self.database, stack.id)]
            raw = db.raw_template_get(self.database, stack.raw_template_id)
            if raw is not None:
                view['description'] = (raw.template or {}).get('description')
        return view

    def resource_view(self, stack, row, full=False, nested_stack=None, required_by=None):
        """The API dict of a resource row (full: with its attributes, description and
        metadata). ``nested_stack``: the live stack row the resource owns, if any (its id
        and name are shown). ``required_by``: the names that require it (looked up when
        None)."""
        if required_by is None:
            required_by = self._required_by(stack).get(row.name, [])
        view = {
            'resource_name': row.name,
            'logical_resource_id': row.name,
            'physical_resource_id': row.physical_resource_id,
            'resource_type': row.type,
            'resource_status': '%s_%s' % (row.action, row.status),
            'resource_status_reason': row.status_reason,
            'creation_time': _time(row.created_at),
            'updated_time': _time(row.updated_at),
            'required_by': list(required_by),
            'stack_name': stack.name,
            'stack_id': stack.id,
        }
        if stack.parent_resource_name:
            view['parent_resource'] = stack.parent_resource_name
        if nested_stack is not None:
            view['nested_stack_id'] = nested_stack.id
            view['nested_stack_name'] = nested_stack.name
        if full:
            view['attributes'] = dict(row.attributes or {})
            view['description'] = ((row.template or {}).get('raw') or {}).get(
                'description') or ''
            view['metadata'] = _metadata(row)
        return view


def _metadata(row):
    """The metadata stored with a resource row's converged definition ({} if none)."""
    return dict((row.template or {}).get('metadata') or {})


@contextlib.contextmanager
def _invalid_input():
    """Persistence's refusal of a filter or sort key, as the engine's InvalidInput."""
    try:
        yield
    except db_exc.InvalidValues as err:
        raise exc.InvalidInput(str(err)) from err


def _values(value):
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _list(value):
    if value is None:
        return None
    return [v for v in _values(value) if v]


def _status_filter(filters, *keys):
    """Take the status filters (keys) out of filters: [(action or None, status)] of their
    values, each a status (COMPLETE) or ACTION_STATUS (CREATE_COMPLETE); None if none."""
    pairs = []
    for key in keys:
        for value in _values(filters.pop(key, [])):
            action, sep, status = str(value).partition('_')
            pairs.append((action, status) if sep and action in states.ACTIONS
                         else (None, str(value)))
    return pairs or None


def _descending(sort_dir):
    direction = (sort_dir or 'asc').lower()
    if direction not in ('asc', 'desc'):
        raise exc.InvalidInput('sort_dir must be asc or desc, not "%s"' % shown(sort_dir))
    return direction == 'desc'


def _limit(limit):
    if limit is None:
        return None
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise exc.InvalidInput('limit must be a number, not "%s"' % shown(limit)) from None
    if value < 0:
        raise exc.InvalidInput('limit must not be negative')
    return value


def _own_event(event, stack):
    """Whether an event is the stack's own (a state change of the stack, which the
    command line's live display leaves to its final status line)."""
    return event.physical_resource_id == stack.id and \
        event.resource_type == db.STACK_EVENT_TYPE


def _takes_signals(type_name):
    """Whether resources of a stored type take signals (their plugin says takes_signals;
    a template resource never does)."""
    try:
        cls = registry.get_class(type_name)
    except res_exc.ResourceTypeNotFound:
        return False
    return cls.takes_signals


def describe(defn):
    """What `template validate` shows: description, parameters (hidden defaults masked)
    and parameter groups, with Heat's field names."""
    tpl = defn.template
    declared = (tpl.raw or {}).get('parameters') or {}
    params = {}
    for name, schema in tpl.parameter_schemas.items():
        entry = {
            'Type': _HEAT_TYPES.get(schema.type, schema.type),
            'Description': schema.description or '',
            'Label': schema.label or name,
            'NoEcho': 'true' if schema.hidden else 'false',
        }
        if schema.default is not None:
            entry['Default'] = MASK if schema.hidden else schema.default
        constraints = (declared.get(name) or {}).get('constraints')
        if constraints:
            entry['Constraints'] = constraints
        if schema.immutable:
            entry['Immutable'] = True
        params[name] = entry
    return {'Description': tpl.description or '', 'Parameters': params,
            'ParameterGroups': list(tpl.parameter_groups or [])}


MASK = '******'
_HEAT_TYPES = {'string': 'String', 'number': 'Number', 'json': 'Json',
               'comma_delimited_list': 'CommaDelimitedList', 'boolean': 'Boolean'}


def _output_view(out):
    return {'output_key': out.name, 'output_value': out.value,
            'description': out.description, 'output_error': out.error}
