"""Tests for heat_taskflow.flows.tasks: flows built in one pass, traversals split in parts."""

import pytest
from taskflow import exceptions as tf_exc

from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.flows import tasks


def _layered(n, width):
    deps = {}
    for i in range(n):
        layer, col = divmod(i, width)
        deps['r%d' % i] = [] if layer == 0 else [
            'r%d' % ((layer - 1) * width + col), 'r%d' % ((layer - 1) * width + (col + 1) % width)]
    return tasks.graph_spec(graph_mod.compile_converge(deps, []))


def test_build_flow_links_every_requirement():
    spec = _layered(12, 4)
    flow = tasks.build_flow('s', 't', spec)
    links = {(u.name, v.name) for u, v, _ in flow.iter_links()}
    assert links == {(req, key) for key, reqs in spec for req in reqs}
    assert len(flow) == 12


def test_link_all_refuses_a_cycle():
    flow = tasks.ResourceGraphFlow('f')
    a, b = (tasks.ResourceActionTask('s', 't', 'converge:%s' % n) for n in 'ab')
    flow.add(a, b)
    with pytest.raises(tf_exc.DependencyFailure):
        flow.link_all([(a, b), (b, a)])


def test_levels_follow_the_longest_requirement_chain():
    spec = [['a', []], ['b', ['a']], ['c', ['a', 'b']], ['d', []]]
    assert tasks.levels(spec) == [['a', 'd'], ['b'], ['c']]


@pytest.mark.parametrize('n,width,size', [(12, 4, 5), (100, 10, 25), (30, 30, 7), (7, 1, 3)])
def test_split_spec_parts_are_small_complete_and_in_dependency_order(n, width, size):
    spec = _layered(n, width)
    parts = tasks.split_spec(spec, size=size)
    assert all(0 < len(part) <= size for part in parts)
    seen = set()
    full = dict((k, set(r)) for k, r in spec)
    for part in parts:
        keys = {key for key, _ in part}
        for key, reqs in part:
            # Requirements outside the part ran in an earlier part; those inside are kept.
            assert full[key] - keys <= seen
            assert set(reqs) == full[key] & keys
        seen |= keys
    assert seen == set(full)


def test_split_spec_of_nothing_is_no_part():
    assert tasks.split_spec([]) == []


def test_task_argument_mapping_is_taskflows_and_not_shared():
    from taskflow import task as tf_task

    class Reflected(tf_task.Task):       # TaskFlow's own mapping, by reflection
        execute = tasks.ResourceActionTask.execute
        revert = tasks.ResourceActionTask.revert

    expected = Reflected(name='x')
    first = tasks.ResourceActionTask('s', 't', 'converge:a')
    second = tasks.ResourceActionTask('s', 't', 'converge:b')
    for built in (first, second):
        assert (built.rebind, built.requires, built.optional, built.revert_rebind,
                built.revert_optional) == (
            expected.rebind, expected.requires, expected.optional, expected.revert_rebind,
            expected.revert_optional)
    assert first.rebind is not second.rebind and first.requires is not second.requires
