"""The small TaskFlow flow one job of the distributed path runs: one node of a traversal.

``build(stack_id, traversal_id, node_key)`` is the flow factory a conductor imports (by its
module path, stored in the flow detail) to rebuild the flow in any process. The flow is
linear: the node's resource action, then ``propagate``, which tells the node's dependents
(or the stack) through their sync points and posts those whose last input this was.

Everything here may run twice (claims are not pre-emptive): a node already ``done`` does
nothing, the resource actions adopt what a previous run recorded, and every propagation
step is an idempotent compare-and-swap. A node of a traversal that is over (superseded by a
newer one, failed, complete) does nothing and propagates nothing.

What the engine layer provides - the traversal's runtime, posting jobs, finishing or
failing a traversal, the database - comes as one ``NodeServices`` object, the tasks'
``services`` argument (SERVICES), which the conductor running the job injects into its
engine (transient: nothing of it is persisted); so flows/ never imports engine/ and no
process-wide registry is consulted.
"""

import abc
import logging

from taskflow import exceptions as tf_exc
from taskflow import task
from taskflow.patterns import linear_flow

from heat_taskflow.common import polling, states
from heat_taskflow.flows import sync_points, tasks
from heat_taskflow.jobs import base as jobs
from heat_taskflow.persistence import database as db_database

LOG = logging.getLogger(__name__)

# What the action step tells propagate.
RAN = 'ran'              # the action succeeded: propagate to the dependents
SKIP = 'skip'            # the traversal is over, or the node already done: do nothing
FAILED = 'failed'        # the action failed: fail the traversal
# What the wait for older actions answers when the resource is free.
GO = object()

# Seconds between looks at an older traversal's action this node waits for.
LOCK_POLL = 0.1


class NodeRetry(tf_exc.ExecutionFailure):
    """Bookkeeping of a node failed (database, job board): hand the job back to be retried.

    An ExecutionFailure: TaskFlow's conductor then abandons the job instead of consuming
    it, and the conductor counts the attempt against ``[conductor] max_attempts``.
    """


class BoardRetry(NodeRetry):
    """The job board failed for a while (jobs.is_transient) while the node posted its
    dependents or read the board: hand the job back, and the conductor gives the attempt
    back too - the board's outage is not the job's failure (docs/chaos.md, rule 1). The
    re-run is safe: propagation is idempotent, and it posts what this run may have lost."""


def _retry(message, err):
    """The NodeRetry for an error of a node's bookkeeping: a BoardRetry when the error is
    a job board outage."""
    return (BoardRetry if jobs.is_transient(err) else NodeRetry)(message)


# The name under which a node flow's engine gets its NodeServices.
SERVICES = 'services'


class NodeServices(abc.ABC):
    """What a node needs of the engine layer (implemented by engine/distributed.py)."""

    database = None
    stopping = None         # a threading.Event set while the conductor stops, or None

    @abc.abstractmethod
    def runtime(self, stack_id, traversal_id):
        """The OperationRuntime of a traversal (shared by the jobs of this process)."""

    @abc.abstractmethod
    def post(self, stack_id, traversal_id, node_keys):
        """Post jobs for nodes of a traversal."""

    @abc.abstractmethod
    def post_missing(self, stack_id, traversal_id, node_keys):
        """Post jobs for those of the nodes that have no job on the board."""

    @abc.abstractmethod
    def traversal_completed(self, stack_id, traversal_id):
        """Finish a traversal whose every node is done (outputs, stack COMPLETE)."""

    @abc.abstractmethod
    def traversal_failed(self, stack_id, traversal_id, node_key, reason):
        """Fail a traversal because of one node (its rollback, or stack FAILED)."""

    def running(self, stack_id, nodes):
        """Those of the (traversal id, node key) pairs whose job a conductor holds now
        (claimed on the job board); the rest are not running, whatever their sync points
        say (a conductor died, and its claim expired)."""
        return list(nodes)


class NodeActionTask(tasks.ResourceActionTask):
    """The resource action of one node, run only while its traversal is live."""

    default_provides = 'outcome'
    skip_if_superseded = False      # checked below, before waiting for older actions

    def execute(self, services):
        database = services.database
        key = self.node.key
        try:
            state = sync_points.node(database, self.stack_id, self.traversal_id, key)
            target = sync_points.stack(database, self.stack_id, self.traversal_id)
        except Exception as err:
            raise NodeRetry('node %s: reading sync points: %s' % (key, err)) from err
        if state is None or target is None or state['done']:
            return {'result': SKIP}
        outcome = target['outcome']
        if outcome is not None:
            if outcome['status'] == states.FAILED and outcome['by'] == key:
                # This node failed the traversal before a crash: finish that job.
                return {'result': FAILED, 'reason': outcome['reason']}
            return {'result': SKIP}
        try:
            runtime = services.runtime(self.stack_id, self.traversal_id)
            superseded = runtime.superseded()
        except Exception as err:
            raise NodeRetry('node %s: loading traversal %s: %s'
                            % (key, self.traversal_id, err)) from err
        if superseded:
            LOG.info('stack %s traversal %s superseded: %s does nothing',
                     runtime.stack.name, self.traversal_id, key)
            return {'result': SKIP}
        try:
            waited = self._wait_for_older(services, database, runtime)
        except NodeRetry:
            raise
        except Exception as err:
            # services.running() reads the job board's claims.
            raise _retry('node %s: waiting for older actions: %s' % (key, err), err) from err
        if waited is not None:
            return waited
        try:
            self.act(runtime)
        except Exception as err:  # noqa: BLE001 - any action failure fails the traversal
            LOG.info('stack %s traversal %s: %s failed: %s', runtime.stack.name,
                     self.traversal_id, key, err)
            return {'result': FAILED,
                    'reason': db_database.error_message(err) or err.__class__.__name__}
        return {'result': RAN}

    def _wait_for_older(self, services, database, runtime):
        """Wait while a node of an older traversal of the stack (one a redirect or cancel
        swapped away) still acts on this node's resource: its action runs to its end, then
        this node starts from the state it left. None to go on; a SKIP outcome when this
        traversal is swapped away meanwhile, a FAILED one at the deadline.

        The lock is the older node's sync point (job started, not done) together with its
        job's claim on the board: a conductor that died leaves its sync point started, but
        its claim expires, and whichever conductor claims the job again finds its traversal
        superseded and does nothing - so the resource is free as soon as the claim is gone.
        The wait holds this job (and its one attempt) in the conductor; a conductor that
        stops hands it back without counting an attempt.
        """
        name = self.node.name
        busy = []

        def free():
            # GO once no older action holds the resource; a SKIP outcome once this
            # traversal is swapped away while it waits.
            if busy and runtime.superseded():
                return {'result': SKIP}
            held = sync_points.others_in_flight(database, self.stack_id, self.traversal_id,
                                                name)
            if held:
                held = services.running(self.stack_id, held)
            if not held:
                return GO
            if not busy:
                LOG.info('stack %s traversal %s: %s waits for %s to end', runtime.stack.name,
                         self.traversal_id, self.node.key,
                         ', '.join('%s (traversal %s)' % (k, t) for t, k in held))
            busy[:] = held
            return None

        try:
            outcome = polling.wait_until(free, LOCK_POLL, stop_event=services.stopping,
                                         timed_out=runtime.timed_out)
        except polling.Stopped:
            raise NodeRetry('conductor stopping while %s waits for %s'
                            % (self.node.key, busy[0][1])) from None
        except polling.TimedOut:
            return {'result': FAILED,
                    'reason': "resource '%s': the stack operation timed out waiting for "
                              'an earlier operation\'s %s' % (name, busy[0][1])}
        return None if outcome is GO else outcome


class PropagateTask(task.Task):
    """Tells the node's dependents (or the stack) that it is done, posting the ready ones."""

    def __init__(self, stack_id, traversal_id, node_key):
        super().__init__(name='propagate')
        self.stack_id = stack_id
        self.traversal_id = traversal_id
        self.node_key = node_key

    def execute(self, outcome, services):
        try:
            self._propagate(outcome, services)
        except NodeRetry:
            raise
        except Exception as err:
            # Posting the dependents, or ending the traversal (which may post its rollback
            # or a follow-up), meets the job board: its outage is a BoardRetry.
            raise _retry('node %s: propagating: %s' % (self.node_key, err), err) from err

    def _propagate(self, outcome, services):
        result = outcome['result']
        database = services.database
        key = self.node_key
        if sync_points.superseded(database, self.stack_id, self.traversal_id):
            # Swapped away (redirect, cancel, rollback): propagate nothing, end nothing. The
            # last of its nodes to finish drops the traversal's sync points (jobs of it not
            # started yet then find nothing to do).
            sync_points.mark_done(database, self.traversal_id, key)
            if not sync_points.in_flight(database, self.stack_id, self.traversal_id):
                sync_points.delete(database, self.stack_id, self.traversal_id)
            return
        if result == SKIP:
            sync_points.mark_done(database, self.traversal_id, key)
            return
        if result == FAILED:
            if sync_points.claim_failure(database, self.stack_id, self.traversal_id, key,
                                         outcome['reason']):
                services.traversal_failed(self.stack_id, self.traversal_id, key,
                                        outcome['reason'])
            sync_points.mark_done(database, self.traversal_id, key)
            return
        state = sync_points.node(database, self.stack_id, self.traversal_id, key)
        if state is None:
            return
        ready, maybe_lost = [], []
        for dep in state['dependents']:
            verdict = sync_points.satisfy(database, self.traversal_id, dep, key)
            if verdict == sync_points.POST:
                ready.append(dep)
            elif verdict == sync_points.MAYBE_LOST:
                maybe_lost.append(dep)
        if ready:
            services.post(self.stack_id, self.traversal_id, ready)
        if maybe_lost:
            # A re-run: an earlier run of this node flipped these, then may have died
            # before posting them.
            services.post_missing(self.stack_id, self.traversal_id, maybe_lost)
        if not state['dependents'] and sync_points.satisfy_stack(
                database, self.stack_id, self.traversal_id, key):
            services.traversal_completed(self.stack_id, self.traversal_id)
        sync_points.mark_done(database, self.traversal_id, key)

    def revert(self, *args, **kwargs):
        return None


def build(stack_id, traversal_id, node_key):
    """The flow of one node's job (a flow factory: plain arguments only)."""
    flow = linear_flow.Flow('node-%s' % node_key)
    flow.add(NodeActionTask(stack_id, traversal_id, node_key),
             PropagateTask(stack_id, traversal_id, node_key))
    return flow

