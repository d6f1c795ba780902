"""The legacy path: a traversal runs as TaskFlow graph flows in the calling process.

``LegacyRunner`` implements engine/runner.py's Runner: ``start`` returns once the traversal
has ended. Each flow's tasks get the traversal's OperationRuntime injected by the runner
that loads their engine (a transient TaskFlow injection: nothing of it is persisted), so a
task never looks it up in a process-wide registry.
"""

import concurrent.futures
import contextlib
import logging
import threading

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


class LegacyRunner(runner_mod.Runner):
    """Runs a traversal's flow with TaskFlow's parallel engine, persisting to the logbook."""

    path = 'legacy'

    def __init__(self, database, executors, heartbeat_interval=None):
        self._database = database
        self._executors = executors
        # Tells an interrupted traversal from a running one (engine/resume.py).
        self._heartbeat = resume_mod.Heartbeat(database, heartbeat_interval)
        self.heartbeat_interval = self._heartbeat.interval

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
