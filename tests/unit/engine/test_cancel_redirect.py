"""Redirect (stack update while an operation is in progress) and stack cancel, on both paths.

Distributed stacks run on a private zake board with two in-process conductors; legacy
operations run in a thread of the test (they block their caller) while the cancel comes
from the test's thread, as it would from another process. OS::Heat::TestLedger records
every physical action in a file, so exactly-once is counted, not guessed.
"""

import collections
import threading
import time

import pytest
import yaml

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.flows import sync_points
from heat_taskflow.persistence import api as db
from heat_taskflow.resources.types import test_ledger
from tests.unit.conductors import harness
from tests.unit.engine import helpers
from tests.unit.engine.test_operator_lifecycle import cli


def tmpl(resources, outputs=None):
    doc = {'heat_template_version': '2018-08-31', 'resources': resources}
    if outputs:
        doc['outputs'] = outputs
    return yaml.safe_dump(doc, sort_keys=False)


def ledger(path, value, depends_on=None, **props):
    props.update(ledger=str(path), value=value)
    snippet = {'type': 'OS::Heat::TestLedger', 'properties': props}
    if depends_on:
        snippet['depends_on'] = depends_on
    return snippet


def current_rows(service, name):
    stack = service._stack(name)
    return {r.name: r for r in db.resource_list(service.database, stack.id)
            if r.replaced_by is None}


def all_rows(service, name):
    return db.resource_list(service.database, service._stack(name).id)


def row_status(service, name, resource):
    try:
        row = current_rows(service, name).get(resource)
    except exc.StackNotFound:         # not stored yet (a legacy create in its thread)
        return None
    return None if row is None else (row.action, row.status)


def own_events(service, name):
    """(status, reason) of the stack's own events (a cancel records one too)."""
    stack = service._stack(name)
    return [('%s_%s' % (e.resource_action, e.resource_status), e.resource_status_reason)
            for e in db.event_list(service.database, stack.id)
            if e.physical_resource_id == stack.id and e.resource_type == 'OS::Heat::Stack']


def lines(path, event=None):
    return [line for line in test_ledger.read_ledger(str(path))
            if event is None or line['event'] == event]


def assert_exactly_once(path, live_tokens):
    """Every physical resource was created once, deleted at most once, deleted exactly
    when it is not live, and no action of it ran twice (a re-run would write 'adopt')."""
    records = lines(path)
    assert [r for r in records if r['event'] == 'adopt'] == []
    creates = collections.Counter(r['token'] for r in records if r['event'] == 'create')
    deletes = collections.Counter(r['token'] for r in records if r['event'] == 'delete')
    assert set(creates.values()) <= {1}, creates
    assert set(deletes.values()) <= {1}, deletes
    assert set(live_tokens) <= set(creates)
    assert set(deletes) == set(creates) - set(live_tokens), 'orphan or wrong deletes'
    # An update writes only a new value: two lines in a row with one value would be one
    # change made twice.
    by_token = collections.defaultdict(list)
    for r in records:
        if r['event'] in ('create', 'update'):
            by_token[r['token']].append(r['value'])
    for token, values in by_token.items():
        assert all(a != b for a, b in zip(values, values[1:], strict=False)), (token, values)


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, conf, database):
    with helpers.paths_on(request.param, conf, database) as on_path:
        yield on_path


@pytest.fixture
def dist(conf, database):
    """A service on the distributed path with two conductors."""
    with helpers.paths_on('distributed', conf, database) as on_path:
        yield on_path


class Background:
    """A blocking (legacy) operation run in a thread; result() joins it."""

    def __init__(self, call, *args, **kwargs):
        self._out = {}
        self._thread = threading.Thread(target=self._run, args=(call, args, kwargs),
                                        daemon=True)
        self._thread.start()

    def _run(self, call, args, kwargs):
        try:
            self._out['value'] = call(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - handed to result()
            self._out['error'] = err

    def result(self):
        self._thread.join(harness.TIMEOUT)
        assert not self._thread.is_alive(), 'operation did not end'
        if 'error' in self._out:
            raise self._out['error']
        return self._out['value']


# For tests of the command line and of refusals, one database backend is enough.
sqlite_only = pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)


def start_update(paths, name, text):
    """Start an update and return once it is under way (the legacy one in a thread)."""
    if paths.path == 'legacy':
        return Background(paths.service.update_stack, name, text, 't.yaml')
    view = paths.service.update_stack(name, text, 't.yaml')
    assert view['stack_status'] == 'UPDATE_IN_PROGRESS'
    return None


def settle(paths, name, background):
    if background is not None:
        background.result()
    return harness.settle(paths.service, name)


# -- redirect --------------------------------------------------------------------------

def storm_template(path, i):
    """Template i of the storm: a new value everywhere; b is replaced on every change; d is
    there in odd ones only (the first and the last, 10, lack it)."""
    resources = {
        'a': ledger(path, 'a%d' % i, update_wait_secs=0.3),
        'b': ledger(path, 'b%d' % i, depends_on=['a'], update_replace=True,
                    create_wait_secs=0.3),
        'c': ledger(path, 'c%d' % i, depends_on=['b'], update_wait_secs=0.1),
    }
    if i % 2 == 1:
        resources['d'] = ledger(path, 'd%d' % i, depends_on=['a'], create_wait_secs=0.2)
    return tmpl(resources, outputs={'b': {'value': {'get_attr': ['b', 'output']}}})


def test_redirect_storm_ends_matching_the_last_template_with_each_action_once(dist,
                                                                              tmp_path):
    path = tmp_path / 'ledger'
    created = dist.create('storm', storm_template(path, 0), 't.yaml')
    assert created['stack_status'] == 'CREATE_COMPLETE', created['stack_status_reason']
    traversals = set()
    for i in range(1, 11):
        view = dist.service.update_stack('storm', storm_template(path, i), 't.yaml')
        # Each update redirects the one in progress: none is refused, none waits for it.
        assert view['stack_status'] == 'UPDATE_IN_PROGRESS', view
        traversals.add(db.stack_get(dist.database, view['id']).current_traversal)
        time.sleep(0.2)
    assert len(traversals) == 10
    final = harness.settle(dist.service, 'storm')
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']

    # The stack matches the last template (10: no d).
    rows = all_rows(dist, 'storm')
    assert sorted(r.name for r in rows) == ['a', 'b', 'c'], 'one current row each'
    assert all(r.replaced_by is None and r.status == 'COMPLETE' for r in rows)
    assert {r.name: r.attributes['output'] for r in rows} == {'a': 'a10', 'b': 'b10',
                                                              'c': 'c10'}
    assert {o['output_key']: o['output_value'] for o in final['outputs']} == {'b': 'b10'}
    live = {r.physical_resource_id for r in rows}
    assert_exactly_once(path, live)
    # The ledger's last word on each live resource is the last template's value.
    last = {}
    for r in lines(path):
        if r['event'] in ('create', 'update'):
            last[r['token']] = r['value']
    assert sorted(last[t] for t in live) == ['a10', 'b10', 'c10']
    # No resource state change was made twice for one physical resource.
    completes = collections.Counter(
        (e['physical_resource_id'], e['resource_status'])
        for e in dist.list_events('storm')
        if e['resource_status'] in ('CREATE_COMPLETE', 'DELETE_COMPLETE'))
    assert set(completes.values()) == {1}, completes
    # Nothing of the superseded traversals is left behind.
    stack_id = final['id']
    current = db.stack_get(dist.database, stack_id).current_traversal
    harness.wait_for(lambda: sync_points.other_traversals(dist.database, stack_id,
                                                          current) == [],
                     what='old traversals dropped')


def test_redirect_waits_for_the_running_action_then_converges_from_its_result(dist,
                                                                              tmp_path):
    path = tmp_path / 'ledger'
    dist.create('wait', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    dist.service.update_stack('wait', tmpl({'a': ledger(path, 'two',
                                                       update_wait_secs=0.6)}),
                              't.yaml')
    harness.wait_for(lambda: row_status(dist, 'wait', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    # Redirect while 'two' is being written: 'two' finishes, then 'three' follows it.
    dist.service.update_stack('wait', tmpl({'a': ledger(path, 'three')}), 't.yaml')
    final = harness.settle(dist.service, 'wait')
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']
    token = current_rows(dist, 'wait')['a'].physical_resource_id
    assert [(r['event'], r['value']) for r in lines(path) if r['token'] == token] == [
        ('create', 'one'), ('update', 'two'), ('update', 'three')]
    starts = [e['event_time'] for e in dist.list_events('wait', resource_name='a')]
    assert starts == sorted(starts)
    statuses = [e['resource_status'] for e in dist.list_events('wait', resource_name='a')]
    # Never two actions on a at once: every IN_PROGRESS is followed by its end.
    assert statuses == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE',
                        'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE',
                        'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE']


def test_redirect_removes_what_the_old_traversal_was_still_creating(dist, tmp_path):
    path = tmp_path / 'ledger'
    dist.create('grow', tmpl({'a': ledger(path, 'a')}), 't.yaml')
    dist.service.update_stack('grow', tmpl({'a': ledger(path, 'a'),
                                            'b': ledger(path, 'b', create_wait_secs=0.8)}),
                              't.yaml')
    harness.wait_for(lambda: row_status(dist, 'grow', 'b') == ('CREATE', 'IN_PROGRESS'),
                     what='b creating')
    dist.service.update_stack('grow', tmpl({'a': ledger(path, 'a2')}), 't.yaml')
    final = harness.settle(dist.service, 'grow')
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']
    assert [r.name for r in all_rows(dist, 'grow')] == ['a']
    assert current_rows(dist, 'grow')['a'].attributes['output'] == 'a2'
    assert_exactly_once(path, {current_rows(dist, 'grow')['a'].physical_resource_id})
    assert len(lines(path, 'delete')) == 1          # b, once its create had finished


def test_a_dead_conductors_started_node_does_not_hold_the_resource(dist, tmp_path):
    """An older traversal's node whose sync point says it started but whose job no
    conductor holds (its conductor died) is no lock: the new traversal goes on."""
    path = tmp_path / 'ledger'
    view = dist.create('orphan', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    stack_id = view['id']
    graph = graph_mod.compile_converge({'a': []}, [])
    sync_points.create(dist.database, stack_id, 'dead-traversal', graph,
                       {'action': 'UPDATE', 'template_id': None, 'deadline': None})
    sync_points.begin_attempt(dist.database, 'dead-traversal', 'converge:a')
    # A row keyed by the stack that is no traversal (the observer keeps one): left alone.
    db.sync_point_create(dist.database, stack_id, 'not-a-traversal', False, stack_id,
                         {'observed_at': 1})
    assert sync_points.others_in_flight(dist.database, stack_id, 'x', 'a') == [
        ('dead-traversal', 'converge:a')]
    final = dist.update('orphan', tmpl({'a': ledger(path, 'two')}), 't.yaml')
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']
    assert current_rows(dist, 'orphan')['a'].attributes['output'] == 'two'
    assert sync_points.stack(dist.database, stack_id, 'dead-traversal') is None
    assert db.sync_point_get(dist.database, stack_id, 'not-a-traversal', False) is not None


@sqlite_only
def test_legacy_update_while_in_progress_is_refused_pointing_at_cancel(paths, tmp_path):
    path = tmp_path / 'ledger'
    paths.create('busy', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    template = tmp_path / 'next.yaml'
    template.write_text(tmpl({'a': ledger(path, 'three')}))
    running = start_update(paths, 'busy', tmpl({'a': ledger(path, 'two',
                                                            update_wait_secs=0.8)}))
    harness.wait_for(lambda: row_status(paths, 'busy', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    code, out, err = cli(paths.service, 'stack', 'update', '-t', str(template), 'busy')
    if paths.path == 'legacy':
        assert code == 2, (out, err)
        assert 'stack "busy" has an operation in progress (UPDATE)' in err
        assert 'heat-taskflow stack cancel busy' in err
        expected = 'two'
    else:
        assert code == 0, err                 # redirected
        assert 'UPDATE_IN_PROGRESS' in out
        expected = 'three'
    final = settle(paths, 'busy', running)
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']
    assert current_rows(paths, 'busy')['a'].attributes['output'] == expected


# -- cancel ----------------------------------------------------------------------------

def two_step(path, a_value, wait=0.8):
    """a (slow), then b that needs it."""
    return tmpl({'a': ledger(path, a_value, update_wait_secs=wait, create_wait_secs=wait),
                 'b': ledger(path, 'b', depends_on=['a'])})


def test_cancel_without_rollback_stops_the_running_action_s_wait(paths, tmp_path):
    path = tmp_path / 'ledger'
    paths.create('stop', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    # a's update is called at once, then waits 60 s: the cancel must not wait for that.
    running = start_update(paths, 'stop', two_step(path, 'two', wait=60))
    harness.wait_for(lambda: row_status(paths, 'stop', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    view = paths.service.cancel_stack('stop', rollback=False)
    assert (view['stack_status'], view['stack_status_reason']) == (
        'UPDATE_FAILED', 'Update cancelled')
    final = settle(paths, 'stop', running)
    # a's wait stopped (within a second or so, not 60 s); b never started; the cancel's
    # status stands.
    harness.wait_for(lambda: row_status(paths, 'stop', 'a') == ('UPDATE', 'FAILED'),
                     what='a stopped')
    assert 'the stack operation was cancelled' in current_rows(paths, 'stop')['a'] \
        .status_reason
    if paths.path == 'distributed':
        stack_id = final['id']
        current = db.stack_get(paths.database, stack_id).current_traversal
        harness.wait_for(lambda: sync_points.other_traversals(paths.database, stack_id,
                                                              current) == [],
                         what='the cancelled traversal dropped')
    final = paths.get_stack('stop')
    assert (final['stack_status'], final['stack_status_reason']) == (
        'UPDATE_FAILED', 'Update cancelled')
    assert set(current_rows(paths, 'stop')) == {'a'}
    assert [e for e in paths.list_events('stop') if e['resource_name'] == 'b'] == []
    assert own_events(paths, 'stop')[-2:] == [
        ('UPDATE_IN_PROGRESS', 'Stack UPDATE started'), ('UPDATE_FAILED', 'Update cancelled')]
    assert lines(path, 'update')[-1]['value'] == 'two'      # the update was made, once
    assert_exactly_once(path, {current_rows(paths, 'stop')['a'].physical_resource_id})
    # The next update converges the stopped resource like any failed one.
    again = paths.update('stop', tmpl({'a': ledger(path, 'three')}), 't.yaml')
    assert again['stack_status'] == 'UPDATE_COMPLETE', again['stack_status_reason']
    assert current_rows(paths, 'stop')['a'].attributes['output'] == 'three'


def test_a_delete_right_after_a_cancel_stops_the_running_action_s_wait(paths, tmp_path):
    """The delete may claim the stack before the cancelled action's next look at it (at
    most one a second): a delete in progress stops the waits of the traversal it replaced,
    as a FAILED stack does, or the delete would wait for them (60 s here)."""
    path = tmp_path / 'ledger'
    paths.create('gone', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    running = start_update(paths, 'gone', two_step(path, 'two', wait=60))
    harness.wait_for(lambda: row_status(paths, 'gone', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    started = time.monotonic()
    paths.service.cancel_stack('gone', rollback=False)
    paths.service.delete_stack('gone')
    final = harness.settle(paths.service, 'gone')      # None once the row is gone
    assert final is None or final['stack_status'] == 'DELETE_COMPLETE', final
    if running is not None:
        running.result()
    assert time.monotonic() - started < 30, 'the delete waited for the cancelled action'
    assert_exactly_once(path, set())                # created once, deleted once


def test_cancel_with_rollback_returns_to_the_previous_template(paths, tmp_path):
    path = tmp_path / 'ledger'
    paths.create('back', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    running = start_update(paths, 'back', two_step(path, 'two'))
    harness.wait_for(lambda: row_status(paths, 'back', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    view = paths.service.cancel_stack('back')
    assert view['stack_status'] == 'ROLLBACK_IN_PROGRESS'
    assert view['stack_status_reason'] == 'Rolling back: Update cancelled'
    final = settle(paths, 'back', running)
    assert final['stack_status'] == 'ROLLBACK_COMPLETE', final['stack_status_reason']
    assert final['stack_status_reason'] == \
        'Stack ROLLBACK completed successfully (Update cancelled)'
    rows = all_rows(paths, 'back')
    assert [(r.name, r.attributes['output']) for r in rows] == [('a', 'one')]
    token = rows[0].physical_resource_id
    # a's update ran to its end, then the rollback changed it back, each once.
    assert [(r['event'], r['value']) for r in lines(path) if r['token'] == token] == [
        ('create', 'one'), ('update', 'two'), ('update', 'one')]
    assert [e for e in paths.list_events('back') if e['resource_name'] == 'b'] == []
    assert own_events(paths, 'back')[-3:] == [
        ('UPDATE_IN_PROGRESS', 'Stack UPDATE started'),
        ('ROLLBACK_IN_PROGRESS', 'Rolling back: Update cancelled'),
        ('ROLLBACK_COMPLETE', 'Stack ROLLBACK completed successfully (Update cancelled)')]
    # The stack's template is the previous one again.
    assert paths.get_template('back')['resources']['a']['properties']['value'] == 'one'


def test_cancel_of_a_create_with_rollback_deletes_what_it_made(paths, tmp_path):
    path = tmp_path / 'ledger'
    text = two_step(path, 'one', wait=0.8)
    if paths.path == 'legacy':
        running = Background(paths.service.create_stack, 'young', text, 't.yaml')
    else:
        running = None
        paths.service.create_stack('young', text, 't.yaml')
    harness.wait_for(lambda: row_status(paths, 'young', 'a') == ('CREATE', 'IN_PROGRESS'),
                     what='a creating')
    paths.service.cancel_stack('young', rollback=True)
    final = settle(paths, 'young', running)
    assert final['stack_status'] == 'ROLLBACK_COMPLETE', final['stack_status_reason']
    assert 'Create cancelled' in final['stack_status_reason']
    assert all_rows(paths, 'young') == []
    assert_exactly_once(path, set())
    assert len(lines(path, 'create')) == 1          # a only: b never started


@sqlite_only
def test_cancel_through_the_command_line(paths, tmp_path):
    path = tmp_path / 'ledger'
    paths.create('cl', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    code, out, err = cli(paths.service, 'stack', 'cancel', 'cl')
    assert code == 2
    assert 'stack "cl" is CREATE_COMPLETE: there is no operation in progress to cancel' \
        in err
    code, _, err = cli(paths.service, 'stack', 'cancel', 'nope')
    assert (code, err.strip()) == (2, 'stack "nope" not found')

    running = start_update(paths, 'cl', two_step(path, 'two'))
    harness.wait_for(lambda: row_status(paths, 'cl', 'a') == ('UPDATE', 'IN_PROGRESS'),
                     what='a updating')
    code, out, err = cli(paths.service, 'stack', 'cancel', '--no-rollback', '--wait', 'cl',
                         '-f', 'value', '-c', 'stack_status', '-c', 'stack_status_reason')
    assert code == 0, err
    assert out.split('\n')[:2] == ['UPDATE_FAILED', 'Update cancelled']
    assert 'Stack cl UPDATE_FAILED: Update cancelled' in err
    settle(paths, 'cl', running)
    assert paths.get_stack('cl')['stack_status_reason'] == 'Update cancelled'
    assert set(current_rows(paths, 'cl')) == {'a'}


@sqlite_only
def test_only_a_create_or_update_can_be_rolled_back_by_cancel(paths, tmp_path):
    path = tmp_path / 'ledger'
    paths.create('rb', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    stack = paths.service._stack('rb')
    db.stack_update(paths.database, stack.id, {'status': 'IN_PROGRESS', 'action': 'ROLLBACK'})
    try:
        code, _, err = cli(paths.service, 'stack', 'cancel', 'rb')
        assert code == 2
        assert 'a ROLLBACK in progress cannot be rolled back' in err
        assert '--no-rollback' in err
        with pytest.raises(exc.InvalidInput):
            paths.service.cancel_stack('rb')
        assert db.stack_get(paths.database, stack.id).current_traversal == \
            stack.current_traversal
    finally:
        db.stack_update(paths.database, stack.id, {'status': 'COMPLETE', 'action': 'CREATE'})


def test_rows_an_older_traversal_made_after_the_redirect_are_converged_away(
        dist, tmp_path, monkeypatch):
    """A row an older traversal's running action creates after the new traversal's graph
    was compiled (a window of milliseconds, forced here) is not in that graph: the new
    traversal does not complete but converges again, which deletes it."""
    from heat_taskflow.engine import distributed
    path = tmp_path / 'ledger'
    view = dist.create('late', tmpl({'a': ledger(path, 'one')}), 't.yaml')
    stack_id = view['id']
    # An older traversal, over now but with its sync points still there.
    sync_points.create(dist.database, stack_id, 'older-traversal',
                       graph_mod.compile_converge({'ghost': []}, []),
                       {'action': 'UPDATE', 'template_id': None, 'deadline': None})
    original = distributed.DistributedRunner.start
    made = []

    def start(self, runtime, graph):
        original(self, runtime, graph)
        if not made:        # the first traversal after the redirect only
            made.append(db.resource_create(
                dist.database, stack_id=stack_id, name='ghost', type='OS::Heat::TestLedger',
                action='CREATE', status='COMPLETE', status_reason='',
                properties_data={'ledger': str(path), 'value': 'g'}))

    monkeypatch.setattr(distributed.DistributedRunner, 'start', start)
    final = dist.update('late', tmpl({'a': ledger(path, 'two')}), 't.yaml')
    assert final['stack_status'] == 'UPDATE_COMPLETE', final['stack_status_reason']
    assert made
    assert [r.name for r in all_rows(dist, 'late')] == ['a']
    assert ('ghost', 'DELETE_COMPLETE') in [(e['resource_name'], e['resource_status'])
                                            for e in dist.list_events('late')]
    assert sync_points.other_traversals(dist.database, stack_id,
                                        db.stack_get(dist.database, stack_id)
                                        .current_traversal) == []
