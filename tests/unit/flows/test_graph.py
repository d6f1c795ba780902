"""Tests for heat_taskflow.flows.graph: compiling operations into resource-action graphs."""

import pytest

from heat_taskflow.flows import graph as g


def C(name):
    return g.Node(g.CONVERGE, name)


def D(name, row_id):
    return g.Node(g.CLEANUP, name, row_id)


def order(graph):
    return {n: i for i, n in enumerate(graph.topological())}


def test_create_has_only_converge_nodes_in_dependency_order():
    graph = g.compile_converge({'net': [], 'subnet': ['net'], 'server': ['subnet', 'net']}, [])
    assert set(graph.nodes) == {C('net'), C('subnet'), C('server')}
    pos = order(graph)
    assert pos[C('net')] < pos[C('subnet')] < pos[C('server')]
    assert graph.roots() == [C('net')]


def test_delete_cleans_up_in_reverse_dependency_order():
    stored = [g.StoredResource(1, 'net'), g.StoredResource(2, 'subnet', (1,)),
              g.StoredResource(3, 'server', (2, 1))]
    graph = g.compile_converge({}, stored)
    assert set(graph.nodes) == {D('net', 1), D('subnet', 2), D('server', 3)}
    pos = order(graph)
    assert pos[D('server', 3)] < pos[D('subnet', 2)] < pos[D('net', 1)]


def test_update_old_row_outlives_update_of_its_dependents():
    # server depends on port; port may be replaced: old port goes only after server moved.
    stored = [g.StoredResource(1, 'port'), g.StoredResource(2, 'server', (1,))]
    graph = g.compile_converge({'port': [], 'server': ['port']}, stored)
    pos = order(graph)
    assert pos[C('port')] < pos[C('server')] < pos[D('port', 1)]
    assert pos[D('server', 2)] < pos[D('port', 1)]
    assert D('port', 1) in graph.nodes and C('server') in graph.requires[D('port', 1)]


def test_removed_resource_is_deleted_after_its_former_dependents_converge():
    stored = [g.StoredResource(1, 'old'), g.StoredResource(2, 'user', (1,))]
    graph = g.compile_converge({'user': []}, stored)
    pos = order(graph)
    assert pos[C('user')] < pos[D('user', 2)] < pos[D('old', 1)]


def test_replaced_rows_from_earlier_traversals_get_cleanup_nodes():
    stored = [g.StoredResource(1, 'a', current=False), g.StoredResource(2, 'a')]
    graph = g.compile_converge({'a': []}, stored)
    assert {D('a', 1), D('a', 2), C('a')} == set(graph.nodes)


def test_dependency_on_unknown_target_resource_is_refused():
    with pytest.raises(ValueError, match='ghost'):
        g.compile_converge({'a': ['ghost']}, [])


def test_cycle_is_detected_by_topological_order():
    graph = g.compile_converge({'a': ['b'], 'b': ['a']}, [])
    with pytest.raises(ValueError, match='cycle'):
        graph.topological()


def test_check_graph_follows_dependencies():
    graph = g.compile_check({'a': [], 'b': ['a']})
    assert graph.requires[g.Node(g.CHECK, 'b')] == {g.Node(g.CHECK, 'a')}


def test_node_keys_round_trip():
    for node in (C('web'), D('web', 12), g.Node(g.CHECK, 'x'), D('name:with:colons', 3)):
        assert g.Node.from_key(node.key) == node


def test_compile_is_linear_in_edges_for_a_large_layered_graph():
    # 5000 resources, width 50, two deps each: the graph must be built without quadratic
    # work; this asserts structure (node and edge counts), not time.
    deps = {}
    width = 50
    for i in range(5000):
        layer, pos = divmod(i, width)
        deps['r%d' % i] = [] if layer == 0 else [
            'r%d' % ((layer - 1) * width + pos), 'r%d' % ((layer - 1) * width + (pos + 1) % width)]
    graph = g.compile_converge(deps, [])
    assert len(graph) == 5000
    assert sum(len(r) for r in graph.requires.values()) == 2 * (5000 - width)
    assert len(graph.topological()) == 5000


def test_topological_order_puts_each_key_after_what_it_requires():
    requires = {'c': ['b'], 'b': ['a'], 'a': [], 'd': ['a', 'c']}
    order = g.topological_order(requires)
    assert sorted(order) == ['a', 'b', 'c', 'd']
    assert all(order.index(r) < order.index(k) for k, reqs in requires.items() for r in reqs)


def test_topological_order_names_the_cycle():
    with pytest.raises(ValueError, match=r'cycle: converge:(a -> converge:b|b -> converge:a)'):
        g.compile_converge({'a': ['b'], 'b': ['a']}, []).topological()
