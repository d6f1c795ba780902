"""A conductor: claims the distributed path's node jobs from the job board and runs them.

One TaskFlow non-blocking conductor per Conductor runs up to ``[conductor] jobs`` jobs at
once, each in its own thread with TaskFlow's serial engine (a node flow is two tasks).
Before a job runs, its attempt is counted on the node's sync point; a job claimed more than
``[conductor] max_attempts`` times without finishing is moved to the board's trash and its
stack fails with the reason, instead of cycling forever. ``stop()`` lets running actions
end, then gives the claims back (abandon) so another conductor takes them at once.

A job board failure is never a job's failure (docs/chaos.md, rule 1). The conductor's runner
posts through the conductor's own Board (one ZooKeeper session per process). A job that
ended on a board failure (node_flow.BoardRetry) is handed back with its attempt given back.
The conductor claims nothing while its client is not connected, nor for a back-off after a
board failure (``[conductor] board_backoff``, doubling); a job it handed back it leaves to
others for a back-off of its own (``[conductor] retry_backoff``, doubling per hand-back).

A job's flow (flows/node_flow.py) is rebuilt from its stored factory and plain arguments;
the conductor hands it its services (this conductor's NodeDriver: the traversal's runtime,
posting, the end of a traversal) by injecting them into the engine it builds for the job,
transiently, so nothing of them is persisted.

Beside the jobs, a conductor runs a watchdog thread (every ``[conductor] watchdog_interval``
seconds): a distributed stack IN_PROGRESS past its traversal's deadline has its traversal
failed, by the first conductor to claim that failure on the stack's sync point, even while
a resource action of it hangs; then the lost-post sweep (conductors/sweeper.py) posts
again the jobs a traversal should have and the board does not hold. With ``[observer]
interval`` set it also runs the continuous observer (conductors/observer.py).
"""

import collections
import concurrent.futures
import contextlib
import datetime
import json
import logging
import os
import socket
import tempfile
import threading
import time
import uuid

from taskflow import exceptions as tf_exc
from taskflow import states as tf_states
from taskflow.conductors.backends import impl_nonblocking

from heat_taskflow.common import states
from heat_taskflow.conductors import observer as observer_mod
from heat_taskflow.conductors import sweeper as sweeper_mod
from heat_taskflow.engine import distributed, watchdog
from heat_taskflow.engine import nested as nested_mod
from heat_taskflow.engine import operations as ops
from heat_taskflow.flows import node_flow, sync_points
from heat_taskflow.flows import runtime as rt
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.jobs import base as jobs
from heat_taskflow.persistence import api as db

LOG = logging.getLogger(__name__)


# Threads for jobs beyond [conductor] jobs: those whose action waits for a child stack's
# jobs (a group of N member stacks has N + 1 of them waiting at once).
MAX_WAITING_JOBS = 2048


# Back-offs double up to this many times their first delay.
BACKOFF_LIMIT = 10


class JobExhausted(Exception):
    """A job used up its attempts (TaskFlow's conductor trashes a job whose dispatch
    raises)."""


#: How a job's run ended: whether to consume it, and the board failure (a TaskFlow Failure
#: of node_flow.BoardRetry) that ended it, or None.
JobRun = collections.namedtuple('JobRun', 'consume board_failure')


class Backoff:
    """A doubling delay: each ``failed()`` makes ``ready()`` False for base seconds, then
    2x, 4x ... up to BACKOFF_LIMIT x base; a quiet period (that longest delay, without a
    failure, after the last delay ended) starts again from base. A base of 0 never waits.
    Thread-safe; the clock is injectable (tests advance it by hand)."""

    def __init__(self, base, clock=time.monotonic):
        self.base = float(base)
        self.longest = self.base * BACKOFF_LIMIT
        self._clock = clock
        self._delay = 0.0
        self._until = None
        self._lock = threading.Lock()

    def failed(self):
        """One more failure: wait twice as long as last time (from now); the delay."""
        with self._lock:
            now = self._clock()
            if self._until is None or now >= self._until + self.longest:
                self._delay = self.base
            else:
                self._delay = min(2 * self._delay, self.longest)
            self._until = now + self._delay
            return self._delay

    def hold(self):
        """Wait the current delay again, from now, without doubling it (a reconnection
        after the failure that set it: the board is back, give it a moment)."""
        with self._lock:
            if self._until is not None:
                self._until = max(self._until, self._clock() + self._delay)

    def ready(self):
        """True once the current delay has passed."""
        with self._lock:
            return self._until is None or self._clock() >= self._until

    def quiet(self):
        """True once the quiet period has passed (the next failure starts from base)."""
        with self._lock:
            return self._until is None or self._clock() >= self._until + self.longest


class _BoardFailureWatch:
    """Listens to one job's engine: remembers the board failure (BoardRetry) a task of
    this run failed with. TaskFlow's conductor only says "do not consume"; this says why."""

    def __init__(self):
        self.failure = None

    def __call__(self, state, details):
        failure = details.get('result')
        if failure is not None and hasattr(failure, 'check') and \
                failure.check(node_flow.BoardRetry):
            self.failure = failure


class _NodeConductor(impl_nonblocking.NonBlockingConductor):
    """TaskFlow's non-blocking conductor, with attempts counted before each dispatch, the
    owner's node services handed to every job's engine, and no claims while the owner's
    job board is unhealthy."""

    def __init__(self, owner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner = owner
        self._watches = {}          # job uuid: its run's _BoardFailureWatch

    def _engine_from_job(self, job):
        engine = super()._engine_from_job(job)
        engine.storage.inject({node_flow.SERVICES: self._owner.driver}, transient=True)
        watch = _BoardFailureWatch()
        engine.atom_notifier.register(tf_states.FAILURE, watch)
        self._watches[job.uuid] = watch
        return engine

    def _dispatch_job(self, job):
        return self._owner._dispatch(job, self._run_job)

    def _run_job(self, job):
        """TaskFlow's dispatch of the job (its engine run); a JobRun."""
        try:
            consume = super()._dispatch_job(job)
        finally:
            watch = self._watches.pop(job.uuid, None)
        failure = watch.failure if watch is not None and not consume else None
        return JobRun(consume, failure)

    def _can_claim_more_jobs(self, job):
        if self._wait_timeout.is_stopped():
            return False
        if not self._owner.may_claim():
            return False
        if self._max_simultaneous_jobs <= 0:
            return True
        # A job whose action waits for a child stack's jobs holds no slot meanwhile.
        active = len(self._dispatched) - self._owner.waiting_for_children()
        return active < self._max_simultaneous_jobs


class _UnclaimedJobs:
    """The job board as the TaskFlow conductor sees it: iterjobs() yields only unclaimed
    jobs, and not those this conductor handed back whose back-off has not passed
    (``not_before(job)`` False). TaskFlow's conductor tries to claim every job iterjobs()
    yields while it has a free slot; jobs waiting for their child stacks leave slots free
    for long, and each pass would try (and fail) to claim every claimed job on the board
    again. A claim that fails on a board outage is reported (``on_board_failure``)."""

    def __init__(self, board, not_before=None, on_board_failure=None):
        self._board = board
        self._not_before = not_before
        self._on_board_failure = on_board_failure

    def __getattr__(self, name):
        return getattr(self._board, name)

    def iterjobs(self, only_unclaimed=True, ensure_fresh=False):
        found = self._board.iterjobs(only_unclaimed=True, ensure_fresh=ensure_fresh)
        if self._not_before is None:
            return found
        return (job for job in found if self._not_before(job))

    def claim(self, job, who):
        try:
            return self._board.claim(job, who)
        except Exception as err:
            if self._on_board_failure is not None and jobs.is_transient(err):
                self._on_board_failure(err)
            raise


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Conductor:
    """Runs node jobs from the job board until stopped."""

    def __init__(self, conf, database, name=None, health_file=None, clock=time.monotonic):
        self.conf = conf
        self.database = database
        self.name = name or 'conductor-%s-%d-%s' % (socket.gethostname(), os.getpid(),
                                                    uuid.uuid4().hex[:6])
        self.health_file = conf.conductor.health_file if health_file is None else health_file
        self.runner = distributed.DistributedRunner(conf, database)
        self.engine = ops.StackEngine(conf, database, {'distributed': self.runner},
                                      nested_factory=nested_mod.NestedStackService)
        self.driver = distributed.NodeDriver(self.engine, self.runner)
        self._persistence = database.taskflow_backend()
        self._board = None
        self._conductor = None
        self._thread = None
        self._health_thread = None
        self._watchdog_thread = None
        self._observer = None
        # What this conductor's watchdog claims failures as (one name per conductor).
        self.watchdog_key = 'watchdog:%s' % self.name
        self._stuck = {}         # (stack id, traversal id): monotonic time first seen stuck
        self.sweeper = sweeper_mod.LostPostSweeper(conf, database, self.runner, self.name)
        self._stopping = threading.Event()
        self._held = {}
        self._held_lock = threading.Lock()
        self._waiting = 0       # jobs whose action waits for a child stack's jobs
        self.started = None
        # Back-offs: of all claims after a board failure; of each job handed back.
        self._clock = clock
        self.board_backoff = Backoff(conf.conductor.board_backoff, clock)
        self._job_backoffs = {}     # job uuid: Backoff (jobs this conductor handed back)
        self._backoff_lock = threading.Lock()

    # -- life cycle -------------------------------------------------------------------

    def start(self):
        """Connect to the job board and start claiming jobs (returns at once)."""
        jb = self.conf.jobboard
        self._board = jobboards.fetch(jb.url, self._persistence, name=self.name,
                                     session_timeout=jb.session_timeout,
                                     connect_timeout=jb.connect_timeout)
        # One ZooKeeper session per process: the jobs' posts go through the claiming client.
        self.runner.attach(self._board)
        self._board.client.add_listener(self._on_client_state)
        self._conductor = _NodeConductor(
            self, self.name,
            _UnclaimedJobs(self._board.board, not_before=self._job_ready,
                           on_board_failure=self._board_failed),
            persistence=self._persistence,
            engine='serial', wait_timeout=self.conf.conductor.wait_timeout,
            max_simultaneous_jobs=self.conf.conductor.jobs,
            executor_factory=self._executor)
        self._conductor.notifier.register('job_consumed', self._on_consumed)
        self.started = _now()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._watchdog_thread = threading.Thread(target=self._watchdog_loop,
                                                 name=self.name + '-watchdog', daemon=True)
        self._watchdog_thread.start()
        if self.conf.observer.interval > 0:
            self._observer = observer_mod.Observer(self.conf, self.database, self.engine,
                                                   self.name, self._stopping).start()
        if self.health_file:
            self._write_health('running')
            self._health_thread = threading.Thread(target=self._health_loop,
                                                   name=self.name + '-health', daemon=True)
            self._health_thread.start()
        LOG.info('%s: claiming jobs from %s (%d at once)', self.name, jb.url,
                 self.conf.conductor.jobs)
        return self

    def _executor(self, *args):
        # The standard library's pool: futurist's makes every stop wait ~1 s for workers
        # polling their queue.
        # Claims stop at [conductor] jobs active jobs (_NodeConductor); the pool has room
        # for the jobs that wait for their child stacks on top of those.
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=self.conf.conductor.jobs + MAX_WAITING_JOBS,
            thread_name_prefix=self.name + '-job')

    def waiting_for_children(self):
        """How many of this conductor's jobs wait for a child stack's jobs now."""
        with self._held_lock:
            return self._waiting

    @contextlib.contextmanager
    def _child_wait(self):
        with self._held_lock:
            self._waiting += 1
        try:
            yield
        finally:
            with self._held_lock:
                self._waiting -= 1

    def _run(self):
        try:
            self._conductor.run()
        except Exception:  # noqa: BLE001 - logged; alive() then reports the death
            LOG.exception('%s: conductor stopped on an error', self.name)

    def alive(self):
        """True while the conductor thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout=None):
        """Stop claiming; running actions end, then their jobs are handed back (abandoned)
        for another conductor. Returns whether everything stopped within timeout."""
        if self._conductor is None:
            return True
        self._stopping.set()
        self.driver.stopping.set()
        self._conductor.stop()
        stopped = self._conductor.wait(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        # Before the poster closes: failing a traversal may post its rollback.
        if self._watchdog_thread is not None:
            self._watchdog_thread.join(timeout)
        if self._observer is not None:
            self._observer.join(timeout)
        self._board.client.remove_listener(self._on_client_state)
        try:
            self.runner.close()         # lets go of the board it borrowed
        finally:
            self._board.close()
        if self._health_thread is not None:
            self._health_thread.join(timeout)
        if self.health_file:
            self._write_health('stopped')
        self._conductor = None
        LOG.info('%s: stopped', self.name)
        return stopped

    # -- jobs -------------------------------------------------------------------------

    def _dispatch(self, job, run):
        """Count the attempt, trash an exhausted job, else run it; True to consume."""
        details = job.details or {}
        key = details.get('node')
        stack_id = details.get('stack_id')
        traversal_id = details.get('traversal_id')
        if not key:
            return run(job).consume
        where = 'stack %s resource %s (%s, traversal %s)' % (
            details.get('stack_name'), key.split(':')[1], key, traversal_id)
        state = sync_points.begin_attempt(self.database, traversal_id, key)
        if state is None or state['done']:
            LOG.info('%s: %s: nothing to do (%s)', self.name, where,
                     'traversal over' if state is None else 'already done')
            return True
        attempts = state['attempts']
        limit = self.conf.conductor.max_attempts
        if attempts > limit:
            reason = ("resource '%s': the job of %s did not finish in %d attempts "
                      '([conductor] max_attempts)' % (key.split(':')[1], key, limit))
            LOG.warning('%s: %s: %s; moving it to the trash', self.name, where, reason)
            try:
                distributed.fail_exhausted(self.driver, stack_id, traversal_id, key, reason)
            except (node_flow.NodeRetry, jobs.BoardUnavailable) as err:
                LOG.info('%s: %s: handed back: %s', self.name, where, err)
                self._handed_back(job)
                return False
            raise JobExhausted(reason)
        LOG.info('%s: %s: running (attempt %d)', self.name, where, attempts)
        with self._held_lock:
            self._held[job.uuid] = {'job': job.uuid, 'stack_id': stack_id,
                                    'stack_name': details.get('stack_name'), 'node': key,
                                    'traversal_id': traversal_id, 'attempt': attempts,
                                    'since': _now()}
        try:
            with rt.job_slot_releaser(self._child_wait):
                ended = run(job)
        finally:
            with self._held_lock:
                self._held.pop(job.uuid, None)
        if ended.consume:
            self._forget_backoff(job)
            return True
        if self._stopping.is_set():
            # Handed back because we stop, not because it failed: not an attempt.
            sync_points.give_back_attempt(self.database, traversal_id, key)
            LOG.info('%s: %s: handed back (conductor stopping)', self.name, where)
            return False
        delay = self._handed_back(job)
        if ended.board_failure is not None:
            # The job board failed, not the job: not an attempt either (docs/chaos.md).
            sync_points.give_back_attempt(self.database, traversal_id, key)
            self._board_failed(ended.board_failure.exception_str)
            LOG.warning('%s: %s: handed back, attempt not counted (job board: %s); not '
                        'claimed here again for %.1f s', self.name, where,
                        ended.board_failure.exception_str, delay)
        else:
            LOG.warning('%s: %s: attempt %d did not finish; handed back (not claimed here '
                        'again for %.1f s)', self.name, where, attempts, delay)
        return False

    # -- job board health -------------------------------------------------------------

    def may_claim(self):
        """Whether this conductor claims jobs now: its client is connected to ZooKeeper
        and no board failure's back-off is running."""
        board = self._board
        return board is not None and board.connected() and self.board_backoff.ready()

    def _board_failed(self, err):
        """A job board failure (a job's post, a claim, the connection): no claims for a
        back-off period, doubling while failures repeat."""
        delay = self.board_backoff.failed()
        LOG.warning('%s: job board failure (%s): no claims for %.1f s', self.name, err, delay)

    def _on_client_state(self, state):
        # Called on kazoo's event thread: only note the change (never block here).
        if str(state) in jobs.UNUSABLE_STATES:
            self.board_backoff.failed()
        else:
            # Connected again: give the board (its watches, other conductors) a moment.
            self.board_backoff.hold()

    def _handed_back(self, job):
        """Keep a job this conductor hands back from being claimed here again at once (a
        doubling back-off per hand-back); returns the delay."""
        with self._backoff_lock:
            for uuid_, backoff in list(self._job_backoffs.items()):
                if backoff.quiet():
                    del self._job_backoffs[uuid_]
            backoff = self._job_backoffs.get(job.uuid)
            if backoff is None:
                backoff = self._job_backoffs[job.uuid] = Backoff(
                    self.conf.conductor.retry_backoff, self._clock)
        return backoff.failed()

    def _job_ready(self, job):
        """False while a job this conductor handed back is in its back-off."""
        with self._backoff_lock:
            backoff = self._job_backoffs.get(job.uuid)
        return backoff is None or backoff.ready()

    def _forget_backoff(self, job):
        with self._backoff_lock:
            self._job_backoffs.pop(job.uuid, None)

    def _on_consumed(self, event_type, details):
        # A consumed job is never resumed: drop its logbook so the database stays small.
        job = details['job']
        try:
            with contextlib.closing(self._persistence.get_connection()) as conn:
                conn.destroy_logbook(job.book_uuid)
        except (tf_exc.NotFound, tf_exc.StorageFailure) as err:
            LOG.debug('%s: logbook of job %s: %s', self.name, job.uuid, err)

    def held(self):
        """The jobs this conductor runs now."""
        with self._held_lock:
            return [dict(v) for v in self._held.values()]

    # -- watchdog ---------------------------------------------------------------------

    def _watchdog_loop(self):
        interval = self.conf.conductor.watchdog_interval
        while not self._stopping.wait(interval):
            try:
                self.watchdog_pass()
            except Exception:  # noqa: BLE001 - logged; the next pass tries again
                LOG.exception('%s: watchdog pass failed', self.name)

    def watchdog_pass(self):
        """Fail the traversals of distributed stacks IN_PROGRESS past their deadline;
        returns the (stack id, traversal id) pairs this pass failed."""
        now = time.time()
        failed, seen = [], set()
        for stack in _in_progress(self.database):
            if self._stopping.is_set():
                break
            traversal_id = stack.current_traversal
            target = sync_points.stack(self.database, stack.id, traversal_id)
            if target is None:
                if self._never_started(stack, now):
                    failed.append((stack.id, traversal_id))
                continue
            if target.get('deadline') is None or now <= target['deadline']:
                continue
            reason = watchdog.timeout_reason(stack.timeout)
            outcome = target.get('outcome')
            if outcome is None or outcome['by'] == self.watchdog_key:
                # The compare-and-swap decides: one conductor fails it, once.
                if sync_points.claim_failure(self.database, stack.id, traversal_id,
                                             self.watchdog_key, reason):
                    LOG.warning('%s: stack %s (%s) traversal %s: %s', self.name, stack.name,
                                stack.id, traversal_id, reason)
                    if self._fail(stack, traversal_id, self.watchdog_key, reason):
                        failed.append((stack.id, traversal_id))
                continue
            if outcome['status'] != states.FAILED:
                continue
            # Claimed by a node or another watchdog but still IN_PROGRESS: normally its
            # failure is being finished right now. If it stays so, the claimer died
            # (a watchdog's claim has no job to re-run): finish it; failing a traversal
            # twice is harmless (the stack row's compare-and-swap keeps one rollback).
            key = (stack.id, traversal_id)
            seen.add(key)
            first = self._stuck.setdefault(key, time.monotonic())
            if time.monotonic() - first > self._stuck_grace():
                LOG.warning('%s: stack %s traversal %s: failure claimed by %s never '
                            'finished; finishing it', self.name, stack.name, traversal_id,
                            outcome['by'])
                if self._fail(stack, traversal_id, outcome['by'],
                              outcome.get('reason') or reason):
                    failed.append(key)
        self._stuck = {k: v for k, v in self._stuck.items() if k in seen}
        self.sweeper.sweep(stopping=self._stopping)
        return failed

    def _never_started(self, stack, now):
        """Fail a traversal that has no sync points a stack timeout (and a grace) after
        the stack was claimed for it: the process that claimed it died before it posted
        anything. True if this call failed it."""
        claimed = stack.updated_at or stack.created_at
        if claimed is None:
            return False
        claimed = claimed.replace(tzinfo=datetime.timezone.utc).timestamp()
        timeout = 60 * (stack.timeout or self.conf.default_timeout)
        if now <= claimed + timeout + self._stuck_grace():
            return False
        # Check again: the traversal may have started (or ended) since the listing.
        if sync_points.stack(self.database, stack.id, stack.current_traversal) is not None:
            return False
        reason = ('%s; none of them started (the process that began the operation may '
                  'have died)' % watchdog.timeout_reason(stack.timeout))
        LOG.warning('%s: stack %s (%s) traversal %s: %s', self.name, stack.name, stack.id,
                    stack.current_traversal, reason)
        # No sync point to claim on: the stack row's compare-and-swap (traversal, status)
        # keeps a second watchdog's call from doing anything.
        return self.engine.fail(stack.id, stack.current_traversal, stack.action,
                                distributed.TraversalFailed(reason)) is not None

    def _stuck_grace(self):
        return (self.conf.jobboard.session_timeout
                + 2 * self.conf.conductor.watchdog_interval)

    def _fail(self, stack, traversal_id, by_key, reason):
        # NodeDriver.traversal_failed lets the nodes in flight end first, but only until
        # the deadline, which has passed: it returns at once (naming what still runs), so
        # this thread never waits on a hung action. Those nodes, when (if) they return,
        # find the traversal over and do nothing more.
        try:
            self.driver.traversal_failed(stack.id, traversal_id, by_key, reason)
        except node_flow.NodeRetry as err:
            LOG.info('%s: stack %s: left to another conductor: %s', self.name, stack.name,
                     err)
            return False
        return True

    # -- health -----------------------------------------------------------------------

    def _health_loop(self):
        interval = self.conf.conductor.health_interval
        while not self._stopping.wait(interval):
            try:
                self._write_health('running')
            except OSError as err:
                LOG.warning('%s: cannot write health file %s: %s', self.name,
                            self.health_file, err)

    def health(self, state):
        """The health record: pid, host, start, last heartbeat, jobs held."""
        return {'name': self.name, 'state': state, 'pid': os.getpid(),
                'host': socket.gethostname(), 'started': self.started,
                'heartbeat': _now(), 'heartbeat_unix': time.time(),
                'jobboard': self.conf.jobboard.url, 'jobs': self.held()}

    def _write_health(self, state):
        write_health_file(self.health_file, self.health(state))


def write_health_file(path, record):
    """Write the health record to ``path`` whole (readers never see half a file), through
    a temporary file of an unpredictable name created exclusively in the same directory:
    no symlink planted at a guessable name is ever followed, and ``os.replace`` replaces
    a symlink at ``path`` itself rather than the file it points to."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp',
                               dir=directory)
    try:
        os.fchmod(fd, 0o644)       # monitors of another user read it; it holds no secret
        with os.fdopen(fd, 'w') as out:
            json.dump(record, out, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _in_progress(database):
    """Live distributed stacks IN_PROGRESS (nested ones too: each has its own traversal)."""
    return db.stack_list(database, None, include_nested=True, convergence=True,
                         status=states.IN_PROGRESS)
