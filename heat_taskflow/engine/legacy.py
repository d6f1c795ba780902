"""The legacy path: a traversal runs as TaskFlow graph flows in the calling process.

``LegacyRunner`` implements engine/runner.py's Runner: ``start`` returns once the traversal
has ended. Each flow's tasks get the traversal's OperationRuntime injected by the runner
that loads their engine (a transient TaskFlow injection: nothing of it is persisted), so a
task never looks it up in a process-wide registry.
"""

import concurrent.futures
import contextlib
import logging
import queue
import threading
import time

import taskflow.engines
from oslo_utils import uuidutils
from taskflow import exceptions as tf_exc
from taskflow import states as tf_states
from taskflow.persistence import models as tf_models

from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.engine import runner as runner_mod
from heat_taskflow.engine import watchdog
from heat_taskflow.flows import tasks

LOG = logging.getLogger(__name__)


class ExecutorPool:
    """Thread pools the process owns and reuses, one per stack nesting depth.

    Reusing a caller-owned pool avoids the ~1 s an engine-owned pool costs at shutdown; one
    pool per depth means a nested stack's actions never wait for a worker held by the parent
    action that is waiting for them.
    """

    def __init__(self, max_workers):
        self.max_workers = max_workers
        self._pools = {}
        self._lock = threading.Lock()

    def get(self, depth):
        """The pool for stacks at a nesting depth."""
        with self._lock:
            pool = self._pools.get(depth)
            if pool is None:
                pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.max_workers,
                    thread_name_prefix='heat-taskflow-d%d' % depth)
                self._pools[depth] = pool
            return pool

    def shutdown(self):
        """Stop every pool (tests and process exit)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


class BackgroundPool:
    """Daemon threads that run whole legacy traversals (each waits on its resource
    actions, which run on the ExecutorPool), at most max_workers at once; more wait in a
    queue. Daemon threads, so that a process shutting down is never held by a traversal:
    one still running when the process exits is resumed later (its heartbeat stops)."""

    def __init__(self, max_workers, name='heat-taskflow-bg'):
        self.max_workers = max_workers
        self._name = name
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._threads = 0
        self._busy = 0
        self._waiting = 0
        self.closed = False

    def submit(self, work):
        """Queue work(); raises Closed once close() was called."""
        with self._lock:
            if self.closed:
                raise Closed('the engine is shutting down')
            self._waiting += 1
            self._queue.put(work)
            if self._threads < self.max_workers and self._waiting > self._threads - self._busy:
                self._threads += 1
                threading.Thread(target=self._worker, daemon=True,
                                 name='%s-%d' % (self._name, self._threads)).start()

    def _worker(self):
        while True:
            work = self._queue.get()
            if work is None:
                return
            with self._lock:
                self._waiting -= 1
                self._busy += 1
            try:
                work()
            except Exception:  # noqa: BLE001 - a traversal ends its stack itself
                LOG.exception('a background traversal failed unexpectedly')
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle.notify_all()

    def close(self, timeout):
        """Accept no more work; wait up to timeout seconds for the queued and running
        work to end. Returns how many are still queued or running."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            self.closed = True
            while self._busy or self._waiting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._idle.wait(remaining)
            left = self._busy + self._waiting
            for _ in range(self._threads):
                self._queue.put(None)       # idle workers exit (busy ones after their work)
        return left


class Closed(Exception):
    """The background pool no longer accepts work."""


class LegacyRunner(runner_mod.Runner):
    """Runs a traversal's flow with TaskFlow's parallel engine, persisting to the logbook.

    With a BackgroundPool, a top-level stack's traversal runs on it (the call returns at
    once); a nested stack's still runs inside its parent's traversal, as without one.
    """

    path = 'legacy'

    def __init__(self, database, executors, heartbeat_interval=None, background=None):
        self._database = database
        self._executors = executors
        self._background = background
        # Tells an interrupted traversal from a running one (engine/resume.py).
        self._heartbeat = resume_mod.Heartbeat(database, heartbeat_interval)
        self.heartbeat_interval = self._heartbeat.interval

    def runs_in_background(self, stack):
        """True for a top-level stack when this runner has a background pool."""
        return self._background is not None and not stack.owner_id

    def submit(self, runtime, work):
        """Hold the stack (heartbeat) now, run work() on the background pool, release
        the hold when it ends. Once the pool is closed the stack is left held by no one,
        IN_PROGRESS: a resume continues it (resume_orphans at the next start)."""
        self._heartbeat.hold(runtime.stack_id, runtime.engine_id)

        def run():
            try:
                work()
            finally:
                self._heartbeat.release(runtime.stack_id, runtime.engine_id)

        try:
            self._background.submit(run)
        except Closed:
            self._heartbeat.release(runtime.stack_id, runtime.engine_id)
            LOG.warning('stack %s: %s traversal %s not started: the engine is shutting '
                        'down; a resume continues it', runtime.stack_id, runtime.action,
                        runtime.traversal_id)

    def shutdown(self, timeout):
        """Stop the background pool: wait up to timeout seconds for its traversals, then
        stop the heartbeat of those still running (they look interrupted once it is
        stale; the process is about to exit). Returns the ids of the stacks left."""
        if self._background is None:
            return []
        left = self._background.close(timeout)
        if not left:
            return []
        held = self._heartbeat.stop()
        LOG.warning('%d background traversal(s) still running at shutdown; their stacks '
                    '(%s) are left IN_PROGRESS for a resume', left, ', '.join(held))
        return held

    def start(self, runtime, graph):
        """Run every node of the graph; raise the failure of the first action that failed.

        The graph runs as a sequence of TaskFlow graph flows of whole dependency levels
        (tasks.split_spec), one flow detail each in the traversal's logbook: TaskFlow's
        compile and scheduler grow quadratically with a flow's size, so small flows keep the
        traversal linear. A failed part stops the traversal before the next one starts.
        """
        self._traverse(runtime, lambda backend: _logbook(backend, runtime, self.parts(graph)))
        return True

    def resume(self, engine, stack, on_event=None):
        """Take the interrupted stack over and run its traversal again here
        (resume.resume_legacy); returns (final row, None)."""
        return resume_mod.resume_legacy(engine, self, stack, on_event), None

    @staticmethod
    def parts(graph):
        """The graph as the specs of the flows that run it, in order."""
        return tasks.split_spec(tasks.graph_spec(graph))

    def recorded_target(self, traversal_id):
        """What the traversal's logbook recorded of it ({action, template_id, nodes}), or
        None when it has no logbook (its process died before writing one)."""
        backend = self._database.taskflow_backend()
        with contextlib.closing(backend.get_connection()) as conn:
            try:
                book = conn.get_logbook(traversal_id, lazy=True)
            except tf_exc.NotFound:
                return None
        return dict(book.meta or {}).get('target')

    def run_again(self, runtime, compile_graph):
        """Run an interrupted traversal again from its logbook (engine/resume.py): a part
        whose flow detail succeeded is skipped, one left running goes on from its stored
        task states (TaskFlow re-runs only the tasks that had not finished), and the parts
        not started yet run as start() would run them. Without a logbook (the process died
        before writing it, so nothing ran) the graph compile_graph() returns runs."""
        def logbook(backend):
            with contextlib.closing(backend.get_connection()) as conn:
                try:
                    book = conn.get_logbook(runtime.traversal_id)
                except tf_exc.NotFound:
                    book = None
            if book is None or not len(book):
                if book is not None:
                    destroy_logbook(self._database, runtime.traversal_id)
                book = _logbook(backend, runtime, self.parts(compile_graph()))
            return book

        self._traverse(runtime, logbook)
        return True

    def _traverse(self, runtime, logbook):
        """Run the parts of the logbook that logbook(backend) returns, with the stack's
        heartbeat beating; then drop the logbook (a finished traversal is never resumed,
        and the database stays small)."""
        with self._heartbeat.beat(runtime.stack_id, runtime.engine_id):
            backend = self._database.taskflow_backend()
            self._run_parts(runtime, backend, logbook(backend))
        destroy_logbook(self._database, runtime.traversal_id)

    def _run_parts(self, runtime, backend, book):
        """Run the logbook's flow details in order; those that succeeded are skipped."""
        executor = self._executors.get(runtime.stack.nested_depth or 0)
        for detail in sorted(book, key=_part_number):
            if detail.state == tf_states.SUCCESS:
                LOG.info('stack %s traversal %s: part %d already done', runtime.stack_id,
                         runtime.traversal_id, _part_number(detail))
                continue
            if detail.state in (tf_states.FAILURE, tf_states.REVERTED, tf_states.REVERTING):
                raise PartFailed(_failures(detail))
            engine = taskflow.engines.load_from_detail(detail, backend=backend,
                                                       engine='parallel', executor=executor)
            engine.storage.inject({tasks.RUNTIME: runtime}, transient=True)
            try:
                watchdog.run_flow(runtime, engine.run)   # raises at the deadline
            finally:
                backend.flush()     # the part's last atom states (write-behind)


class PartFailed(Exception):
    """A part of the traversal had failed before it was interrupted."""


def _failures(detail):
    reasons = [atom.failure.exception_str for atom in detail
               if atom.failure is not None]
    return '; '.join(reasons) or 'flow %s had failed' % detail.name


def _part_number(detail):
    return (detail.meta or {}).get('part', 0)


def _logbook(backend, runtime, parts):
    """A new logbook for one traversal (its uuid is the traversal id, so resume finds it):
    its target (what a resume rebuilds the runtime from) and one flow detail per part,
    holding that part's flow factory and spec, saved before any part runs."""
    book = tf_models.LogBook('stack-%s' % runtime.stack_id, uuid=runtime.traversal_id)
    book.meta = {'target': {
        'action': runtime.action,
        'template_id': (runtime.stack.raw_template_id
                        if runtime.definition is not None else None),
        'nodes': sum(len(spec) for spec in parts),
    }}
    for number, spec in enumerate(parts):
        detail = tf_models.FlowDetail('part-%d' % number, uuid=uuidutils.generate_uuid())
        detail.meta = {'part': number}
        taskflow.engines.save_factory_details(
            detail, tasks.build_flow, [runtime.stack_id, runtime.traversal_id, spec],
            {'part': number} if len(parts) > 1 else None)
        book.add(detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    return book


def destroy_logbook(database, traversal_id):
    """Remove a traversal's logbook, if there is one."""
    backend = database.taskflow_backend()
    with contextlib.closing(backend.get_connection()) as conn:
        try:
            conn.destroy_logbook(traversal_id)
        except tf_exc.NotFound:
            LOG.debug('no logbook for traversal %s', traversal_id)
