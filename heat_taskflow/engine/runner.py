"""The door between StackEngine and the two paths that run a traversal's graph.

StackEngine (engine/operations.py) claims a traversal, compiles its graph and builds its
runtime; the stack's Runner runs it. ``LegacyRunner`` (engine/legacy.py) runs the whole
graph in the calling process and returns when it has ended; ``DistributedRunner``
(engine/distributed.py) posts the root nodes as jobs and returns at once, and the conductor
that runs the last node (or the first failed one) ends the traversal. Either way a
traversal ends through ``StackEngine.complete`` or ``StackEngine.fail``.
"""

import abc


class Runner(abc.ABC):
    """Runs the traversals of the stacks on one path."""

    #: The path's name: the key of StackEngine's runners ('legacy' or 'distributed').
    path = None

    #: Seconds between the heartbeats of a traversal this runner runs in this process
    #: (how a resumer tells an interrupted traversal from a running one); None where
    #: liveness is not a heartbeat (the distributed path: claims on the job board).
    heartbeat_interval = None

    @abc.abstractmethod
    def start(self, runtime, graph):
        """Run a claimed traversal's graph: True when it ended within the call (the
        caller completes it; an action's failure raises), False when it goes on
        elsewhere (whoever finishes its last node ends it)."""

    @abc.abstractmethod
    def resume(self, engine, stack, on_event=None):
        """Go on with the stack's interrupted traversal (the stack is IN_PROGRESS) and end
        it as its first run would have; returns (stack row, node keys posted again, or
        None when the traversal ran here). Raises resume.StillRunning when the traversal
        is not interrupted."""

    def runs_in_background(self, stack):
        """Whether this runner runs the stack's traversals on a background thread (then
        StackEngine hands them to submit() and returns at once)."""
        return False

    def submit(self, runtime, work):
        """Run work() (the traversal's run and end) on a background thread, the stack
        held by this process meanwhile; returns at once. Only for the stacks
        runs_in_background says so of."""
        raise NotImplementedError('%s runs no traversal in the background' % self.path)
