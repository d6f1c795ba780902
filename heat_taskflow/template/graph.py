"""Dependency graphs between resources: cycle finding and ordering, linear in size."""


def find_cycle(deps):
    """A list of names forming a cycle ``[a, b, ..., a]`` in ``{name: requires}``, or None.

    Iterative depth-first search (a long chain of resources must not hit the recursion
    limit); names are visited in the mapping's order so the answer is deterministic.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(deps, white)
    for start in deps:
        if colour[start] != white:
            continue
        colour[start] = grey
        path = [start]
        iters = [iter(_ordered(deps[start]))]
        while iters:
            advanced = False
            for nxt in iters[-1]:
                state = colour.get(nxt)
                if state is None or state == black:
                    continue
                if state == grey:
                    return path[path.index(nxt):] + [nxt]
                colour[nxt] = grey
                path.append(nxt)
                iters.append(iter(_ordered(deps[nxt])))
                advanced = True
                break
            if not advanced:
                colour[path.pop()] = black
                iters.pop()
    return None


def _ordered(names):
    # frozensets iterate in hash order, which varies between runs for strings
    return sorted(names) if isinstance(names, (set, frozenset)) else names


def topological_order(deps):
    """Names ordered so each comes after everything it requires (Kahn's algorithm).

    Names with no order between them keep the mapping's order. Assumes no cycle.
    """
    remaining = {name: len([d for d in reqs if d in deps]) for name, reqs in deps.items()}
    dependents = {name: [] for name in deps}
    for name, reqs in deps.items():
        for dep in reqs:
            if dep in dependents:
                dependents[dep].append(name)
    ready = [name for name in deps if remaining[name] == 0]
    order = []
    i = 0
    while i < len(ready):
        name = ready[i]
        i += 1
        order.append(name)
        for user in dependents[name]:
            remaining[user] -= 1
            if remaining[user] == 0:
                ready.append(user)
    return order
