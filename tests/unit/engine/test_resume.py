"""stack resume: refusals, legacy liveness, legacy resume after a death, distributed re-post."""

import datetime
import threading
import time

import pytest
import yaml

from heat_taskflow.engine import legacy
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.engine import service as service_mod
from heat_taskflow.flows import actions, sync_points, tasks
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence.models import utcnow
from heat_taskflow.resources.types import test_ledger
from tests.unit.conductors import harness


class Died(BaseException):
    """The process running the operation stops here (nothing after it runs)."""


def tmpl(resources, outputs=None):
    doc = {'heat_template_version': '2018-08-31', 'resources': resources}
    if outputs:
        doc['outputs'] = outputs
    return yaml.safe_dump(doc, sort_keys=False)


def ledger_res(ledger, value, **props):
    props.update(ledger=str(ledger), value=value)
    return {'type': 'OS::Heat::TestLedger', 'properties': props}


def chain(ledger):
    """a -> b -> c, and d on its own; c reads b, the output reads c."""
    return tmpl({'a': ledger_res(ledger, 'A'),
                 'b': ledger_res(ledger, {'get_attr': ['a', 'output']}),
                 'c': ledger_res(ledger, {'get_attr': ['b', 'output']}),
                 'd': ledger_res(ledger, 'D')},
                outputs={'last': {'value': {'get_attr': ['c', 'output']}}})


def die_when(monkeypatch, name, status):
    """Kill the operation when resource ``name`` is about to be recorded ``status`` (for
    COMPLETE: after its physical create, before the engine recorded it)."""
    original = actions._set_state

    def set_state(runtime, row, action, st, *args, **kwargs):
        if row.name == name and st == status:
            raise Died()
        return original(runtime, row, action, st, *args, **kwargs)

    monkeypatch.setattr(actions, '_set_state', set_state)


def make_stale(database, stack_id):
    """Time passes: the dead process's last signs of life become old."""
    old = utcnow() - datetime.timedelta(hours=1)
    db.stack_update(database, stack_id, {'heartbeat_at': old, 'updated_at': old})


def creates(ledger):
    return sorted(line['resource'] for line in test_ledger.read_ledger(str(ledger))
                  if line['event'] == test_ledger.CREATE)


def events(service, name, resource):
    return [e['resource_status'] for e in service.list_events(name)
            if e['resource_name'] == resource]


def sqlite_only(database):
    """Backend-neutral logic: the other backends add time, not coverage."""
    if database.dialect != 'sqlite':
        pytest.skip('backend-neutral; run on sqlite only')


def dead_create(service, monkeypatch, name, text, resource='c', status='COMPLETE',
                timeout_mins=None):
    """Start a create that dies at ``resource``; returns the stack row it left behind."""
    with monkeypatch.context() as patch:
        die_when(patch, resource, status)
        with pytest.raises(Died):
            service.create_stack(name, text, 't.yaml', timeout_mins=timeout_mins)
    stack = service._stack(name)
    assert stack.status == 'IN_PROGRESS' and stack.action == 'CREATE'
    return stack


# -- refusals ---------------------------------------------------------------------------

def test_a_stack_not_in_progress_has_nothing_to_resume(service, database, tmp_path):
    sqlite_only(database)
    service.create_stack('done', chain(tmp_path / 'l'), 't.yaml')
    with pytest.raises(resume_mod.NothingToResume) as err:
        service.resume_stack('done')
    assert err.value.exit_code == 2
    assert 'stack "done" is CREATE_COMPLETE: nothing to resume' in str(err.value)


def test_a_legacy_stack_whose_process_lives_is_refused(service, database, tmp_path,
                                                       monkeypatch):
    stack = dead_create(service, monkeypatch, 'alive', chain(tmp_path / 'l'))
    # Another process holds it and beat a moment ago.
    db.stack_update(database, stack.id, {'engine_id': 'otherhost:4242:abcd',
                                         'heartbeat_at': utcnow()})
    with pytest.raises(resume_mod.StillRunning) as err:
        service.resume_stack('alive')
    message = str(err.value)
    assert err.value.exit_code == 2
    assert 'stack "alive" is not interrupted' in message
    assert 'otherhost:4242:abcd' in message and 'last heartbeat was' in message
    assert 'heat-taskflow stack cancel alive' in message
    assert service._stack('alive').status == 'IN_PROGRESS'
    assert creates(tmp_path / 'l') == ['a', 'b', 'c', 'd']     # nothing more ran


def test_only_one_resumer_takes_a_stack_over(service, database, tmp_path, monkeypatch):
    stack = dead_create(service, monkeypatch, 'race', chain(tmp_path / 'l'))
    make_stale(database, stack.id)
    stale = db.stack_get(database, stack.id)
    assert resume_mod.legacy_liveness(stale, 5.0)[0] is True
    assert resume_mod.take_over(database, stale, 'first:1:a') is True
    # The second read the same row before the first took it: its swap fails.
    assert resume_mod.take_over(database, stale, 'second:2:b') is False
    holder = db.stack_get(database, stack.id).engine_id
    assert resume_mod.parse_holder(holder) == ('first:1:a', resume_mod.DEFAULT_INTERVAL)


def test_the_holders_longer_heartbeat_interval_wins(service, database, tmp_path,
                                                    monkeypatch):
    sqlite_only(database)
    stack = dead_create(service, monkeypatch, 'slow', chain(tmp_path / 'l'))
    beat = utcnow() - datetime.timedelta(seconds=20)
    # 20 s without a beat is stale at this process's 5 s, not at the holder's 60 s.
    db.stack_update(database, stack.id, {'engine_id': resume_mod.holder('far:1:x', 60),
                                         'heartbeat_at': beat, 'updated_at': beat})
    with pytest.raises(resume_mod.StillRunning) as err:
        service.resume_stack('slow')
    assert 'run by engine far:1:x, whose last heartbeat was 2' in str(err.value)
    assert '(interrupted after 180 s without one)' in str(err.value)


# -- legacy liveness --------------------------------------------------------------------

def test_a_running_legacy_stack_names_its_engine_and_clears_it_at_the_end(service, database,
                                                                          tmp_path):
    sqlite_only(database)
    seen = []

    def on_event(event):
        row = service._stack('beat')
        seen.append((row.engine_id, row.heartbeat_at))

    service.create_stack('beat', chain(tmp_path / 'l'), 't.yaml', on_event=on_event)
    interval = service.engine.runners['legacy'].heartbeat_interval
    assert seen and all(engine == resume_mod.holder(service.engine.engine_id, interval)
                        and at is not None for engine, at in seen)
    final = service._stack('beat')
    assert final.engine_id is None and final.status == 'COMPLETE'


def test_the_heartbeat_is_refreshed_while_the_stack_runs(service, database, tmp_path,
                                                         monkeypatch):
    stack = dead_create(service, monkeypatch, 'hb', chain(tmp_path / 'l'))
    make_stale(database, stack.id)
    stale = db.stack_get(database, stack.id)
    beat = resume_mod.Heartbeat(database, interval=0.02)
    with beat.beat(stack.id, 'me:1:x'):
        first = db.stack_get(database, stack.id).heartbeat_at
        harness.wait_for(lambda: db.stack_get(database, stack.id).heartbeat_at > first,
                         what='a refreshed heartbeat')
        holder = db.stack_get(database, stack.id).engine_id
        assert resume_mod.parse_holder(holder) == ('me:1:x', 0.02)
    row = db.stack_get(database, stack.id)
    assert row.engine_id is None
    assert row.updated_at == stale.updated_at      # heartbeats are no stack changes


# -- legacy resume ----------------------------------------------------------------------

@pytest.mark.parametrize('chunk', [None, 2], ids=['one-part', 'parts-of-two'])
def test_legacy_resume_finishes_without_redoing_completed_resources(
        service, database, tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(tasks, 'CHUNK_SIZE', chunk)
    ledger = tmp_path / 'ledger'
    # c dies after its physical create and before the engine recorded it.
    stack = dead_create(service, monkeypatch, 'r', chain(ledger))
    # The dying run's other actions may still be finishing in its pool (d, on its own, may
    # not even have started when c died): wait until nothing has changed for a second.
    last = {'seen': None, 'since': time.monotonic()}

    def settled():
        rows = sorted((r.name, r.status) for r in db.resource_list(database, stack.id))
        seen = (rows, creates(ledger))
        if seen != last['seen']:
            last.update(seen=seen, since=time.monotonic())
        busy = [name for name, status in rows if status == 'IN_PROGRESS' and name != 'c']
        return not busy and time.monotonic() - last['since'] >= 1.0

    harness.wait_for(settled, what="the dead run's other actions to end")
    done_before = {r.name for r in db.resource_list(database, stack.id)
                   if r.status == 'COMPLETE'}
    assert {'a', 'b'} <= done_before and 'c' not in done_before
    # Made in the cloud but not recorded complete: c, and d when the death caught it between
    # its physical create and its record (d stands alone and is usually done by then).
    unrecorded = set(creates(ledger)) - done_before
    assert 'c' in unrecorded
    with pytest.raises(resume_mod.StillRunning):
        service.resume_stack('r')          # it just "died": not yet known to be dead
    make_stale(database, stack.id)

    calls = []
    original = actions.converge

    def converge(runtime, name):
        calls.append(name)
        return original(runtime, name)

    monkeypatch.setattr(actions, 'converge', converge)
    seen = []
    view = service.resume_stack('r', on_event=seen.append)

    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    assert {o['output_key']: o['output_value'] for o in view['outputs']} == {'last': 'A'}
    # Completed resources were not acted on again: no event, no physical create. (Their
    # task may run again when the crash lost its last atom states, which the logbook writes
    # behind: converge then finds the resource complete and does nothing.)
    assert 'c' in calls
    for name in done_before:
        assert events(service, 'r', name) == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    assert {e['resource_name'] for e in seen} == {'a', 'b', 'c', 'd'} - done_before
    assert creates(ledger) == ['a', 'b', 'c', 'd']
    adopted = [line['resource'] for line in test_ledger.read_ledger(str(ledger))
               if line['event'] == test_ledger.ADOPT]
    assert sorted(adopted) == sorted(unrecorded)
    row = service._stack('r')
    assert row.engine_id is None
    # The finished traversal's logbook is gone, like after any legacy traversal.
    assert legacy.LegacyRunner(database, None).recorded_target(row.current_traversal) is None


def test_legacy_resume_runs_the_parts_that_had_not_started(service, database, tmp_path,
                                                           monkeypatch):
    sqlite_only(database)
    monkeypatch.setattr(tasks, 'CHUNK_SIZE', 1)
    ledger = tmp_path / 'ledger'
    # b dies as it starts (before its IN_PROGRESS state): parts after it never began.
    stack = dead_create(service, monkeypatch, 'p', chain(ledger), resource='b',
                        status='IN_PROGRESS')
    target = legacy.LegacyRunner(database, None).recorded_target(stack.current_traversal)
    assert target['action'] == 'CREATE' and target['nodes'] == 4
    make_stale(database, stack.id)
    view = service.resume_stack('p')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    assert creates(ledger) == ['a', 'b', 'c', 'd']
    assert events(service, 'p', 'a') == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']


def test_legacy_resume_without_a_logbook_compiles_the_graph_again(service, database,
                                                                   tmp_path, monkeypatch):
    sqlite_only(database)
    ledger = tmp_path / 'ledger'
    stack = dead_create(service, monkeypatch, 'nolog', chain(ledger))
    # As if the process had died before it wrote the logbook (the done rows stay done).
    legacy.destroy_logbook(database, stack.current_traversal)
    make_stale(database, stack.id)
    view = service.resume_stack('nolog')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    assert creates(ledger) == ['a', 'b', 'c', 'd']
    assert events(service, 'nolog', 'a') == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']


def test_legacy_resume_of_an_update_converges_to_the_new_template(service, database,
                                                                   tmp_path, monkeypatch):
    sqlite_only(database)
    ledger = tmp_path / 'ledger'
    service.create_stack('u', chain(ledger), 't.yaml')
    v2 = tmpl({'a': ledger_res(ledger, 'A2'),
               'b': ledger_res(ledger, {'get_attr': ['a', 'output']}),
               'c': ledger_res(ledger, {'get_attr': ['b', 'output']})},
              outputs={'last': {'value': {'get_attr': ['c', 'output']}}})
    with monkeypatch.context() as patch:
        die_when(patch, 'c', 'COMPLETE')       # after c's physical update
        with pytest.raises(Died):
            service.update_stack('u', v2, 't.yaml')
    stack = service._stack('u')
    assert (stack.action, stack.status) == ('UPDATE', 'IN_PROGRESS')
    make_stale(database, stack.id)
    view = service.resume_stack('u')
    assert view['stack_status'] == 'UPDATE_COMPLETE', view['stack_status_reason']
    assert {o['output_key']: o['output_value'] for o in view['outputs']} == {'last': 'A2'}
    lines = [(x['event'], x['resource'], x['value'])
             for x in test_ledger.read_ledger(str(ledger)) if x['event'] != 'create']
    # Each value changed once (c's re-run adopted its update); d, removed, deleted once.
    assert sorted(lines) == sorted([('update', 'a', 'A2'), ('update', 'b', 'A2'),
                                    ('update', 'c', 'A2'), ('adopt', 'c', 'A2'),
                                    ('delete', 'd', 'D')])


def test_legacy_resume_of_a_failing_create_rolls_back(service, database, tmp_path,
                                                      monkeypatch):
    sqlite_only(database)
    ledger = tmp_path / 'ledger'
    text = tmpl({'a': ledger_res(ledger, 'A'),
                 'b': ledger_res(ledger, {'get_attr': ['a', 'output']}, fail=True)})
    stack = dead_create(service, monkeypatch, 'f', text, resource='b', status='IN_PROGRESS')
    make_stale(database, stack.id)
    view = service.resume_stack('f')
    assert view['stack_status'] == 'ROLLBACK_COMPLETE'
    assert 'Test Ledger failed b' in view['stack_status_reason']
    lines = test_ledger.read_ledger(str(ledger))
    assert [(x['event'], x['resource']) for x in lines] == [('create', 'a'), ('delete', 'a')]


def test_legacy_resume_of_a_nested_stack_resumes_the_child(service, database, tmp_path,
                                                            monkeypatch):
    sqlite_only(database)
    ledger = tmp_path / 'ledger'
    child = {'heat_template_version': '2018-08-31', 'resources': {
        'x': ledger_res(ledger, 'X'),
        'y': ledger_res(ledger, {'get_attr': ['x', 'output']})}}
    text = tmpl({'first': ledger_res(ledger, 'F'),
                 'inner': {'type': 'OS::Heat::Stack', 'depends_on': ['first'],
                           'properties': {'template': yaml.safe_dump(child)}}})
    # The process dies inside the child, after y's physical create.
    # (A 1-minute timeout: should the child not be resumed, the parent's wait for it fails
    # the test at the deadline instead of hanging.)
    stack = dead_create(service, monkeypatch, 'n', text, resource='y', timeout_mins=1)
    children = db.stack_list(database, stack.project_id, include_nested=True,
                             owner_id=stack.id)
    assert [c.status for c in children] == ['IN_PROGRESS']
    make_stale(database, stack.id)
    make_stale(database, children[0].id)
    view = service.resume_stack('n')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    assert creates(ledger) == ['first', 'x', 'y']
    assert events(service, 'n', 'first') == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    child = db.stack_get(database, children[0].id)
    assert (child.action, child.status) == ('CREATE', 'COMPLETE')
    child_events = [(e.resource_name, e.resource_status)
                    for e in db.event_list(database, child.id)]
    assert child_events.count(('x', 'IN_PROGRESS')) == 1      # done before the death
    assert child_events.count(('y', 'COMPLETE')) == 1


def test_legacy_resume_waits_for_a_child_whose_dead_heartbeat_is_not_stale_yet(
        conf, database, tmp_path, monkeypatch):
    """The dead process began the child stack after the parent's last heartbeat: the parent
    is stale and resumed while the child is not stale yet. The resumed parent action waits
    for the child's heartbeat to go stale and resumes it (the child never beats again),
    rather than polling, until the deadline, a child no process runs."""
    sqlite_only(database)
    conf.set_override('legacy_heartbeat_interval', 0.1)
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    service = service_mod.StackService(conf, database=database, executors=executors)
    try:
        ledger = tmp_path / 'ledger'
        child = {'heat_template_version': '2018-08-31', 'resources': {
            'x': ledger_res(ledger, 'X'),
            'y': ledger_res(ledger, {'get_attr': ['x', 'output']})}}
        text = tmpl({'inner': {'type': 'OS::Heat::Stack',
                               'properties': {'template': yaml.safe_dump(child)}}})
        stack = dead_create(service, monkeypatch, 'n', text, resource='y', timeout_mins=1)
        [kid] = db.stack_list(database, stack.project_id, include_nested=True,
                              owner_id=stack.id)
        make_stale(database, stack.id)
        # The child's holder died a moment ago: its heartbeat is fresh, and stays as it is.
        db.stack_update(database, kid.id, {'engine_id': 'gone:1:dead every 0.1s',
                                           'heartbeat_at': utcnow()})
        view = service.resume_stack('n')
        assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
        assert creates(ledger) == ['x', 'y']
        kid = db.stack_get(database, kid.id)
        assert (kid.action, kid.status, kid.engine_id) == ('CREATE', 'COMPLETE', None)
    finally:
        executors.shutdown()


def test_a_resumed_parent_leaves_a_child_whose_holder_beats_to_its_holder(
        conf, database, tmp_path, monkeypatch):
    """A child that another live process runs (its heartbeat moves on) is not taken over:
    the parent's action lets it be and polls it until that process ends it."""
    sqlite_only(database)
    conf.set_override('legacy_heartbeat_interval', 0.1)
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    service = service_mod.StackService(conf, database=database, executors=executors)
    try:
        ledger = tmp_path / 'ledger'
        child = {'heat_template_version': '2018-08-31', 'resources': {
            'x': ledger_res(ledger, 'X')}}
        text = tmpl({'inner': {'type': 'OS::Heat::Stack',
                               'properties': {'template': yaml.safe_dump(child)}}})
        stack = dead_create(service, monkeypatch, 'n', text, resource='x', timeout_mins=1)
        [kid] = db.stack_list(database, stack.project_id, include_nested=True,
                              owner_id=stack.id)
        make_stale(database, stack.id)
        holder = 'alive:2:live every 0.1s'
        db.stack_update(database, kid.id, {'engine_id': holder, 'heartbeat_at': utcnow()})
        stop = threading.Event()

        def live_holder():
            # Beats for a while (longer than the 3 intervals that make a stack stale), then
            # ends the child's create, as the process running it would.
            for _ in range(10):
                if stop.wait(0.05):
                    return
                db.stack_update(database, kid.id, {'heartbeat_at': utcnow()})
            db.stack_update(database, kid.id, {'status': 'COMPLETE', 'engine_id': None})

        thread = threading.Thread(target=live_holder, daemon=True)
        thread.start()
        try:
            view = service.resume_stack('n')
        finally:
            stop.set()
            thread.join(timeout=30)
        assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
        lines = test_ledger.read_ledger(str(ledger))
        assert [line['event'] for line in lines] == ['create']   # x was not run again here
    finally:
        executors.shutdown()


# -- distributed resume -----------------------------------------------------------------

@pytest.fixture
def dist(conf, database):
    """(conf, service) on a private zake board; the test starts the conductors."""
    with harness.zake_service(conf, database, workers=2) as service:
        yield conf, service


def test_distributed_resume_reposts_the_jobs_the_board_lost(dist, database, tmp_path):
    sqlite_only(database)
    conf, service = dist
    ledger = tmp_path / 'ledger'
    stack = service.create_stack('d', chain(ledger), 't.yaml')
    assert stack['stack_status'] == 'CREATE_IN_PROGRESS'
    board = service.distributed.board()
    jobs = harness.board_jobs(board)
    assert sorted(job.details['node'] for job in jobs) == ['converge:a', 'converge:d']

    # Nothing lost: nothing to post, the conductors will run what is there.
    assert service.resume_stack('d')['reposted'] == []
    assert len(harness.board_jobs(board)) == 2

    # The board loses its data (ZooKeeper wiped): the jobs are gone.
    for job in jobs:
        board.client.delete(job.path, recursive=True)
    assert harness.board_jobs(board) == []
    view = service.resume_stack('d')
    assert sorted(view['reposted']) == ['converge:a', 'converge:d']
    assert view['stack_status'] == 'CREATE_IN_PROGRESS'
    with harness.conductors(conf, database, count=1):
        final = harness.settle(service, 'd')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert creates(ledger) == ['a', 'b', 'c', 'd']


def test_distributed_resume_starts_a_traversal_that_never_started(dist, database, tmp_path):
    sqlite_only(database)
    conf, service = dist
    ledger = tmp_path / 'ledger'
    stack = service.create_stack('ns', chain(ledger), 't.yaml')
    traversal = db.stack_get(database, stack['id']).current_traversal
    # As if the poster had died between claiming the stack and storing its sync points.
    board = service.distributed.board()
    for job in harness.board_jobs(board):
        board.client.delete(job.path, recursive=True)
    sync_points.delete(database, stack['id'], traversal)
    with pytest.raises(resume_mod.StillRunning) as err:
        service.resume_stack('ns')          # its poster may still be about to post
    assert 'has not posted its jobs yet' in str(err.value)
    make_stale(database, stack['id'])
    view = service.resume_stack('ns')
    assert sorted(view['reposted']) == ['converge:a', 'converge:d']
    with harness.conductors(conf, database, count=1):
        final = harness.settle(service, 'ns')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert creates(ledger) == ['a', 'b', 'c', 'd']
