"""The distributed path: each node of a traversal is a job on the job board, run by conductors.

``DistributedRunner`` implements engine/runner.py's Runner: ``start`` creates the
traversal's sync points and posts the root nodes, then returns: the stack stays IN_PROGRESS.
Each job runs flows/node_flow.py's small flow (the node's resource action, then propagate)
with its conductor's ``NodeDriver`` as the flow's NodeServices: the traversal's runtime (one
per traversal, rebuilt from the database and cached by the driver), posting, and the end of
the traversal. The node that completes the stack's inputs, or the first one that fails, ends
the traversal through the driver's StackEngine (``complete``, ``fail``), as the legacy path
does. Jobs' logbooks live in the stack database.

A job board outage is nobody's failure (docs/chaos.md, rule 1): every posting and reading
method of the runner raises ``jobs.BoardUnavailable`` when the board fails for a while, and
whoever calls it retries later (a node hands its job back without counting an attempt). A
conductor's runner posts through the conductor's own Board (``attach``): one ZooKeeper
session per process, so an expiry is seen by claiming and posting at once.
"""

import contextlib
import logging
import threading
import time

import taskflow.engines
import tenacity
from oslo_utils import uuidutils
from taskflow import states as tf_states
from taskflow.persistence import models as tf_models

from heat_taskflow.common import polling, states
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.engine import runner as runner_mod
from heat_taskflow.flows import node_flow, sync_points
from heat_taskflow.flows import runtime as rt
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.jobs import base as jobs
from heat_taskflow.persistence import api as db

LOG = logging.getLogger(__name__)

# Seconds between looks at the nodes still running when a traversal fails.
IN_FLIGHT_POLL = 0.2
# Back-off of a traversal's first posts while the job board is unavailable: the first wait
# (and the jitter added to each), doubling up to the longest.
POST_RETRY_FIRST = 0.1
POST_RETRY_MAX = 2.0


class TraversalFailed(Exception):
    """A node of a distributed traversal failed; the message is the reason."""


@contextlib.contextmanager
def _board_errors(what):
    """Turn a transient job board failure met in the block into jobs.BoardUnavailable
    (naming what was being done); any other error passes unchanged."""
    try:
        yield
    except jobs.BoardUnavailable:
        raise
    except Exception as err:
        if jobs.is_transient(err):
            raise jobs.BoardUnavailable('%s: job board unavailable: %s' % (what, err)) from err
        raise


class DistributedRunner(runner_mod.Runner):
    """Posts traversals and nodes to the job board: its own poster session (connected on
    first use), or the Board of the conductor it serves (``attach``)."""

    path = 'distributed'

    def __init__(self, conf, database, before_post=None):
        self._conf = conf
        self._database = database
        self._before_post = before_post     # callable(stack_id), e.g. start a local conductor
        self._board = None
        self._owned = True                  # whether close() closes self._board
        self._lock = threading.Lock()

    @property
    def _backend(self):
        # Where the jobs' logbooks are stored (one per database, shared).
        return self._database.taskflow_backend()

    def attach(self, board):
        """Post through a Board someone else owns and closes (a conductor's: one ZooKeeper
        session per process, so claiming and posting learn of an expiry together).
        ``close()`` then lets go of it without closing it."""
        with self._lock:
            previous, owned = self._board, self._owned
            self._board, self._owned = board, False
        if previous is not None and owned:
            previous.close()

    def board(self):
        """The connected job board (connecting, or reconnecting after close, on demand);
        BoardUnavailable when ZooKeeper cannot be reached now."""
        with self._lock:
            if self._board is None:
                self._board = jobboards.fetch(
                    self._conf.jobboard.url, self._backend, name='heat-taskflow-poster',
                    session_timeout=self._conf.jobboard.session_timeout,
                    connect_timeout=self._conf.jobboard.connect_timeout)
                self._owned = True
            return self._board

    def close(self):
        """Disconnect from the job board (a later post connects again); a Board attached
        by its owner is only let go."""
        with self._lock:
            board, self._board = self._board, None
            owned, self._owned = self._owned, True
        if board is not None and owned:
            board.close()

    def start(self, runtime, graph):
        """Create the traversal's sync points and post its root nodes; False (the
        traversal goes on on the conductors), or True for an empty graph (nothing to run:
        the traversal has ended)."""
        if not len(graph):
            return True
        target = {
            'action': runtime.action,
            'template_id': (runtime.stack.raw_template_id
                            if runtime.definition is not None else None),
            'deadline': runtime.deadline,
        }
        sync_points.create(self._database, runtime.stack_id, runtime.traversal_id, graph,
                           target)
        self._post_first(runtime, [node.key for node in graph.roots()])
        return False

    def _post_first(self, runtime, keys):
        """Post a new traversal's root nodes, retrying while the job board is unavailable
        (jobs.is_transient), with back-off, for up to ``[jobboard] post_retry_timeout``
        seconds and never past the traversal's deadline; a retry posts only the roots that
        have no job yet (the failed attempt may have posted some, or all: a lost answer).

        The sync points exist already, so a board outage that outlasts the retries is not
        the traversal's failure: BoardUnavailable then tells the caller to leave the
        stack IN_PROGRESS; the conductors' lost-post sweep (conductors/sweeper.py) posts
        the roots once the board is back, as after a crash here. Other errors are raised
        as they are. A traversal swapped away meanwhile (cancelled) is not posted.
        """
        budget = self._conf.jobboard.post_retry_timeout
        if runtime.deadline is not None:
            budget = max(0.0, min(budget, runtime.deadline - time.time()))
        name = runtime.stack.name
        attempts = []

        def attempt():
            if not attempts:
                attempts.append(1)
                self.post(runtime.stack_id, runtime.traversal_id, keys, name)
            elif not runtime.superseded():
                attempts.append(1)
                self.post_missing(runtime.stack_id, runtime.traversal_id, keys, name)

        def log_retry(state):
            LOG.warning('stack %s traversal %s: posting its first jobs failed (attempt %d, '
                        'job board unavailable): %s; retrying', name, runtime.traversal_id,
                        state.attempt_number, state.outcome.exception())

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(jobboards.is_transient),
            stop=tenacity.stop_after_delay(budget),
            wait=(tenacity.wait_exponential(multiplier=POST_RETRY_FIRST, max=POST_RETRY_MAX)
                  + tenacity.wait_random(0, POST_RETRY_FIRST)),
            before_sleep=log_retry, reraise=True)
        try:
            retrying(attempt)
        except Exception as err:
            if not jobboards.is_transient(err):
                raise
            raise jobboards.BoardUnavailable(
                'stack %s traversal %s: the job board was unavailable for %d attempt(s) '
                'over %.1f s ([jobboard] post_retry_timeout): %s'
                % (name, runtime.traversal_id, len(attempts), budget, err)) from err

    def nodes_on_board(self):
        """(traversal id, node key) of every node job on the board (claimed or not), in
        one read of the board: what the lost-post sweep compares every traversal with."""
        return {(details.get('traversal_id'), details['node'])
                for _, details in self._node_jobs()}

    def resume(self, engine, stack, on_event=None):
        """Post again the traversal's pending nodes that have no job on the board
        (resume.resume_distributed); returns (row, node keys posted)."""
        return resume_mod.resume_distributed(engine, self, stack, on_event)

    def post(self, stack_id, traversal_id, node_keys, stack_name):
        """Post one job per node: a logbook of its own holding the node flow's factory.
        BoardUnavailable when the board fails for a while: nothing more is posted, and its
        ``posted`` says which of node_keys were (a retry posts the rest, or uses
        post_missing: the failed post itself may have reached the board)."""
        if self._before_post is not None:
            self._before_post(stack_id)
        posted = []
        try:
            self._post(stack_id, traversal_id, node_keys, stack_name, posted)
        except jobs.BoardUnavailable as err:
            err.posted = list(posted)
            raise

    def _post(self, stack_id, traversal_id, node_keys, stack_name, posted):
        with _board_errors('stack %s traversal %s: posting' % (stack_name, traversal_id)):
            board = self.board()
            board.check()
        for key in node_keys:
            book = tf_models.LogBook('stack-%s-node-%s' % (stack_id, key))
            flow_detail = tf_models.FlowDetail(key, uuid=uuidutils.generate_uuid())
            book.add(flow_detail)
            taskflow.engines.save_factory_details(
                flow_detail, node_flow.build, [stack_id, traversal_id, key], {})
            with contextlib.closing(self._backend.get_connection()) as conn:
                conn.save_logbook(book)
            # A post that fails may still have created its job (the answer was lost):
            # its logbook stays, for that job.
            with _board_errors('stack %s traversal %s: posting %s'
                               % (stack_name, traversal_id, key)):
                board.board.post('%s %s' % (stack_name, key), book=book, details={
                    'flow_uuid': flow_detail.uuid,
                    'stack_id': stack_id,
                    'stack_name': stack_name,
                    'traversal_id': traversal_id,
                    'node': key,
                })
            posted.append(key)
            LOG.debug('stack %s traversal %s: posted %s', stack_name, traversal_id, key)

    def _node_jobs(self):
        """[(job, its details)] of every node job on the board, read fresh; BoardUnavailable
        when the board cannot be read now (TaskFlow lists no jobs while the connection is
        suspended or lost: that empty list must not read as "no job")."""
        found = []
        with _board_errors('reading the job board'):
            board = self.board()
            board.check()
            for job in board.board.iterjobs(ensure_fresh=True):
                details = job.details or {}
                if details.get('node'):
                    found.append((job, details))
            board.check()
        return found

    def jobs_on_board(self, traversal_id):
        """Node keys of a traversal that have a job on the board (claimed or not)."""
        return {details['node'] for _, details in self._node_jobs()
                if details.get('traversal_id') == traversal_id}

    def running_jobs(self, stack_id):
        """(traversal id, node key) of the stack's jobs a conductor holds (claimed) now."""
        jobs_of_stack = [(job, details) for job, details in self._node_jobs()
                         if details.get('stack_id') == stack_id]
        with _board_errors('reading the claims of stack %s' % stack_id):
            return {(details.get('traversal_id'), details['node'])
                    for job, details in jobs_of_stack if job.state == tf_states.CLAIMED}

    def post_missing(self, stack_id, traversal_id, node_keys, stack_name):
        """Post the nodes among node_keys that have no job on the board; returns them.

        Posting a node twice is safe (its second job finds it done and does nothing) but
        two jobs of one node could run its action at the same time, so a node that still
        has a job is left to it, and each re-post is claimed first on the node's sync point
        (sync_points.claim_repost, from the generation read before the board): of this
        call, a lost-post sweep and another re-run finding the same node missing at once,
        one posts it.
        """
        generations = sync_points.pending_reposts(self._database, stack_id, traversal_id)
        on_board = self.jobs_on_board(traversal_id)
        missing = [key for key in node_keys if key not in on_board and key in generations
                   and sync_points.claim_repost(self._database, traversal_id, key,
                                                generations[key])]
        if missing:
            LOG.warning('stack %s traversal %s: re-posting %s (no job on the board)',
                        stack_name, traversal_id, ', '.join(missing))
            self.post(stack_id, traversal_id, missing, stack_name)
        return missing

    def repost_missing(self, stack_id, traversal_id):
        """Post again every node of a traversal that should have a job and has none (a
        crash between a sync point's flip and the post, or a job board that lost its
        data); returns the keys posted."""
        stack = db.stack_get(self._database, stack_id)
        keys = sync_points.pending(self._database, stack_id, traversal_id)
        if stack is None or not keys:
            return []
        return self.post_missing(stack_id, traversal_id, keys, stack.name)


class NodeDriver(node_flow.NodeServices):
    """The services a conductor's node jobs use (flows/node_flow.py's NodeServices): its
    StackEngine, its poster, and the runtimes of the traversals it runs."""

    def __init__(self, engine, runner):
        self.engine = engine
        self.database = engine.database
        self.runner = runner
        self.stopping = threading.Event()
        self._runtimes = rt.RuntimeCache(self.load_runtime)

    def runtime(self, stack_id, traversal_id):
        """The traversal's OperationRuntime, loaded once (load_runtime) and shared."""
        return self._runtimes.get(stack_id, traversal_id)

    def load_runtime(self, stack_id, traversal_id):
        """Rebuild a traversal's OperationRuntime from the stack row and its sync point
        (the definition is the engine's, parsed once per raw template)."""
        target = sync_points.stack(self.database, stack_id, traversal_id)
        stack = db.stack_get(self.database, stack_id)
        if target is None or stack is None:
            raise LookupError('stack %s has no traversal %s in progress'
                              % (stack_id, traversal_id))
        defn = None
        if target['template_id'] is not None:
            defn = self.engine.stack_definition(stack, target['template_id'])
        return self.engine.traversal_runtime(stack, target['action'], defn,
                                             target['deadline'], traversal_id=traversal_id)

    def post(self, stack_id, traversal_id, node_keys):
        """Post jobs for nodes whose inputs are all satisfied."""
        runtime = self.runtime(stack_id, traversal_id)
        self.runner.post(stack_id, traversal_id, node_keys, runtime.stack.name)

    def post_missing(self, stack_id, traversal_id, node_keys):
        """Post those of the nodes that have no job on the board."""
        runtime = self.runtime(stack_id, traversal_id)
        self.runner.post_missing(stack_id, traversal_id, node_keys, runtime.stack.name)

    def running(self, stack_id, nodes):
        """Those of the (traversal id, node key) pairs whose job is claimed on the board."""
        held = self.runner.running_jobs(stack_id)
        return [pair for pair in nodes if tuple(pair) in held]

    def traversal_completed(self, stack_id, traversal_id):
        """Store outputs and mark the stack COMPLETE, then drop the traversal's sync points.

        After a redirect or cancel the stack's older traversals may still have an action
        running on a resource this traversal never saw (a row created after its graph was
        compiled): wait for them to end, drop their sync points, and if rows remain that
        the target does not keep, converge again (a follow-up traversal to the same target,
        compiled from the rows as they are now) instead of completing.
        """
        runtime = self.runtime(stack_id, traversal_id)
        others = sync_points.other_traversals(self.database, stack_id, traversal_id)
        if others and not sync_points.superseded(self.database, stack_id, traversal_id):
            self._wait_for_others(stack_id, traversal_id, runtime.deadline)
            for other in others:
                sync_points.delete(self.database, stack_id, other)
            strays = (_strays(self.database, stack_id, runtime.definition)
                      if runtime.action != states.CHECK else [])
            if strays:
                LOG.info('stack %s traversal %s: rows %s left by earlier traversals: '
                         'converging again', runtime.stack.name, traversal_id,
                         ', '.join('%s:%d' % (r.name, r.id) for r in strays))
                self._follow_up(stack_id, traversal_id, runtime)
                sync_points.delete(self.database, stack_id, traversal_id)
                self._runtimes.discard(runtime)
                return
        self.engine.complete(stack_id, traversal_id, runtime.action, runtime.definition)
        sync_points.delete(self.database, stack_id, traversal_id)
        self._runtimes.discard(runtime)

    def traversal_failed(self, stack_id, traversal_id, node_key, reason):
        """Once the traversal's other running nodes have stopped, end it as a failed
        traversal ends (StackEngine.fail: its rollback, or the stack FAILED), then drop
        the sync points."""
        target = sync_points.stack(self.database, stack_id, traversal_id)
        if target is None:
            return
        self._wait_in_flight(stack_id, traversal_id, node_key, target['deadline'])
        self.engine.fail(stack_id, traversal_id, target['action'], TraversalFailed(reason))
        sync_points.delete(self.database, stack_id, traversal_id)

    def _wait_for_others(self, stack_id, traversal_id, deadline):
        # Older traversals' actions still running (claimed jobs) end first.
        left = self._until_idle(
            lambda: self.running(stack_id, sync_points.others_in_flight(
                self.database, stack_id, traversal_id)),
            deadline, 'conductor stopping while traversal %s waits for older actions'
            % traversal_id)
        if left:
            LOG.warning('stack %s traversal %s: ending with %s of older traversals '
                        'still running (timed out)', stack_id, traversal_id,
                        ', '.join(k for _, k in left))

    def _follow_up(self, stack_id, traversal_id, runtime):
        """Swap in a new traversal to the same target (while this one is the stack's)."""
        stack = db.stack_get(self.database, stack_id)
        if stack is None or stack.current_traversal != traversal_id:
            return
        claimed = self.engine.claim(stack, {}, expected_status=states.IN_PROGRESS)
        if claimed is not None:
            self.engine.run(claimed, runtime.action, runtime.definition)

    def _wait_in_flight(self, stack_id, traversal_id, node_key, deadline):
        # As the legacy engine does before it reverts: let actions already running end, so
        # the rollback never acts on a resource an old action still holds. A node that
        # starts from now on finds the traversal failed and does nothing. A conductor that
        # stops hands the job back: the conductor that takes it finishes the failure.
        stopping = 'conductor stopping while %s fails its traversal' % node_key
        if self.stopping.is_set():
            raise node_flow.NodeRetry(stopping)
        left = self._until_idle(
            lambda: [k for k in sync_points.in_flight(self.database, stack_id, traversal_id)
                     if k != node_key],
            deadline, stopping)
        if left:
            LOG.warning('stack %s traversal %s: failing with %s still running (timed '
                        'out)', stack_id, traversal_id, ', '.join(left))

    def _until_idle(self, running_now, deadline, stopping):
        """Poll running_now() every IN_FLIGHT_POLL seconds until it answers nothing; []
        then, or what it still answered once the deadline (a time.time() value) passed.
        NodeRetry(stopping) when the conductor stops meanwhile."""
        running = []

        def idle():
            running[:] = running_now()
            return not running

        try:
            polling.wait_until(idle, IN_FLIGHT_POLL, deadline=deadline, clock=time.time,
                               stop_event=self.stopping)
        except polling.Stopped:
            raise node_flow.NodeRetry(stopping) from None
        except polling.TimedOut:
            return running
        return []


def _strays(database, stack_id, definition):
    """Rows of a stack that a traversal converged to definition should not have left:
    replaced rows, and rows of names the target does not have (None: converging to
    nothing, every row)."""
    names = set(definition.resources) if definition is not None else set()
    return [r for r in db.resource_list(database, stack_id)
            if r.replaced_by is not None or r.name not in names]


def fail_exhausted(driver, stack_id, traversal_id, node_key, reason):
    """Fail a traversal because one node's job could not finish in its allowed attempts."""
    if sync_points.claim_failure(driver.database, stack_id, traversal_id, node_key, reason):
        driver.traversal_failed(stack_id, traversal_id, node_key, reason)
    sync_points.mark_done(driver.database, traversal_id, node_key)
