"""The graph of resource actions one stack operation performs, compiled from state and target.

Every operation is "converge the stack to a target definition": create is converging from
nothing, delete is converging to nothing, update and rollback converge to a new or previous
template. The graph has two kinds of node, as in Heat's convergence engine:

- ``converge(name)``: bring the resource called *name* to its target definition (create it,
  update it in place, or create a replacement). It runs after the converge nodes of the
  resources it requires in the target definition.
- ``cleanup(row)``: one per stored resource row. It deletes the row's real resource when the
  row is no longer current (its name left the template, or it was replaced during this
  traversal) and does nothing otherwise. It runs after every converge node that may have
  moved a dependent off it, and after the cleanup of every row that required it, so deletion
  happens in reverse dependency order and an old resource outlives the update of everything
  that used it.

``check(name)`` nodes make up a check operation, in dependency order.

The graph is plain data: the legacy path renders it as one TaskFlow graph flow, the
distributed path posts each node as a job.
"""

import collections
import dataclasses
import graphlib

CONVERGE = 'converge'
CLEANUP = 'cleanup'
CHECK = 'check'


@dataclasses.dataclass(frozen=True)
class Node:
    """One resource action: its kind, the resource name and, for cleanup, the row id."""

    kind: str
    name: str
    row_id: int | None = None

    @property
    def key(self):
        """A string naming the node uniquely within its graph (used as task and job name)."""
        if self.kind == CLEANUP:
            return '%s:%s:%d' % (self.kind, self.name, self.row_id)
        return '%s:%s' % (self.kind, self.name)

    @classmethod
    def from_key(cls, key):
        """The Node a key() string names."""
        kind, rest = key.split(':', 1)
        if kind == CLEANUP:
            name, row_id = rest.rsplit(':', 1)
            return cls(kind, name, int(row_id))
        return cls(kind, rest)


@dataclasses.dataclass(frozen=True)
class StoredResource:
    """What the compiler needs of a stored resource row."""

    id: int
    name: str
    requires: tuple = ()          # row ids it was converged against
    current: bool = True          # False once another row replaced it


class OperationGraph:
    """Nodes and the nodes each one requires; acyclic by construction."""

    def __init__(self):
        self.requires = {}            # Node -> set of Nodes that must finish first

    def add(self, node):
        """Add a node (idempotent)."""
        self.requires.setdefault(node, set())
        return node

    def link(self, node, required):
        """node runs after required."""
        self.requires[node].add(required)

    @property
    def nodes(self):
        """Every node, in insertion order."""
        return list(self.requires)

    def dependents(self):
        """Node -> set of nodes that require it."""
        out = {n: set() for n in self.requires}
        for node, reqs in self.requires.items():
            for req in reqs:
                out[req].add(node)
        return out

    def roots(self):
        """Nodes that require nothing: where a traversal starts."""
        return [n for n, reqs in self.requires.items() if not reqs]

    def topological(self):
        """Nodes in an order where each comes after all it requires."""
        return topological_order(self.requires)

    def __len__(self):
        return len(self.requires)


def topological_order(requires):
    """The keys of ``{key: keys it requires}`` in an order where each comes after all it
    requires; ValueError naming a cycle when there is one."""
    try:
        return list(graphlib.TopologicalSorter(requires).static_order())
    except graphlib.CycleError as err:
        cycle = ' -> '.join(str(getattr(n, 'key', n)) for n in err.args[1])
        raise ValueError('operation graph has a cycle: %s' % cycle) from None


def compile_converge(target_deps, stored):
    """The graph that converges stored rows to a target dependency map.

    ``target_deps``: {name: iterable of names it requires} for every resource of the target
    definition (empty for delete). ``stored``: StoredResource for every row of the stack.
    """
    missing = {req for reqs in target_deps.values() for req in reqs} - set(target_deps)
    if missing:
        raise ValueError('dependencies on resources not in the target: %s'
                         % ', '.join(sorted(missing)))
    graph = OperationGraph()
    target_dependents = collections.defaultdict(set)
    for name, reqs in target_deps.items():
        node = graph.add(Node(CONVERGE, name))
        for req in reqs:
            graph.link(node, Node(CONVERGE, req))
            target_dependents[req].add(name)

    rows = list(stored)
    by_id = {r.id: r for r in rows}
    cleanup = {r.id: graph.add(Node(CLEANUP, r.name, r.id)) for r in rows}
    for row in rows:
        node = cleanup[row.id]
        if row.name in target_deps:
            # The row may be replaced by converge(name); its dependents must move to the
            # replacement before the old one goes.
            graph.link(node, Node(CONVERGE, row.name))
            for dependent in target_dependents[row.name]:
                graph.link(node, Node(CONVERGE, dependent))
        for req_id in row.requires:
            if req_id in by_id and req_id != row.id:
                # Delete what used a row before the row itself.
                graph.link(cleanup[req_id], node)
    return graph


def compile_check(deps):
    """The graph of a check operation: check nodes in dependency order."""
    graph = OperationGraph()
    for name, reqs in deps.items():
        node = graph.add(Node(CHECK, name))
        for req in reqs:
            graph.link(node, graph.add(Node(CHECK, req)))
    return graph
