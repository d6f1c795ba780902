"""The legacy path: one traversal runs as one TaskFlow graph flow in the calling process."""

import concurrent.futures
import contextlib
import logging
import threading

import taskflow.engines
from taskflow import exceptions as tf_exc
from taskflow.persistence import models as tf_models

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


class LegacyRunner:
    """Runs a traversal's flow with TaskFlow's parallel engine, persisting to the logbook."""

    path = 'legacy'

    def __init__(self, database, executors):
        self._database = database
        self._executors = executors

    def run(self, runtime, graph):
        """Run every node of the graph; raise the failure of the first action that failed.

        The graph runs as a sequence of TaskFlow graph flows of whole dependency levels
        (tasks.split_spec), one flow detail each in the traversal's logbook: TaskFlow's
        compile and scheduler grow quadratically with a flow's size, so small flows keep the
        traversal linear. A failed part stops the traversal before the next one starts.
        """
        backend = self._database.taskflow_backend()
        book = _logbook(backend, runtime)
        executor = self._executors.get(runtime.stack.nested_depth or 0)
        parts = tasks.split_spec(tasks.graph_spec(graph))
        for number, spec in enumerate(parts):
            engine = taskflow.engines.load_from_factory(
                tasks.build_flow,
                factory_args=[runtime.stack_id, runtime.traversal_id, spec],
                factory_kwargs={'part': number} if len(parts) > 1 else None,
                backend=backend, book=book, engine='parallel', executor=executor)
            engine.run()
        # A finished traversal is never resumed: drop its logbook so the database stays small.
        destroy_logbook(self._database, runtime.traversal_id)


def _logbook(backend, runtime):
    """A new logbook for one traversal (its uuid is the traversal id, so resume finds it)."""
    book = tf_models.LogBook('stack-%s' % runtime.stack_id, uuid=runtime.traversal_id)
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
