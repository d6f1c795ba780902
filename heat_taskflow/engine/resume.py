"""Resuming an interrupted operation (``heat-taskflow stack resume``), and the heartbeat that
tells an interrupted legacy operation from a running one.

Legacy liveness. While a legacy traversal runs, the stack row names the process running it
(``engine_id``, the StackEngine's id: host:pid:start:random) and ``heartbeat_at`` is
refreshed every ``[DEFAULT] legacy_heartbeat_interval`` seconds by one daemon thread per
LegacyRunner (so one per process), which beats for every stack that process runs at once:
a root stack and each nested stack its resources run get a beat of their own, as each is a
traversal of its own.
When the traversal ends ``engine_id`` is cleared. A legacy stack IN_PROGRESS whose last sign
of life (the latest of heartbeat_at and updated_at, else created_at) is older than
STALE_INTERVALS intervals is interrupted: its process died (or hangs). One whose holder is
a process of this host that is gone (its pid runs nothing, or a process started at another
time: the pid was reused) is interrupted at once (``holder_dead``).

Legacy resume runs in the calling process. It takes the stack over with a compare-and-swap
on ``engine_id`` (two resumers cannot both win), rebuilds the traversal's runtime from the
target recorded in the traversal's logbook (action, raw template) and runs the traversal
again from that logbook, which holds one flow detail per part of the graph, all saved before
any part ran: TaskFlow skips every task a flow detail records as done, re-runs those left
RUNNING (the resource actions are safe to run twice and adopt what the dead process
created), and runs the parts not started yet. Then the stack ends as
the dead process would have ended it (outputs and COMPLETE, or FAILED and rollback).

Distributed resume posts again every pending node of the current traversal that has no job
on the board (a lost post, or a job board that lost its data); conductors do the rest.

``resume`` hands the stack to its path's Runner (engine/runner.py), whose ``resume`` calls
``resume_legacy`` or ``resume_distributed`` here; the traversal then ends through
StackEngine's lifecycle (``run_traversal``, ``complete``, ``fail``) as any traversal does.
"""

import contextlib
import logging
import os
import socket
import threading

from heat_taskflow.common import states
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.flows import sync_points
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence.models import utcnow

LOG = logging.getLogger(__name__)

# A legacy stack is interrupted once its last heartbeat is older than this many intervals.
STALE_INTERVALS = 3
DEFAULT_INTERVAL = 5.0
# Seconds after its claim before a distributed traversal with no sync points is taken as
# never started (its poster died): the poster may still be compiling the graph or, for
# update --converge, checking every resource.
NEVER_STARTED_GRACE = 60.0


class NothingToResume(exc.InvalidInput):
    """The stack has no operation in progress."""

    def __init__(self, stack):
        super().__init__('stack "%s" is %s_%s: nothing to resume (only an interrupted '
                         'operation, IN_PROGRESS, can be resumed)'
                         % (stack.name, stack.action, stack.status))
        self.name = stack.name


class StillRunning(exc.InvalidInput):
    """The legacy process running the stack's operation is alive."""

    def __init__(self, stack, detail):
        super().__init__('stack "%s" is not interrupted: %s; wait for it to finish, or run '
                         '"heat-taskflow stack cancel %s"' % (stack.name, detail, stack.name))
        self.name = stack.name


# -- heartbeat --------------------------------------------------------------------------

class Heartbeat:
    """Records which process runs which legacy stacks, and refreshes their heartbeat."""

    def __init__(self, database, interval=None):
        self._database = database
        self.interval = float(interval or DEFAULT_INTERVAL)
        self._active = {}             # stack id -> [engine id, count]
        self._lock = threading.Lock()
        self._thread = None
        self._wake = None
        self._stopped = False

    @contextlib.contextmanager
    def beat(self, stack_id, engine_id):
        """Mark the stack as run by engine_id for the duration of the block."""
        self.hold(stack_id, engine_id)
        try:
            yield
        finally:
            self.release(stack_id, engine_id)

    def hold(self, stack_id, engine_id):
        """Mark the stack as run by engine_id, and beat for it, until release() (holds
        count: a stack held twice is released twice)."""
        engine_id = holder(engine_id, self.interval)
        db.stack_set_holder(self._database, stack_id,
                            {'engine_id': engine_id, 'heartbeat_at': utcnow()})
        with self._lock:
            entry = self._active.setdefault(stack_id, [engine_id, 0])
            entry[0] = engine_id
            entry[1] += 1
            if self._thread is None and not self._stopped:
                self._wake = threading.Event()
                self._thread = threading.Thread(target=self._loop, args=(self._wake,),
                                                daemon=True, name='heat-taskflow-heartbeat')
                self._thread.start()

    def release(self, stack_id, engine_id):
        """Undo one hold(); the last one clears the stack's engine_id (if still ours)."""
        engine_id = holder(engine_id, self.interval)
        with self._lock:
            entry = self._active.get(stack_id)
            last = entry is None or entry[1] <= 1
            if entry is not None:
                entry[1] -= 1
                if last:
                    del self._active[stack_id]
            if not self._active and self._thread is not None:
                self._thread = None
                self._wake.set()
        if last:
            db.stack_set_holder(self._database, stack_id, {'engine_id': None},
                                expected_engine_id=engine_id)

    def stop(self):
        """Stop beating for good (the process is shutting down): the stacks still held
        look interrupted once their heartbeat is stale, so a resume continues them.
        Returns the ids of those stacks."""
        with self._lock:
            self._stopped = True
            held = sorted(self._active)
            self._active = {}
            if self._thread is not None:
                self._thread = None
                self._wake.set()
        return held

    def _loop(self, wake):
        while not wake.wait(self.interval):
            with self._lock:
                active = {sid: entry[0] for sid, entry in self._active.items()}
            try:
                db.stack_refresh_heartbeats(self._database, active)
            except Exception as err:  # noqa: BLE001 - a missed beat is not fatal
                LOG.warning('heartbeat not recorded: %s', err)


def holder(engine_id, interval):
    """What stack.engine_id holds: the engine id and its heartbeat interval, so that a
    resumer configured with a shorter interval does not take a live stack over."""
    return '%s every %gs' % (engine_id, interval)


def parse_holder(value):
    """(engine id, heartbeat interval or None) of a stack.engine_id value."""
    if not value:
        return None, None
    engine_id, sep, rest = value.rpartition(' every ')
    if sep and rest.endswith('s'):
        try:
            return engine_id, float(rest[:-1])
        except ValueError:
            pass
    return value, None


def holder_dead(engine_id):
    """True when an engine id (``host:pid:start:random``, or the older ``host:pid:random``)
    names a process of this host that is gone: its pid runs no process (or a zombie), or
    runs one started at another time (the pid was reused). False when it may live, and
    for another host's process (only its heartbeat tells)."""
    parts = str(engine_id or '').rsplit(':', 3)
    if len(parts) == 4:
        host, pid, start, _ = parts
    elif len(parts) == 3:
        (host, pid, _), start = parts, '-'
    else:
        return False
    if host != socket.gethostname():
        return False
    try:
        pid = int(pid)
    except ValueError:
        return False
    state = _process_state(pid)
    if state is None:
        return False                    # nothing to tell by: the heartbeat decides
    if state in ('gone', 'Z', 'X'):
        return True
    now = process_start_time(pid)
    return start != '-' and now is not None and str(now) != start


def process_start_time(pid):
    """A process's start time in clock ticks after boot (/proc/PID/stat field 22), None
    where /proc does not say (not Linux, or no such process)."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return None
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _stat_fields(pid):
    """The fields of /proc/PID/stat from the third (state) on; raises OSError."""
    with open('/proc/%d/stat' % pid, 'rb') as stat:
        text = stat.read().decode('ascii', 'replace')
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    return text[text.rfind(')') + 2:].split()


def _process_state(pid):
    """'gone', the /proc state letter of a live process ('R', 'S', 'Z' ...), 'alive'
    where /proc is missing but the pid runs, or None where nothing tells."""
    try:
        return _stat_fields(pid)[0]
    except FileNotFoundError:
        if os.path.isdir('/proc/self'):
            return 'gone'               # Linux: no such process
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return 'gone'
    except PermissionError:
        return 'alive'                  # another user's process
    except OSError:
        return None
    return 'alive'


def last_seen(stack):
    """The latest sign of life of a stack's legacy operation (naive UTC datetime)."""
    times = [t for t in (stack.heartbeat_at, stack.updated_at) if t]
    return max(times) if times else stack.created_at


def legacy_liveness(stack, interval, now=None):
    """(interrupted, age in seconds of the last sign of life) of a legacy stack IN_PROGRESS;
    interval is this process's, or the holder's when that is longer. A holder of this
    host whose process is gone is dead at once (holder_dead), whatever its heartbeat."""
    holder_id, holder_interval = parse_holder(stack.engine_id)
    interval = max(interval, holder_interval or 0)
    seen = last_seen(stack)
    if seen is None:
        return True, None
    age = ((now or utcnow()) - seen).total_seconds()
    if holder_id and holder_dead(holder_id):
        return True, age
    return age > STALE_INTERVALS * interval, age


def take_over(database, stack, engine_id, interval=DEFAULT_INTERVAL):
    """Make engine_id the runner of the stack's current traversal, unless someone changed
    the stack (another resumer, a new operation) since it was read; returns whether it did."""
    return db.stack_take_over(database, stack.id, stack.current_traversal, stack.engine_id,
                              holder(engine_id, interval))


# -- resume -----------------------------------------------------------------------------

def resume(engine, stack, on_event=None):
    """Resume a stack's interrupted operation; returns (stack row, reposted node keys or
    None on the legacy path)."""
    if stack.status != states.IN_PROGRESS:
        raise NothingToResume(stack)
    return engine.runner(stack).resume(engine, stack, on_event)


def resume_distributed(engine, runner, stack, on_event=None):
    """Post again the pending nodes of a distributed stack's traversal that have no job on
    the board (or start a traversal that never started); returns (row, node keys)."""
    if sync_points.stack(engine.database, stack.id, stack.current_traversal) is None:
        return _start_again(engine, runner, stack, on_event)
    keys = runner.repost_missing(stack.id, stack.current_traversal)
    LOG.info('stack %s: resume re-posted %d node(s) of traversal %s', stack.name,
             len(keys), stack.current_traversal)
    return db.stack_get(engine.database, stack.id), keys


def _start_again(engine, runner, stack, on_event):
    """A distributed traversal whose poster died after claiming the stack and before it
    stored the sync points: nothing of it ran, so start it (same traversal id)."""
    claimed = stack.updated_at or stack.created_at
    age = (utcnow() - claimed).total_seconds() if claimed is not None else None
    if age is not None and age < NEVER_STARTED_GRACE:
        raise StillRunning(stack, 'its %s was claimed %.1f s ago and has not posted its jobs '
                           'yet (taken as never started after %.0f s)'
                           % (stack.action, age, NEVER_STARTED_GRACE))
    LOG.warning('stack %s (%s): %s traversal %s never started; starting it', stack.name,
                stack.id, stack.action, stack.current_traversal)
    defn = None
    try:
        template_id = _template_id(stack, None)
        if template_id is not None:
            defn = engine.stack_definition(stack, template_id)
    except Exception as err:  # noqa: BLE001 - the stack must not stay IN_PROGRESS
        return _failed(engine, stack, err, on_event), []
    row = engine.run(stack, stack.action, defn, on_event)
    return row, sorted(runner.jobs_on_board(stack.current_traversal))


def resume_legacy(engine, runner, stack, on_event=None):
    """Take an interrupted legacy stack over and finish its traversal in this process;
    returns the final row."""
    interval = runner.heartbeat_interval or DEFAULT_INTERVAL
    interrupted, age = legacy_liveness(stack, interval)
    holder_id, holder_interval = parse_holder(stack.engine_id)
    interval = max(interval, holder_interval or 0)
    if not interrupted:
        if holder_id:
            detail = ('its %s is run by engine %s, whose last heartbeat was %.1f s ago '
                      '(interrupted after %.0f s without one)'
                      % (stack.action, holder_id, age, STALE_INTERVALS * interval))
        else:
            detail = ('its %s changed %.1f s ago and may still be running (interrupted '
                      'after %.0f s without a heartbeat)'
                      % (stack.action, age, STALE_INTERVALS * interval))
        raise StillRunning(stack, detail)
    if not take_over(engine.database, stack, engine.engine_id, interval):
        raise StillRunning(stack, 'another process took it over or changed it just now')
    LOG.warning('stack %s (%s): resuming %s traversal %s (previous engine %s, last sign of '
                'life %s s ago)', stack.name, stack.id, stack.action, stack.current_traversal,
                holder_id, 'unknown' if age is None else '%.1f' % age)
    stack = db.stack_get(engine.database, stack.id)
    target = runner.recorded_target(stack.current_traversal)
    action = stack.action
    defn = None
    try:
        template_id = _template_id(stack, target)
        if template_id is not None:
            defn = engine.stack_definition(stack, template_id)
        total = target.get('nodes') if target else None
        runtime = engine.traversal_runtime(stack, action, defn, engine.deadline(stack, action),
                                           on_event=on_event, progress_total=total)
    except Exception as err:  # noqa: BLE001 - the stack must not stay IN_PROGRESS
        return _failed(engine, stack, err, on_event)
    return engine.launch(
        runtime, lambda: runner.run_again(runtime,
                                          lambda: engine.compile_graph(stack, action, defn)))


def _failed(engine, stack, err, on_event):
    """Fail the stack's current traversal as any failed traversal ends."""
    row = engine.fail(stack.id, stack.current_traversal, stack.action, err, on_event)
    return row if row is not None else db.stack_get(engine.database, stack.id)


def _template_id(stack, target):
    """The raw template the traversal converges to (None: to nothing)."""
    if target is not None and 'template_id' in target:
        return target['template_id']
    if stack.action == states.DELETE:
        return None
    if stack.action == states.ROLLBACK:
        # Only an update's rollback has a template to go back to (the claim made it the
        # stack's template); a create's rollback converges to nothing.
        return stack.raw_template_id if stack.rollback_action == states.UPDATE else None
    return stack.raw_template_id
