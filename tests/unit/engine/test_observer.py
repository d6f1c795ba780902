"""The conductors' continuous observer: drift recorded as events, auto-converge, and the
--auto-converge flags of the command line."""

import pytest
import yaml

from heat_taskflow.conductors import observer as observer_mod
from heat_taskflow.engine import legacy
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness
from tests.unit.engine.test_operator_lifecycle import cli

# What these tests check does not depend on the database.
sqlite_only = pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)


def tmpl(resources):
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources},
                          sort_keys=False)


def res(value):
    return {'type': 'OS::Heat::TestResource', 'properties': {'value': value}}


TEXT = tmpl({'a': res('one'), 'b': res('two')})


def rows(database, stack_id):
    return {r.name: r for r in db.resource_list(database, stack_id, current_only=True)}


def drift_events(service, name):
    return [e for e in service.list_events(name) if e['resource_status'] == 'CHECK_DRIFTED']


def observations(database, stack_id):
    row = db.sync_point_get(database, stack_id, observer_mod.TRAVERSAL, False)
    return row.atomic_key if row is not None else -1


@pytest.fixture
def service(conf, database):
    with harness.zake_service(conf, database) as service:
        yield service


def create(service, name, **kwargs):
    view = harness.settle(service, service.create_stack(name, TEXT, 't.yaml', **kwargs)['id'])
    assert view['stack_status'] == 'CREATE_COMPLETE', view
    return view


def test_drift_is_recorded_as_an_event_and_nothing_else_changes(service, conf, database):
    conf.set_override('interval', 0.1, group='observer')
    with harness.conductors(conf, database, count=2):
        stack = create(service, 'watched')
        before = rows(database, stack['id'])
        traversal = db.stack_get(database, stack['id']).current_traversal
        # 'a' changes behind the engine's back.
        db.resource_data_set(database, before['a'].id, 'value', 'changed')
        events = harness.wait_for(lambda: drift_events(service, 'watched'), what='drift event')
        assert [(e['resource_name'], e['physical_resource_id']) for e in events] == [
            ('a', before['a'].physical_resource_id)]
        assert "stored value 'changed' differs from 'one'" in events[0][
            'resource_status_reason']
        # Two more observations later: still one event (the drift is not news), and the
        # stack and its resources are as they were.
        seen = observations(database, stack['id'])
        harness.wait_for(lambda: observations(database, stack['id']) >= seen + 2,
                         what='two more observations')
    assert len(drift_events(service, 'watched')) == 1
    after = rows(database, stack['id'])
    assert {n: (r.id, r.action, r.status) for n, r in after.items()} == {
        n: (r.id, r.action, r.status) for n, r in before.items()}
    row = db.stack_get(database, stack['id'])
    assert (row.action, row.status, row.current_traversal) == ('CREATE', 'COMPLETE', traversal)


def test_auto_converge_replaces_what_drifted(service, conf, database):
    conf.set_override('interval', 0.1, group='observer')
    with harness.conductors(conf, database, count=2):
        stack = create(service, 'healing', auto_converge=True)
        assert stack['auto_converge'] is True
        before = rows(database, stack['id'])
        db.resource_data_set(database, before['a'].id, 'value', 'changed')

        def converged():
            row = db.stack_get(database, stack['id'])
            return row.action == 'UPDATE' and row.status != 'IN_PROGRESS' and row
        row = harness.wait_for(converged, what='the converging update')
        assert (row.action, row.status) == ('UPDATE', 'COMPLETE'), row.status_reason
    after = rows(database, stack['id'])
    assert after['a'].id != before['a'].id
    assert after['a'].physical_resource_id != before['a'].physical_resource_id
    assert (after['a'].action, after['a'].status) == ('CREATE', 'COMPLETE')
    assert after['b'].id == before['b'].id
    names = [(e['resource_name'], e['resource_status']) for e in service.list_events('healing')]
    assert ('a', 'CHECK_DRIFTED') in names
    assert ('b', 'CHECK_DRIFTED') not in names


def test_conductors_share_the_stacks_due(service, conf, database):
    with harness.conductors(conf, database, count=1) as (cond,):
        first = create(service, 'one')
        second = create(service, 'two')
        conf.set_override('interval', 3600, group='observer')
        conf.set_override('max_stacks_per_pass', 1, group='observer')
        observers = [observer_mod.Observer(conf, database, cond.engine, 'obs-%d' % i)
                     for i in range(3)]
        # One stack per pass each; a stack observed within the interval is not due.
        passes = [observer.run_pass() for observer in observers]
    assert passes[0] == {first['id']: {}}
    assert passes[1] == {second['id']: {}}
    assert passes[2] == {}
    assert drift_events(service, 'one') == []


@sqlite_only
def test_legacy_stacks_are_not_observed(conf, database):
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    try:
        service = harness.make_service(conf, database, executors)
        view = service.create_stack('old', TEXT, 't.yaml', auto_converge=True)
        assert (view['path'], view['stack_status']) == ('legacy', 'CREATE_COMPLETE')
        conf.set_override('interval', 3600, group='observer')
        observer = observer_mod.Observer(conf, database, service.engine, 'obs')
        assert observer.run_pass() == {}
    finally:
        executors.shutdown()


@sqlite_only
def test_auto_converge_flags_on_the_command_line(conf, database, tmp_path, capsys):
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    try:
        service = harness.make_service(conf, database, executors)
        path = tmp_path / 't.yaml'
        path.write_text(TEXT)

        def shown(name):
            code, out, err = cli(service, 'stack', 'show', name, '-f', 'value',
                                 '-c', 'auto_converge')
            assert code == 0, err
            return out.strip()

        code, out, err = cli(service, 'stack', 'create', '-t', str(path), '--auto-converge',
                             'cli', '-f', 'value', '-c', 'auto_converge')
        assert (code, out.strip()) == (0, 'True'), err
        code, _, err = cli(service, 'stack', 'update', '--existing', 'cli')
        assert code == 0, err
        assert shown('cli') == 'True'               # unchanged unless a flag is given
        code, _, err = cli(service, 'stack', 'update', '--existing', '--no-auto-converge',
                           'cli')
        assert code == 0, err
        assert shown('cli') == 'False'
        code, _, err = cli(service, 'stack', 'create', '-t', str(path), 'plain')
        assert code == 0, err
        assert shown('plain') == 'False'
        code, _, err = cli(service, 'stack', 'create', '-t', str(path), '--auto-converge',
                           '--no-auto-converge', 'both')
        assert code == 2
        assert 'not allowed with' in err + capsys.readouterr().err   # argparse's own
    finally:
        executors.shutdown()
