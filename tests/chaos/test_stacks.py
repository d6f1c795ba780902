"""The chaos workload's shapes: seeded, within their limits, every update a real change, and
templates the engine validates (the storm itself proves they deploy: tests/chaos/test_chaos.py)."""

import random

import yaml

from heat_taskflow.template.stack import StackDefinition
from heat_taskflow.template.template import Template
from tests.chaos import stacks

NODE_PARAMS = {'name': 'n', 'network': 'net', 'subnet': 'sub', 'tag': 't0', 'gen': '0',
               'size': '1'}


def _shapes(seed, n=40):
    rng = random.Random(seed)
    return [stacks.new_shape(rng, broken=rng.random() < 0.2) for _ in range(n)]


def _references(node):
    """Every get_resource target in a template snippet."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'get_resource':
                yield value
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_a_seed_fixes_the_shapes_and_their_changes():
    def draw(seed):
        rng = random.Random(seed)
        shape = stacks.new_shape(rng)
        return [shape] + [stacks.change(rng, shape) for _ in range(10)]

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)


def test_shapes_and_changes_stay_within_limits_and_always_change_something():
    rng = random.Random(1)
    seen = set()
    for shape in _shapes(1):
        for _ in range(30):
            new, what = stacks.change(rng, shape)
            seen.add((shape['kind'], what))
            assert new != dict(shape, broken=False), (shape, what)
            for knob, (low, high) in stacks.LIMITS.items():
                if knob in new:
                    assert low <= new[knob] <= high, (knob, new)
            shape = new
    assert seen == {(kind, what) for kind in ('flat', 'group')
                    for what in ('in-place', 'counts', 'replace')}


def test_templates_parse_and_name_only_what_they_define():
    for shape in _shapes(2) + [dict(s, broken=True) for s in _shapes(3, 5)]:
        files = stacks.render('chaos-x', shape)
        assert set(files) == ({'stack.yaml', 'node.yaml'} if shape['kind'] == 'group'
                              else {'stack.yaml'})
        StackDefinition(Template.parse(files['stack.yaml']), files=files).validate()
        if 'node.yaml' in files:
            StackDefinition(Template.parse(files['node.yaml']), params=NODE_PARAMS).validate()
        resources = yaml.safe_load(files['stack.yaml'])['resources']
        refs = set(_references(resources))
        assert refs <= set(resources), (shape, refs - set(resources))
        assert ('broken_ip' in resources) == shape['broken']
