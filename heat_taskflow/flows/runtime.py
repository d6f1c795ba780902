"""What a resource action needs to run: one traversal's OperationRuntime.

StackEngine.traversal_runtime (engine/operations.py) builds every runtime. A legacy runner
hands its traversal's runtime to every task of its flows; a conductor rebuilds the runtime
of a traversal it has never seen from the database and keeps it in its own RuntimeCache,
so the jobs of a traversal it runs share one.
"""

import collections
import contextlib
import threading
import time

from heat_taskflow.common import states
from heat_taskflow.persistence import api as db
from heat_taskflow.template import limits as limits_mod
from heat_taskflow.template import redaction

# Seconds a legacy traversal trusts its last look at the stack row before starting an
# action (how late it may notice a cancel).
SUPERSEDED_MAX_AGE = 0.25
# How stale a resource action's look at whether its operation was stopped may be.
STOPPED_MAX_AGE = 1.0


class OperationRuntime:
    """One traversal of one stack: the target definition and the services its actions use."""

    def __init__(self, database, stack, action, traversal_id, definition, deadline,
                 engine_id, nested=None, on_event=None, progress_total=None, files=None,
                 limits=None, redact=None):
        self.database = database
        self.stack = stack
        self.stack_id = stack.id
        self.action = action
        self.traversal_id = traversal_id
        self.definition = definition          # None when converging to nothing (delete)
        # Template resources need their template files, also when deleting.
        self.files = definition.files if definition is not None else dict(files or {})
        # The budgets and the hidden values of the definition; when deleting, those of the
        # stored stack the caller passes (template.redaction.NONE when none are known).
        if definition is not None:
            self.limits = getattr(definition, 'limits', limits_mod.DEFAULT)
            self.redact = getattr(definition, 'redact', redaction.NONE)
        else:
            self.limits = limits if limits is not None else limits_mod.DEFAULT
            self.redact = redact if redact is not None else redaction.NONE
        self.deadline = deadline              # time.time() value, or None
        self.engine_id = engine_id
        self.nested = nested
        self.on_event = on_event
        self.progress_total = progress_total
        self._done = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._deps = definition.dependencies() if definition is not None else {}
        # Throttled looks at the stack row (_lately): {question: True once answered yes}
        # and {question: monotonic time of the last read}.
        self._seen = {}
        self._read = {}
        self._names = frozenset(self._deps)

    def target_names(self):
        """Names of the resources in the target definition (built once: every cleanup
        asks, so a set per call made an update or delete quadratic in N)."""
        return self._names

    def requires(self, name):
        """Names the resource requires in the target definition."""
        return self._deps.get(name, frozenset())

    def timed_out(self):
        """True once the operation's deadline has passed."""
        return self.deadline is not None and time.time() > self.deadline

    def superseded(self):
        """True when another traversal has replaced this one on the stack row."""
        stack = db.stack_get(self.database, self.stack_id)
        gone = stack is None or stack.current_traversal != self.traversal_id
        if gone:
            self._seen['superseded'] = True
        return gone

    def superseded_lately(self, max_age=SUPERSEDED_MAX_AGE):
        """superseded(), reading the stack row at most once per max_age seconds per
        traversal (a "yes" is final): for the legacy path's check before each action, which
        otherwise costs a statement per resource; a cancel is seen within max_age."""
        return self._lately('superseded', max_age, self.superseded)

    def stopped_lately(self, max_age=STOPPED_MAX_AGE):
        """True once the operation was stopped for good: another traversal replaced this
        one and the stack is no longer IN_PROGRESS (a cancel without rollback), or is
        being deleted (a delete after that cancel, which may come before this looks), or
        is gone. A redirect or a rollback (an update or rollback IN_PROGRESS under a new
        traversal) is not a stop: their actions in flight are awaited by the traversal
        that follows. Reads the stack row at most once per max_age seconds per
        traversal; a "yes" is final."""
        return self._lately('stopped', max_age, self._stopped)

    def _stopped(self):
        stack = db.stack_get(self.database, self.stack_id)
        if stack is None:
            return True
        return stack.current_traversal != self.traversal_id and (
            stack.status != states.IN_PROGRESS or stack.action == states.DELETE)

    def _lately(self, question, max_age, look):
        """look() (a read of the stack row) at most once per max_age seconds per
        traversal for a question; its last answer in between; a "yes" is final."""
        now = time.monotonic()
        with self._lock:
            last = self._read.get(question, float('-inf'))
            if self._seen.get(question) or now - last < max_age:
                return self._seen.get(question, False)
            self._read[question] = now
        if look():
            self._seen[question] = True
            return True
        return False

    def start_node(self):
        """Note that this thread starts a node (progress counts nodes that ended)."""
        self._local.ended = False

    def node_done(self):
        """A node finished; one that changed nothing shrinks the total instead."""
        if not getattr(self._local, 'ended', False):
            with self._lock:
                if self.progress_total:
                    self.progress_total -= 1

    def record_event(self, row_or_name, action, status, reason='', physical_id=None,
                     resource_type=None, resource_update=None, write=None):
        """Store an event of this traversal for a resource state change and tell the live
        listener.

        ``resource_update``: column values to set on the row in the same transaction.
        ``write``: a function of the event's column values that stores the event together
        with the state change it records, in one transaction, and returns the Event, or
        None when it stored nothing (then nothing is told either).
        """
        if isinstance(row_or_name, str):
            name = row_or_name
        else:
            name = row_or_name.name
            physical_id = physical_id or row_or_name.physical_resource_id
            resource_type = resource_type or row_or_name.type
        event_values = dict(stack_id=self.stack_id, resource_name=name,
                            physical_resource_id=physical_id, resource_type=resource_type,
                            resource_action=action, resource_status=status,
                            resource_status_reason=reason, traversal_id=self.traversal_id)
        if write is not None:
            event = write(event_values)
        elif resource_update is not None:
            event = db.resource_update_with_event(self.database, row_or_name.id,
                                                  resource_update, **event_values)
        else:
            event = db.event_create(self.database, **event_values)
        if event is not None:
            self._announce(event)
        return event

    def _announce(self, event):
        """Count a stored event of this traversal towards the progress and tell the live
        listener."""
        if event.resource_status in (states.COMPLETE, states.FAILED):
            with self._lock:
                self._done += 1
            self._local.ended = True
        if self.on_event is not None:
            self.on_event(event_view(event, self.stack, (self._done, self.progress_total)))


def event_view(event, stack, progress=None):
    """The API dict of a stored event of the stack (a Stack row): ``id`` is the event's
    uuid; resource_status is ACTION_STATUS; progress (done, total) when given."""
    view = {
        'id': event.uuid,
        'stack_id': event.stack_id,
        'stack_name': stack.name,
        'resource_name': event.resource_name,
        'logical_resource_id': event.resource_name,
        'physical_resource_id': event.physical_resource_id,
        'resource_type': event.resource_type,
        'resource_action': event.resource_action,
        'resource_status': '%s_%s' % (event.resource_action, event.resource_status),
        'resource_status_reason': event.resource_status_reason,
        'event_time': event.created_at.isoformat() if event.created_at else None,
        'root_stack_id': stack.root_stack_id or stack.id,
    }
    if progress is not None:
        view['progress'] = progress
    return view


class RuntimeCache:
    """Runtimes by (stack id, traversal id), loaded on first use by loader(stack id,
    traversal id) and kept so that every job of a traversal shares one."""

    # Runtimes kept at most, oldest dropped first: a conductor only discards the
    # traversals it finishes itself, and runs for weeks.
    MAX_LOADED = 256

    def __init__(self, loader):
        self._loader = loader
        self._runtimes = collections.OrderedDict()
        self._lock = threading.Lock()

    def discard(self, runtime):
        """Forget a finished traversal's runtime."""
        with self._lock:
            self._runtimes.pop((runtime.stack_id, runtime.traversal_id), None)

    def get(self, stack_id, traversal_id):
        """The runtime of a traversal, loading it when unknown."""
        key = (stack_id, traversal_id)
        with self._lock:
            runtime = self._runtimes.get(key)
        if runtime is not None:
            return runtime
        runtime = self._loader(stack_id, traversal_id)
        with self._lock:
            if key in self._runtimes:       # another thread loaded it meanwhile
                return self._runtimes[key]
            self._runtimes[key] = runtime
            while len(self._runtimes) > self.MAX_LOADED:
                self._runtimes.popitem(last=False)
        return runtime


_THREAD = threading.local()


@contextlib.contextmanager
def job_slot_releaser(release):
    """Within the block, waiting_for_child_stack() in this thread enters release(): the
    distributed conductor binds it around each job it runs (conductors/conductor.py)."""
    previous = getattr(_THREAD, 'release', None)
    _THREAD.release = release
    try:
        yield
    finally:
        _THREAD.release = previous


def waiting_for_child_stack():
    """A context for an action that only waits for a child stack's operation to end: on a
    conductor its job stops counting against the conductor's job slots meanwhile, so the
    child's jobs can be claimed (without it, parents waiting in every slot starve their
    children). Elsewhere it does nothing (the legacy path has a pool per nesting depth)."""
    release = getattr(_THREAD, 'release', None)
    return release() if release is not None else contextlib.nullcontext()
