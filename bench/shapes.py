"""Benchmark stack shapes: template texts and the dependency map the same shape has.

``indep``: N independent OS::Heat::TestResource. ``dag``: layers of ``width``, each resource
reading (get_attr) two resources of the layer before. The update template changes the
``value`` property of every resource; the latency variant waits ``create_wait`` seconds in
every create (TestResource's action_wait_secs, polled, never slept).
"""

SHAPES = ('indep', 'dag')
WIDTH = 50

_HEADER = 'heat_template_version: 2018-08-31\nresources:\n'


def requires(shape, n, width=WIDTH):
    """{index: (indices it requires)} for a shape of n resources."""
    if shape == 'indep':
        return {i: () for i in range(n)}
    if shape != 'dag':
        raise ValueError('unknown shape %r' % shape)
    out = {}
    for i in range(n):
        layer, col = divmod(i, width)
        if layer == 0:
            out[i] = ()
        else:
            prev = (layer - 1) * width
            out[i] = tuple(sorted({prev + col, prev + (col + 1) % width}))
    return out


def depth(shape, n, width=WIDTH):
    """Number of layers (the longest dependency chain)."""
    return 1 if shape == 'indep' else -(-n // width)


def template(shape, n, version=1, width=WIDTH, create_wait=None):
    """HOT text of the shape; ``version`` changes the value property of every resource."""
    parts = [_HEADER]
    for i, reqs in requires(shape, n, width).items():
        parts.append('  r%d:\n    type: OS::Heat::TestResource\n    properties:\n'
                     '      value: v%d-%d\n' % (i, version, i))
        if create_wait is not None:
            parts.append('      action_wait_secs: {create: %s}\n' % create_wait)
        for prop, req in zip(('client_name', 'entity_name'), reqs, strict=False):
            parts.append('      %s: {get_attr: [r%d, output]}\n' % (prop, req))
    return ''.join(parts)
