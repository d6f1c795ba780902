"""Node jobs of the distributed path: run twice, superseded, exhausted, handed back."""

import json
import threading

import pytest
import yaml

from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.flows import node_flow, sync_points
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness


def tmpl(resources):
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources})


def res(value, **props):
    props['value'] = value
    return {'type': 'OS::Heat::TestResource', 'properties': props}


CHAIN = tmpl({'a': res('1'), 'b': res({'get_attr': ['a', 'output']})})


@pytest.fixture
def dist(conf, database):
    """(conf, service) on a private zake board; the test starts its own conductors."""
    with harness.zake_service(conf, database, workers=2) as service:
        yield conf, service


def events(service, name, status=None):
    """The resource events of a stack (not the stack's own)."""
    return [(e['resource_name'], e['resource_status']) for e in service.list_events(name)
            if (status is None or e['resource_status'] == status)
            and e['physical_resource_id'] != e['stack_id']]


def counting_posts(monkeypatch, runner_cls):
    posted = []
    original = runner_cls.post

    def post(self, stack_id, traversal_id, node_keys, stack_name):
        posted.extend(node_keys)
        return original(self, stack_id, traversal_id, node_keys, stack_name)

    monkeypatch.setattr(runner_cls, 'post', post)
    return posted


def test_a_node_run_twice_creates_nothing_twice_and_propagates_once(dist, database,
                                                                    monkeypatch):
    from heat_taskflow.engine import distributed
    conf, service = dist
    posted = counting_posts(monkeypatch, distributed.DistributedRunner)
    with harness.conductors(conf, database):
        stack = service.create_stack('twice', CHAIN, 't.yaml')
        traversal = db.stack_get(database, stack['id']).current_traversal
        assert harness.settle(service, 'twice')['stack_status'] == 'CREATE_COMPLETE'
    assert sorted(posted) == ['converge:a', 'converge:b']
    before = {r.name: r.physical_resource_id for r in db.resource_list(database, stack['id'])}

    # The traversal is over: its sync points are gone, so a late job does nothing at all.
    with harness.conductors(conf, database, count=1):
        service.distributed.post(stack['id'], traversal, ['converge:a'], 'twice')
        harness.wait_for(lambda: not harness.board_jobs(service.distributed.board()),
                         what='the re-posted job to be consumed')
    assert posted.count('converge:b') == 1
    after = {r.name: r.physical_resource_id for r in db.resource_list(database, stack['id'])}
    assert after == before
    assert events(service, 'twice', 'CREATE_COMPLETE').count(('a', 'CREATE_COMPLETE')) == 1


def test_a_node_run_again_mid_traversal_does_not_double_propagate(dist, database,
                                                                  monkeypatch):
    from heat_taskflow.engine import distributed
    conf, service = dist
    posted = counting_posts(monkeypatch, distributed.DistributedRunner)
    # c waits for a and slow b: while b runs, a's job is posted again.
    text = tmpl({'a': res('1'), 'b': res('2', wait_secs=1),
                 'c': res({'list_join': ['-', [{'get_attr': ['a', 'output']},
                                               {'get_attr': ['b', 'output']}]]})})
    with harness.conductors(conf, database):
        stack = service.create_stack('mid', text, 't.yaml')
        traversal = db.stack_get(database, stack['id']).current_traversal
        harness.wait_for(lambda: sync_points.node(database, stack['id'], traversal,
                                                  'converge:a')['done'], what='a done')
        a_before = db.resource_get_by_name(database, stack['id'], 'a')
        service.distributed.post(stack['id'], traversal, ['converge:a'], 'mid')
        assert harness.settle(service, 'mid')['stack_status'] == 'CREATE_COMPLETE'
    assert posted.count('converge:c') == 1
    a_after = db.resource_get_by_name(database, stack['id'], 'a')
    assert (a_after.id, a_after.physical_resource_id) == (a_before.id,
                                                          a_before.physical_resource_id)
    assert events(service, 'mid').count(('a', 'CREATE_IN_PROGRESS')) == 1
    assert events(service, 'mid').count(('c', 'CREATE_COMPLETE')) == 1


def test_a_post_lost_in_a_crash_is_made_by_the_re_run(dist, database, monkeypatch):
    # A conductor flips b's sync point to posted, then dies before b's job is on the
    # board. When a's job runs again, it must post b, or the traversal waits forever.
    from heat_taskflow.engine import distributed
    conf, service = dist
    original = distributed.DistributedRunner.post
    lost = []

    def post(self, stack_id, traversal_id, node_keys, stack_name):
        if 'converge:b' in node_keys and not lost:
            lost.append(node_keys)
            raise RuntimeError('conductor died before posting')
        return original(self, stack_id, traversal_id, node_keys, stack_name)

    monkeypatch.setattr(distributed.DistributedRunner, 'post', post)
    with harness.conductors(conf, database):
        stack = service.create_stack('lost-post', CHAIN, 't.yaml')
        final = harness.settle(service, 'lost-post')
    assert lost == [['converge:b']]
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert events(service, 'lost-post').count(('b', 'CREATE_COMPLETE')) == 1
    assert events(service, 'lost-post').count(('a', 'CREATE_IN_PROGRESS')) == 1
    assert db.stack_get(database, stack['id']).status == 'COMPLETE'


def test_jobs_of_a_superseded_traversal_do_nothing(dist, database, monkeypatch):
    from heat_taskflow.engine import distributed
    conf, service = dist
    posted = counting_posts(monkeypatch, distributed.DistributedRunner)
    # No conductor yet: the root job waits on the board while a newer traversal takes over.
    stack = service.create_stack('old', CHAIN, 't.yaml')
    old = db.stack_get(database, stack['id']).current_traversal
    assert db.stack_update(database, stack['id'], {'current_traversal': 'newer-traversal'},
                           expected_traversal=old)
    with harness.conductors(conf, database):
        # Its last node to finish drops the superseded traversal's sync points.
        harness.wait_for(lambda: sync_points.stack(database, stack['id'], old) is None,
                         what='a skipped and the old traversal dropped')
    assert db.resource_list(database, stack['id']) == []
    assert events(service, 'old') == []
    assert posted == ['converge:a']                  # b was never posted
    assert db.stack_get(database, stack['id']).status == 'IN_PROGRESS'   # not ours to end


def test_a_job_that_keeps_failing_is_trashed_and_fails_the_stack(dist, database,
                                                                 monkeypatch):
    conf, service = dist
    conf.set_override('max_attempts', 2, group='conductor')

    def broken(self, outcome, services):
        raise RuntimeError('database went away')

    monkeypatch.setattr(node_flow.PropagateTask, '_propagate', broken)
    with harness.conductors(conf, database):
        stack = service.create_stack('poison', tmpl({'a': res('1')}), 't.yaml',
                                     disable_rollback=True)
        final = harness.settle(service, 'poison')
        board = service.distributed.board()
        harness.wait_for(lambda: board.client.get_children(board.board.trash_path),
                         what='the job in the trash')
    assert final['stack_status'] == 'CREATE_FAILED'
    assert "resource 'a'" in final['stack_status_reason']
    assert 'did not finish in 2 attempts' in final['stack_status_reason']
    assert harness.board_jobs(board) == []
    assert sync_points.stack(database, stack['id'], final['id']) is None


def test_sync_point_cas_posts_each_dependent_once_under_threads(database):
    stack = db.stack_create(database, name='cas', project_id='p',
                            raw_template_id=db.raw_template_create(database, {}).id)
    graph = graph_mod.OperationGraph()
    sink = graph.add(graph_mod.Node(graph_mod.CONVERGE, 'sink'))
    inputs = ['converge:in%d' % i for i in range(8)]
    for key in inputs:
        graph.link(sink, graph.add(graph_mod.Node.from_key(key)))
    sync_points.create(database, stack.id, 't1', graph, {'action': 'CREATE',
                                                          'template_id': None,
                                                          'deadline': None})
    wins = []
    barrier = threading.Barrier(len(inputs) * 2)

    def satisfy(key):
        barrier.wait()
        if sync_points.satisfy(database, 't1', 'converge:sink', key) == sync_points.POST:
            wins.append(key)

    threads = [threading.Thread(target=satisfy, args=(key,)) for key in inputs * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(harness.TIMEOUT)
    assert len(wins) == 1
    state = sync_points.node(database, stack.id, 't1', 'converge:sink')
    assert state['posted_by'] == wins[0]
    # Only the node that flipped it, calling again while it never started, is told the
    # post may have been lost.
    assert sync_points.satisfy(database, 't1', 'converge:sink', wins[0]) == \
        sync_points.MAYBE_LOST
    other = next(k for k in inputs if k != wins[0])
    assert sync_points.satisfy(database, 't1', 'converge:sink', other) == sync_points.WAIT
    assert state['posted'] and state['satisfied'] == sorted(inputs)
    # Leaves report to the stack: exactly one of them completes it.
    done = [k for k in ['converge:sink', 'converge:sink'] if
            sync_points.satisfy_stack(database, stack.id, 't1', k)]
    assert done == ['converge:sink', 'converge:sink']      # the same node again: re-run safe
    assert not sync_points.claim_failure(database, stack.id, 't1', 'converge:in0', 'late')


def test_stop_hands_claims_back_and_another_conductor_finishes(dist, database, tmp_path):
    conf, service = dist
    text = tmpl({'slow': res('1', wait_secs=1), 'after': res({'get_attr': ['slow', 'output']})})
    first = harness.conductors(conf, database, count=1,
                               health_file=str(tmp_path / 'first.json'))
    with first as (conductor,):
        stack = service.create_stack('handover', text, 't.yaml')
        harness.wait_for(lambda: conductor.held(), what='the slow job held')
        health = json.loads((tmp_path / 'first.json').read_text())
        assert health['pid'] > 0 and health['host'] and health['started']
        stopper = threading.Thread(target=conductor.stop)
        stopper.start()         # returns once the running action has ended
        stopper.join(harness.TIMEOUT)
        assert not conductor.alive()
        assert harness.board_jobs(service.distributed.board()), 'the job was handed back'
        assert db.stack_get(database, stack['id']).status == 'IN_PROGRESS'
    health = json.loads((tmp_path / 'first.json').read_text())
    assert health['state'] == 'stopped' and health['jobs'] == []
    with harness.conductors(conf, database, count=1):
        final = harness.settle(service, 'handover')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert events(service, 'handover').count(('slow', 'CREATE_IN_PROGRESS')) == 1
    assert events(service, 'handover').count(('after', 'CREATE_COMPLETE')) == 1


def test_health_file_lists_the_jobs_held(dist, database, tmp_path):
    conf, service = dist
    conf.set_override('health_interval', 0.1, group='conductor')
    path = tmp_path / 'health.json'
    with harness.conductors(conf, database, count=1, health_file=str(path)) as (cond,):
        service.create_stack('healthy', tmpl({'slow': res('1', wait_secs=1)}), 't.yaml')

        def holding():
            jobs = json.loads(path.read_text())['jobs']
            return jobs and jobs[0]['node'] == 'converge:slow'

        harness.wait_for(holding, what='the health file to list the job')
        record = json.loads(path.read_text())
        assert record['state'] == 'running'
        assert record['jobs'][0]['stack_name'] == 'healthy'
        assert record['name'] == cond.name
        assert harness.settle(service, 'healthy')['stack_status'] == 'CREATE_COMPLETE'


GROUP_OF_STACKS = tmpl({'group': {'type': 'OS::Heat::ResourceGroup', 'properties': {
    'count': 4, 'resource_def': {'type': 'OS::Heat::Stack', 'properties': {
        'template': tmpl({'r': res('x')})}}}}})


def test_parents_waiting_for_child_stacks_hold_no_job_slot(conf, database):
    # One conductor with one job slot: the group's action and each member stack's action
    # wait for their child stacks, whose jobs must still be claimed (with waiting parents
    # counted as slots, the first wait took the only slot and the create hung).
    with harness.zake_service(conf, database, workers=2, jobs=1) as service:
        with harness.conductors(conf, database, count=1) as (conductor,):
            service.create_stack('nest', GROUP_OF_STACKS, 't.yaml')
            waiting = []

            def ended():
                waiting.append(conductor.waiting_for_children())
                return db.stack_get_by_name(database, 'nest', 'default').status != 'IN_PROGRESS'

            harness.wait_for(ended, what='the nested create to end')
            view = service.get_stack('nest')
            assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
            assert max(waiting) >= 1                    # parents did wait, slot-free
            assert conductor.waiting_for_children() == 0
        # the group, 4 member stacks, and a resource in each
        assert len(service.list_resources('nest', nested_depth=2)) == 1 + 4 + 4


def test_each_job_uses_the_services_of_the_conductor_that_runs_it(dist, database,
                                                                  monkeypatch):
    # No process-wide driver: two conductors in one process each hand their own
    # NodeDriver to the jobs they run (injected into the job's engine, not persisted).
    from heat_taskflow.engine import distributed

    conf, service = dist
    used = []
    runtime = distributed.NodeDriver.runtime

    def recording(self, stack_id, traversal_id):
        used.append((threading.current_thread().name, self))
        return runtime(self, stack_id, traversal_id)

    monkeypatch.setattr(distributed.NodeDriver, 'runtime', recording)
    text = tmpl({'r%d' % i: res(str(i)) for i in range(6)})
    with harness.conductors(conf, database, count=2) as started:
        service.create_stack('own', text, 't.yaml')
        final = harness.settle(service, 'own')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    drivers = {cond.name: cond.driver for cond in started}
    assert used
    for thread, driver in used:
        owner = [name for name in drivers if thread.startswith(name + '-job')]
        assert owner and drivers[owner[0]] is driver, thread
