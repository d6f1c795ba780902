"""A job that only waits for its child stack does not use up attempts when its conductor
dies meanwhile (conductors/conductor.py _child_wait, sync_points.begin_attempt).

A nested stack resource's job is held for as long as its child stack's operation runs; with
conductors killed at random, that job's conductor dies far more often than a short job's,
though the job runs none of its own code while it waits. Its node's sync point says it
waits, and the next claim is then not counted against [conductor] max_attempts.
"""

import threading

import pytest
import yaml

from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.flows import sync_points
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness
from tests.unit.engine.helpers import res, sqlite_only, tmpl

pytestmark = sqlite_only


@pytest.fixture
def service(conf, database):
    with harness.zake_service(conf, database) as service:
        yield service


def _host(service, conf, database):
    """A settled stack, and a traversal of one node 'a' of it ('trav') no job runs."""
    with harness.conductors(conf, database, count=1):
        view = service.create_stack('host', tmpl({'x': res('x')}), 't.yaml')
        harness.settle(service, 'host')
    _traversal(database, view['id'])
    return view


def _traversal(database, stack_id):
    graph = graph_mod.compile_converge({'a': []}, [])
    sync_points.create(database, stack_id, 'trav', graph,
                       {'action': 'CREATE', 'template_id': None, 'deadline': None})


def test_a_claim_after_a_death_while_waiting_is_not_an_attempt(service, conf, database):
    view = _host(service, conf, database)
    assert sync_points.begin_attempt(database, 'trav', 'converge:a')['attempts'] == 1
    # The job's conductor dies while the action waits for its child stack.
    sync_points.set_waiting(database, 'trav', 'converge:a', True)
    again = sync_points.begin_attempt(database, 'trav', 'converge:a')
    assert again['attempts'] == 1 and not again['waiting']
    # A death while the job runs its own code counts, as before.
    assert sync_points.begin_attempt(database, 'trav', 'converge:a')['attempts'] == 2
    # The wait ended before the death: that counts too.
    sync_points.set_waiting(database, 'trav', 'converge:a', True)
    sync_points.set_waiting(database, 'trav', 'converge:a', False)
    assert sync_points.begin_attempt(database, 'trav', 'converge:a')['attempts'] == 3
    # The node still counts as started (the lock newer traversals wait on).
    assert sync_points.in_flight(database, view['id'], 'trav') == ['converge:a']


def test_a_first_claim_is_always_counted(service, conf, database):
    _host(service, conf, database)
    # A waiting mark with no attempt yet (never the case in practice) frees nothing.
    sync_points.set_waiting(database, 'trav', 'converge:a', True)
    assert sync_points.begin_attempt(database, 'trav', 'converge:a')['attempts'] == 1


def test_the_conductor_marks_a_nested_stack_resource_waiting_while_its_child_runs(
        service, conf, database, monkeypatch):
    child = {'heat_template_version': '2018-08-31',
             'resources': {'slow': res('s', action_wait_secs={'create': 1})}}
    parent = tmpl({'n': {'type': 'OS::Heat::Stack',
                         'properties': {'template': yaml.safe_dump(child)}}})
    seen, marks = [], []
    stop = threading.Event()
    real = sync_points.set_waiting

    def set_waiting(database, traversal_id, key, waiting):
        marks.append((key, waiting))
        return real(database, traversal_id, key, waiting)

    monkeypatch.setattr(sync_points, 'set_waiting', set_waiting)

    def watch(stack_id, traversal_id):
        while not stop.is_set():
            node = sync_points.node(database, stack_id, traversal_id, 'converge:n')
            if node is not None:
                seen.append(bool(node.get('waiting')))
            stop.wait(0.02)

    with harness.conductors(conf, database, count=1):
        view = service.create_stack('parent', parent, 't.yaml')
        row = db.stack_get(database, view['id'])
        watcher = threading.Thread(target=watch, args=(row.id, row.current_traversal))
        watcher.start()
        try:
            final = harness.settle(service, 'parent')
        finally:
            stop.set()
            watcher.join()
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    # Marked (as the stored sync point showed while the child ran), and unmarked once the
    # wait ended; the child's own resource never waits for a child.
    assert True in seen, seen
    assert marks == [('converge:n', True), ('converge:n', False)], marks
