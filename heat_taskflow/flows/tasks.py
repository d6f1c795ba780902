"""The TaskFlow task that performs one node of an operation graph, and the flows made of them.

A flow is built from plain values (``build_flow``: a flow factory TaskFlow stores and calls
again on resume); the traversal's OperationRuntime reaches its tasks as the ``runtime``
argument, which whoever loads the flow's engine injects (transient: never persisted).
"""

import collections

from taskflow import task
from taskflow.patterns import graph_flow
from taskflow.types import graph as tf_graph
from taskflow.types import sets as tf_sets

from heat_taskflow.flows import actions
from heat_taskflow.flows import graph as graph_mod

# The name under which a flow's engine gets the traversal's OperationRuntime.
RUNTIME = 'runtime'

_ACTIONS = {
    graph_mod.CONVERGE: lambda rt, node: actions.converge(rt, node.name),
    graph_mod.CLEANUP: lambda rt, node: actions.cleanup(rt, node.name, node.row_id),
    graph_mod.CHECK: lambda rt, node: actions.check(rt, node.name),
}


class ResourceActionTask(task.Task):
    """Performs one resource action of one traversal.

    The task holds only plain values (stack id, traversal id, node key), so TaskFlow can
    rebuild it from a stored flow detail in another process; the runtime is an argument
    (RUNTIME) the runner injects into the flow's engine.
    """

    # A legacy traversal swapped away (stack cancel) starts no action: each task looks at
    # the stack row first. (A distributed node checks for itself, with its sync points.)
    skip_if_superseded = True

    def __init__(self, stack_id, traversal_id, node_key):
        super().__init__(name=node_key)
        self.stack_id = stack_id
        self.traversal_id = traversal_id
        self.node = graph_mod.Node.from_key(node_key)

    # TaskFlow reflects on execute() and revert() (inspect.signature) for every instance it
    # builds; every instance of a class maps the same arguments (none), so map once per class.
    _arg_mappings = {}

    def _build_arg_mapping(self, executor, requires=None, rebind=None, auto_extract=True,
                           ignore_list=None):
        if requires is not None or rebind is not None or self.inject:
            return super()._build_arg_mapping(executor, requires, rebind, auto_extract,
                                              ignore_list)
        key = (type(self), executor.__name__, auto_extract, tuple(ignore_list or ()))
        mapping = self._arg_mappings.get(key)
        if mapping is None:
            mapping = super()._build_arg_mapping(executor, requires, rebind, auto_extract,
                                                 ignore_list)
            self._arg_mappings[key] = mapping
        rebound, required, optional = mapping
        # Fresh containers: an atom may change its own.
        return (collections.OrderedDict(rebound), tf_sets.OrderedSet(required),
                tf_sets.OrderedSet(optional))

    def execute(self, runtime):
        self.act(runtime)

    def act(self, runtime):
        """Perform the node's resource action in the traversal's runtime."""
        if runtime.timed_out():
            # Past the deadline no action starts (a watchdog fails the traversal, or has
            # failed it already while an action of it hangs).
            raise actions.OperationTimeout(
                self.node.name, runtime.action,
                "resource '%s' not started: the stack operation timed out" % self.node.name)
        if self.skip_if_superseded and runtime.superseded_lately():
            return
        runtime.start_node()
        try:
            _ACTIONS[self.node.kind](runtime, self.node)
        finally:
            runtime.node_done()

    def revert(self, *args, **kwargs):
        # Stored state already says what happened; rollback is a traversal of its own
        # (converge to the previous template), never an undo of single tasks.
        return None


def graph_spec(graph):
    """A JSON-able form of an operation graph: [[node key, [required keys]], ...]."""
    return [[node.key, sorted(req.key for req in reqs)] for node, reqs in graph.requires.items()]


# Most nodes one TaskFlow flow holds. TaskFlow's compile merges a flow's children one at a
# time (quadratic in them) and its scheduler walks every descendant of a finished task, so a
# traversal runs as a sequence of flows of whole dependency levels of at most this many nodes
# (bench/history.md has the figures that chose it).
CHUNK_SIZE = 250


class ResourceGraphFlow(graph_flow.Flow):
    """A graph flow that takes all its links at once: one graph copy and one acyclicity
    check, where graph_flow.Flow.link() copies the graph and checks it for every edge."""

    def link_all(self, edges):
        """Link every (u, v) pair: v runs after u."""
        graph = tf_graph.DiGraph(self._graph)
        for u, v in edges:
            self._link(u, v, graph=graph, manual=True)
        self._swap(graph)
        return self


def build_flow(stack_id, traversal_id, spec, part=None):
    """The TaskFlow graph flow of a traversal or of one part of it (a flow factory: plain
    arguments only). Requirements on nodes outside ``spec`` are satisfied beforehand."""
    name = 'stack-%s-traversal-%s' % (stack_id, traversal_id)
    if part is not None:
        name += '-part-%d' % part
    flow = ResourceGraphFlow(name)
    tasks = {key: ResourceActionTask(stack_id, traversal_id, key) for key, _ in spec}
    flow.add(*tasks.values(), resolve_requires=False, resolve_existing=False)
    flow.link_all((tasks[req], tasks[key]) for key, reqs in spec for req in reqs
                  if req in tasks)
    return flow


def levels(spec):
    """The spec's nodes by dependency level (a node's level is one more than the highest
    level it requires), in spec order within a level."""
    requires = {key: reqs for key, reqs in spec}
    level = {}
    for key in graph_mod.topological_order(requires):
        level[key] = 1 + max((level[r] for r in requires[key]), default=-1)
    out = [[] for _ in range(1 + max(level.values(), default=-1))]
    for key, _ in spec:
        out[level[key]].append(key)
    return out


def split_spec(spec, size=None):
    """The spec as consecutive parts of at most ``size`` nodes, each made of whole levels
    (a level larger than ``size`` is cut: its nodes do not require one another). Running
    the parts in order satisfies every requirement."""
    size = size or CHUNK_SIZE
    requires = dict((key, reqs) for key, reqs in spec)
    parts, current = [], []
    for level in levels(spec):
        if current and len(current) + len(level) > size:
            parts.append(current)
            current = []
        for start in range(0, len(level), size):
            piece = level[start:start + size]
            if current and len(current) + len(piece) > size:
                parts.append(current)
                current = []
            current.extend(piece)
    if current:
        parts.append(current)
    return [[[key, [r for r in requires[key] if r in members]] for key in part]
            for part, members in ((p, set(p)) for p in parts)]
