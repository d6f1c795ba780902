"""Dependency graphs between resources, on the standard library's ``graphlib``.

A graph is ``{name: requires}`` (an iterable of names, a frozenset or a list); names a
node requires that are not keys of the mapping are ignored. Both answers are
deterministic: ties keep the mapping's order, and sets are read sorted.
"""

import graphlib


def find_cycle(deps):
    """A list of names forming a cycle ``[a, b, ..., a]`` (each requires the next), or None."""
    try:
        _sorter(deps, reverse=True).prepare()
    except graphlib.CycleError as exc:
        return exc.args[1]
    return None


def topological_order(deps):
    """Names ordered so each comes after everything it requires; a cycle raises CycleError.

    Names with no order between them keep the mapping's order.
    """
    return list(_sorter(deps).static_order())


def _sorter(deps, reverse=False):
    """A TopologicalSorter over ``deps``; ``reverse`` turns every edge round.

    graphlib looks for a cycle walking from each node (in the order they were added) to
    the nodes after it; reversed, that walk follows what each name requires, so the
    cycle named starts at the first name of the mapping that is on one.
    """
    sorter = graphlib.TopologicalSorter()
    for name in deps:
        # every name first, so that names are ready in the mapping's order
        sorter.add(name)
    for name, reqs in deps.items():
        for dep in _ordered(reqs):
            if dep in deps:
                if reverse:
                    sorter.add(dep, name)
                else:
                    sorter.add(name, dep)
    return sorter


def _ordered(names):
    # frozensets iterate in hash order, which varies between runs for strings
    return sorted(names) if isinstance(names, (set, frozenset)) else names
