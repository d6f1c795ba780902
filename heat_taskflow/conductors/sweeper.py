"""The lost-post sweep: post again the jobs a distributed traversal should have and does not.

A node's sync point says when it should have a job (``posted`` and not ``done``); the job
board may not hold one: the process that created a traversal's sync points died (or met a
job board outage longer than its retries) before it posted the roots, a conductor died
between a dependent's flip and its post, or ZooKeeper lost its data. Every conductor's
watchdog pass sweeps (docs/chaos.md, rule 2): for each distributed stack IN_PROGRESS whose
traversal has not ended, the nodes that should have a job and have none on the board in two
consecutive passes are posted again.

- The board is read once per pass (one iterjobs for every stack), not once per stack.
- A traversal whose sync points are younger than a grace is skipped: its starter may still
  be posting (retrying through an outage for up to ``[jobboard] post_retry_timeout``).
- A node counts as lost only if it is missing in two consecutive passes with the same
  repost generation (sync_points.pending_reposts), and it is posted only by the sweep that
  wins the compare-and-swap of that generation (sync_points.claim_repost): two conductors
  never both post one lost node. A claim whose post is lost in turn (a crash, another
  outage) is found again two passes later, at the next generation.
"""

import logging
import time

from heat_taskflow.common import states
from heat_taskflow.flows import sync_points
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.persistence import api as db

LOG = logging.getLogger(__name__)


class LostPostSweeper:
    """One conductor's sweep of lost posts; ``sweep()`` once per watchdog pass."""

    def __init__(self, conf, database, runner, name):
        self.conf = conf
        self.database = database
        self.runner = runner        # a DistributedRunner: the board read and the posts
        self.name = name
        # (traversal id, node key): repost generation, of the nodes the last pass found
        # without a job.
        self._missing = {}

    def grace(self):
        """Seconds after a traversal's sync points were stored before it is swept: its
        starter's retries, a post blocked until its session expires, and a pass."""
        return (self.conf.jobboard.post_retry_timeout + self.conf.jobboard.session_timeout
                + self.conf.conductor.watchdog_interval)

    def sweep(self, now=None, stopping=None):
        """Post again the nodes found lost in this pass and the previous one (each after
        winning its claim); returns the (stack id, traversal id, node key) posted. ``now``
        (a time.time() value) is for tests; ``stopping`` an Event that ends the pass."""
        now = time.time() if now is None else now
        candidates = self._candidates(now, stopping)
        if candidates is None:
            return []           # nothing read from the board: the previous pass stands
        missing, posted = {}, []
        for (stack, traversal_id, key), generation in candidates.items():
            if stopping is not None and stopping.is_set():
                break
            if self._missing.get((traversal_id, key)) != generation:
                missing[(traversal_id, key)] = generation      # first sighting
                continue
            if not sync_points.claim_repost(self.database, traversal_id, key, generation):
                continue        # another conductor's sweep took it, or it was done
            LOG.warning('%s: stack %s (%s) traversal %s: %s has no job on the board; '
                        'posting it again', self.name, stack.name, stack.id, traversal_id,
                        key)
            try:
                self.runner.post(stack.id, traversal_id, [key], stack.name)
            except Exception as err:  # noqa: BLE001 - found again, next generation
                LOG.warning('%s: stack %s traversal %s: posting %s failed: %s', self.name,
                            stack.name, traversal_id, key, err)
                if jobboards.is_transient(err):
                    break       # the board is down: the rest waits for a later pass
                continue
            posted.append((stack.id, traversal_id, key))
        self._missing = missing
        return posted

    def _candidates(self, now, stopping):
        """{(stack row, traversal id, node key): repost generation} of the nodes that
        should have a job and have none on the board now; None when the board could not
        be read."""
        found = {}
        for stack in _in_progress(self.database):
            if stopping is not None and stopping.is_set():
                return None
            traversal_id = stack.current_traversal
            target, started = sync_points.stack_started(self.database, stack.id,
                                                        traversal_id)
            if target is None or target.get('outcome') is not None:
                continue        # not started, or ending (the watchdog's business)
            if now < started + self.grace():
                continue        # its starter may still be posting
            for key, generation in sync_points.pending_reposts(
                    self.database, stack.id, traversal_id).items():
                found[(stack, traversal_id, key)] = generation
        if not found:
            return {}
        # After the sync points: a job posted meanwhile is on the board, and a node
        # posted and done meanwhile is not found lost again (its claim would fail).
        try:
            on_board = self.runner.nodes_on_board()
        except Exception as err:  # noqa: BLE001 - the next pass reads again
            if not jobboards.is_transient(err):
                raise
            LOG.info('%s: lost-post sweep skipped (job board unavailable: %s)', self.name,
                     err)
            return None
        return {k: g for k, g in found.items() if (k[1], k[2]) not in on_board}


def _in_progress(database):
    """Live distributed stacks IN_PROGRESS (nested ones too: each has its own traversal)."""
    return db.stack_list(database, None, include_nested=True, convergence=True,
                         status=states.IN_PROGRESS)
