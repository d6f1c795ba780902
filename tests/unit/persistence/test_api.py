"""Tests for heat_taskflow.persistence.api on SQLite, PostgreSQL and MariaDB."""

import datetime
import threading
import uuid

import pytest
import sqlalchemy as sa

from heat_taskflow.persistence import api
from heat_taskflow.persistence import exceptions as exc

PROJECT = 'project-a'


def make_stack(db, name='web', project_id=PROJECT, **values):
    raw = api.raw_template_create(db, {'heat_template_version': '2021-04-16'})
    return api.stack_create(db, name=name, project_id=project_id, raw_template_id=raw.id,
                            **values)


def make_resource(db, stack, name='server', **values):
    return api.resource_create(db, stack_id=stack.id, name=name, type='OS::Nova::Server',
                               **values)


# raw_template

def test_raw_template_round_trips_template_files_and_environment(database):
    raw = api.raw_template_create(database, {'resources': {'a': {'type': 'T'}}},
                                  files={'f.yaml': 'x: 1'}, environment={'parameters': {}})
    got = api.raw_template_get(database, raw.id)
    assert got.template == {'resources': {'a': {'type': 'T'}}}
    assert got.files == {'f.yaml': 'x: 1'}
    assert got.environment == {'parameters': {}}
    assert isinstance(got.created_at, datetime.datetime)


def test_raw_template_get_missing_is_none(database):
    assert api.raw_template_get(database, 123456) is None


def test_raw_template_delete_refuses_one_in_use(database):
    stack = make_stack(database)
    with pytest.raises(exc.Conflict):
        api.raw_template_delete(database, stack.raw_template_id)
    unused = api.raw_template_create(database, {})
    assert api.raw_template_delete(database, unused.id) is True
    assert api.raw_template_get(database, unused.id) is None
    assert api.raw_template_delete(database, unused.id) is False


# stack

def test_stack_create_sets_defaults_and_live_name(database):
    stack = make_stack(database, parameters={'flavor': 'm1.small'}, timeout=30)
    assert uuid.UUID(stack.id)
    got = api.stack_get(database, stack.id)
    assert (got.name, got.live_name, got.project_id) == ('web', 'web', PROJECT)
    assert (got.action, got.status, got.nested_depth) == ('INIT', 'COMPLETE', 0)
    assert got.convergence is False and got.disable_rollback is True
    assert got.parameters == {'flavor': 'm1.small'} and got.timeout == 30
    assert got.deleted_at is None and got.updated_at is None


def test_stack_create_refuses_a_second_live_stack_of_the_same_name(database):
    make_stack(database, name='web')
    with pytest.raises(exc.StackExists) as info:
        make_stack(database, name='web')
    assert 'web' in str(info.value)
    # Other projects and other names are free.
    make_stack(database, name='web', project_id='project-b')
    make_stack(database, name='web2')


def test_deleted_stack_name_can_be_reused(database):
    first = make_stack(database, name='web')
    assert api.stack_mark_deleted(database, first.id) is True
    second = make_stack(database, name='web')
    assert api.stack_get_by_name(database, 'web', PROJECT).id == second.id
    deleted = api.stack_get(database, first.id)
    assert deleted.deleted_at is not None and deleted.live_name is None
    # Two deleted stacks of one name coexist (NULL live names do not collide).
    assert api.stack_mark_deleted(database, second.id) is True
    make_stack(database, name='web')
    assert api.stack_mark_deleted(database, second.id) is False


def test_stack_names_are_case_sensitive_on_every_backend(database):
    make_stack(database, name='Web')
    make_stack(database, name='web')
    assert api.stack_get_by_name(database, 'Web', PROJECT).name == 'Web'
    assert api.stack_get_by_name(database, 'web', PROJECT).name == 'web'


def test_stack_get_missing_and_show_deleted(database):
    assert api.stack_get(database, str(uuid.uuid4())) is None
    stack = make_stack(database)
    api.stack_mark_deleted(database, stack.id)
    assert api.stack_get(database, stack.id).id == stack.id
    assert api.stack_get(database, stack.id, show_deleted=False) is None
    assert api.stack_get_by_name(database, 'web', PROJECT) is None


def test_stack_list_filters_project_nested_owner_and_deleted(database):
    parent = make_stack(database, name='parent')
    child = make_stack(database, name='parent-child', owner_id=parent.id, nested_depth=1,
                       root_stack_id=parent.id)
    other = make_stack(database, name='other')
    gone = make_stack(database, name='gone')
    api.stack_mark_deleted(database, gone.id)
    make_stack(database, name='elsewhere', project_id='project-b')

    def ids(stacks):
        return [s.id for s in stacks]

    assert ids(api.stack_list(database, PROJECT)) == [parent.id, other.id]
    assert ids(api.stack_list(database, PROJECT, include_nested=True)) == [
        parent.id, child.id, other.id]
    assert ids(api.stack_list(database, PROJECT, owner_id=parent.id)) == [child.id]
    assert gone.id in ids(api.stack_list(database, PROJECT, show_deleted=True))
    assert len(api.stack_list(database, None)) == 3


def test_stack_list_filters_path_and_status(database):
    legacy = make_stack(database, name='legacy', status='IN_PROGRESS')
    busy = make_stack(database, name='busy', convergence=True, status='IN_PROGRESS')
    done = make_stack(database, name='done', convergence=True, status='COMPLETE')

    def ids(**filters):
        return [s.id for s in api.stack_list(database, PROJECT, **filters)]

    assert ids(convergence=True) == [busy.id, done.id]
    assert ids(convergence=False) == [legacy.id]
    assert ids(status='IN_PROGRESS') == [legacy.id, busy.id]
    assert ids(convergence=True, status='COMPLETE') == [done.id]


def test_stack_update_sets_values(database):
    stack = make_stack(database)
    assert api.stack_update(database, stack.id, {'action': 'CREATE', 'status': 'FAILED',
                                                 'status_reason': 'x' * 5000}) is True
    got = api.stack_get(database, stack.id)
    assert (got.action, got.status, got.status_reason) == ('CREATE', 'FAILED', 'x' * 5000)
    assert got.updated_at is not None
    assert api.stack_update(database, str(uuid.uuid4()), {'status': 'FAILED'}) is False


def test_stack_update_compare_and_swap_on_current_traversal(database):
    stack = make_stack(database, current_traversal='t1')
    assert api.stack_update(database, stack.id, {'current_traversal': 't2', 'status': 'A'},
                            expected_traversal='t1') is True
    # The stale expectation loses and changes nothing.
    assert api.stack_update(database, stack.id, {'current_traversal': 't3', 'status': 'B'},
                            expected_traversal='t1') is False
    got = api.stack_get(database, stack.id)
    assert (got.current_traversal, got.status) == ('t2', 'A')


def test_stack_update_rejects_unknown_and_fixed_columns(database):
    stack = make_stack(database)
    with pytest.raises(exc.InvalidValues, match='no column'):
        api.stack_update(database, stack.id, {'colour': 'red'})
    with pytest.raises(exc.InvalidValues, match='live_name'):
        api.stack_update(database, stack.id, {'live_name': 'x'})


def test_stack_update_rename_keeps_live_name_and_uniqueness(database):
    stack = make_stack(database, name='a')
    make_stack(database, name='b')
    assert api.stack_update(database, stack.id, {'name': 'c'}) is True
    assert api.stack_get_by_name(database, 'c', PROJECT).id == stack.id
    with pytest.raises(exc.StackExists):
        api.stack_update(database, stack.id, {'name': 'b'})


def test_stack_create_with_missing_raw_template_is_a_missing_reference(database):
    with pytest.raises(exc.MissingReference):
        api.stack_create(database, name='x', project_id=PROJECT, raw_template_id=987654)


def test_stack_delete_cascades_and_removes_unused_raw_templates(database):
    parent = make_stack(database, name='parent')
    child = make_stack(database, name='child', owner_id=parent.id, nested_depth=1)
    res = make_resource(database, parent)
    child_res = make_resource(database, child, current_template_id=child.raw_template_id)
    api.resource_data_set(database, res.id, 'intent', {'name': 'vm-1'})
    api.event_create(database, parent.id, resource_name='server')
    api.output_set_all(database, parent.id, {'ip': {'value': '10.0.0.1'}})
    api.sync_point_create(database, res.id, 't1', True, parent.id)
    survivor = make_stack(database, name='survivor')
    # A raw template another stack still uses must survive.
    api.stack_update(database, survivor.id, {'prev_raw_template_id': parent.raw_template_id})

    assert api.stack_delete(database, parent.id) is True

    assert api.stack_get(database, parent.id) is None
    assert api.stack_get(database, child.id) is None
    assert api.resource_get(database, res.id) is None
    assert api.resource_get(database, child_res.id) is None
    assert api.resource_data_get(database, res.id) == {}
    assert api.event_list(database, parent.id) == []
    assert api.output_list(database, parent.id) == []
    assert api.sync_point_get(database, res.id, 't1', True) is None
    assert api.raw_template_get(database, child.raw_template_id) is None
    assert api.raw_template_get(database, parent.raw_template_id) is not None
    assert api.stack_get(database, survivor.id) is not None
    assert api.stack_delete(database, parent.id) is False


# resource

def test_resource_create_and_get(database):
    stack = make_stack(database)
    res = make_resource(database, stack, requires=[1, 2], attributes={'ip': '10.0.0.5'},
                        properties_data={'flavor': 'm1'}, template={'type': 'T'},
                        root_stack_id=stack.id)
    assert isinstance(res.id, int)
    got = api.resource_get(database, res.id)
    assert uuid.UUID(got.uuid)
    assert (got.name, got.type, got.atomic_key, got.engine_id) == (
        'server', 'OS::Nova::Server', 0, None)
    assert got.requires == [1, 2] and got.needed_by == []
    assert got.attributes == {'ip': '10.0.0.5'}
    assert got.properties_data == {'flavor': 'm1'} and got.template == {'type': 'T'}
    assert api.resource_get(database, 999999) is None


def test_resource_create_in_missing_stack_is_a_missing_reference(database):
    with pytest.raises(exc.MissingReference):
        api.resource_create(database, stack_id=str(uuid.uuid4()), name='x')


def test_resource_get_by_name_returns_the_current_one(database):
    stack = make_stack(database)
    old = make_resource(database, stack)
    assert api.resource_get_by_name(database, stack.id, 'server').id == old.id
    new = api.resource_create_replacement(database, old.id, stack_id=stack.id, name='server')
    assert new.replaces == old.id
    assert api.resource_get(database, old.id).replaced_by == new.id
    assert api.resource_get_by_name(database, stack.id, 'server').id == new.id
    assert api.resource_get_by_name(database, stack.id, 'nope') is None
    assert [r.id for r in api.resource_list(database, stack.id)] == [old.id, new.id]
    assert [r.id for r in api.resource_list(database, stack.id, current_only=True)] == [new.id]


def test_resource_create_replacement_of_missing_row_creates_nothing(database):
    stack = make_stack(database)
    with pytest.raises(exc.ResourceNotFound):
        api.resource_create_replacement(database, 999999, stack_id=stack.id, name='server')
    assert api.resource_list(database, stack.id) == []


def test_resource_states_by_names(database):
    stack = make_stack(database)
    a = make_resource(database, stack, name='a')
    api.resource_update(database, a.id, {'reference_id': 'ref-a', 'attributes': {'x': 1},
                                         'type': 'T::A'})
    b = make_resource(database, stack, name='b')
    make_resource(database, stack, name='c')
    b2 = api.resource_create_replacement(database, b.id, stack_id=stack.id, name='b')
    rows = api.resource_states_by_names(database, stack.id, ['a', 'b', 'missing'])
    assert sorted((r.name, r.id) for r in rows) == [('a', a.id), ('b', b2.id)]
    (row_a,) = [r for r in rows if r.name == 'a']
    assert (row_a.type, row_a.reference_id, row_a.attributes) == ('T::A', 'ref-a', {'x': 1})
    assert api.resource_states_by_names(database, stack.id, []) == []


def test_resource_update_bumps_atomic_key_and_compare_and_swap(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    assert api.resource_update(database, res.id, {'status': 'IN_PROGRESS'}) is True
    assert api.resource_get(database, res.id).atomic_key == 1
    assert api.resource_update(database, res.id, {'status': 'COMPLETE',
                                                  'physical_resource_id': 'vm-1'},
                               expected_atomic_key=1) is True
    # Stale: someone else already moved it on from 1.
    assert api.resource_update(database, res.id, {'status': 'FAILED'},
                               expected_atomic_key=1) is False
    got = api.resource_get(database, res.id)
    assert (got.status, got.physical_resource_id, got.atomic_key) == ('COMPLETE', 'vm-1', 2)
    assert got.updated_at is not None
    assert api.resource_update(database, 999999, {'status': 'X'}) is False
    with pytest.raises(exc.InvalidValues):
        api.resource_update(database, res.id, {'atomic_key': 7})


def test_resource_lock_and_unlock_between_two_engines(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    assert api.resource_lock(database, res.id, 'engine-a') is True
    assert api.resource_lock(database, res.id, 'engine-b') is False
    assert api.resource_lock(database, res.id, 'engine-a') is True    # already ours
    assert api.resource_get(database, res.id).engine_id == 'engine-a'
    assert api.resource_unlock(database, res.id, 'engine-b') is False
    assert api.resource_get(database, res.id).engine_id == 'engine-a'
    assert api.resource_unlock(database, res.id, 'engine-a') is True
    assert api.resource_get(database, res.id).engine_id is None
    assert api.resource_lock(database, res.id, 'engine-b') is True
    assert api.resource_lock(database, 999999, 'engine-b') is False


def test_concurrent_resource_lock_has_one_winner(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    threads = 12
    barrier = threading.Barrier(threads)
    results = {}
    errors = []

    def contend(i):
        try:
            barrier.wait()
            results[i] = api.resource_lock(database, res.id, 'engine-%d' % i)
        except Exception as e:    # noqa: BLE001 - reported below
            errors.append(e)

    workers = [threading.Thread(target=contend, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    winners = [i for i, won in results.items() if won]
    assert len(winners) == 1
    assert api.resource_get(database, res.id).engine_id == 'engine-%d' % winners[0]


def test_resource_delete(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    assert api.resource_delete(database, res.id) is True
    assert api.resource_get(database, res.id) is None
    assert api.resource_delete(database, res.id) is False


def test_resource_delete_with_event_is_one_transaction(database):
    # The row's removal and its DELETE_COMPLETE together, once: a second call (the row is
    # gone) records nothing; a failing event insert keeps the row.
    stack = make_stack(database)
    res = make_resource(database, stack)
    event = api.resource_delete_with_event(
        database, res.id, stack_id=stack.id, resource_name='server', resource_action='DELETE',
        resource_status='COMPLETE', traversal_id='t1')
    assert event.id is not None and api.resource_get(database, res.id) is None
    assert api.resource_delete_with_event(
        database, res.id, stack_id=stack.id, resource_name='server', resource_action='DELETE',
        resource_status='COMPLETE', traversal_id='t1') is None
    assert [(e.resource_action, e.traversal_id) for e in api.event_list(database, stack.id)
            ] == [('DELETE', 't1')]
    kept = make_resource(database, stack, name='kept')
    with pytest.raises(sa.exc.IntegrityError):     # an event of no stack: rolls back
        api.resource_delete_with_event(database, kept.id, stack_id=None, resource_name='x')
    assert api.resource_get(database, kept.id) is not None


def test_replacement_and_restore_write_their_events_with_the_rows(database):
    stack = make_stack(database)
    old = make_resource(database, stack)
    new, event = api.resource_create_replacement(
        database, old.id, event=dict(stack_id=stack.id, resource_name='server',
                                     resource_status_reason='replacing with resource %d'),
        stack_id=stack.id, name='server')
    assert event.resource_status_reason == 'replacing with resource %d' % new.id
    restored = api.resource_restore(database, old.id, new.id, event=dict(
        stack_id=stack.id, resource_name='server', resource_status='COMPLETE'))
    assert restored.resource_status == 'COMPLETE'
    assert api.resource_get_by_name(database, stack.id, 'server').id == old.id
    assert [e.id for e in api.event_list(database, stack.id)] == [event.id, restored.id]
    # Gone: neither the swap nor the event.
    assert api.resource_restore(database, 999999, new.id, event=dict(
        stack_id=stack.id, resource_name='server')) is False
    assert len(api.event_list(database, stack.id)) == 2


def test_event_exists_asks_one_traversal(database):
    stack = make_stack(database)
    api.event_create(database, stack.id, resource_name='a', resource_action='CHECK',
                     resource_status='COMPLETE', traversal_id='t1')
    assert api.event_exists(database, stack.id, 'a', 't1', 'CHECK', 'COMPLETE')
    assert not api.event_exists(database, stack.id, 'a', 't2', 'CHECK', 'COMPLETE')
    assert not api.event_exists(database, stack.id, 'a', 't1', 'CHECK', 'FAILED')
    assert not api.event_exists(database, stack.id, 'b', 't1', 'CHECK', 'COMPLETE')


# resource_data

def test_resource_data_set_upserts(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    other = make_resource(database, stack, name='other')
    api.resource_data_set(database, res.id, 'intent', {'name': 'vm-1'})
    api.resource_data_set(database, res.id, 'count', 1)
    api.resource_data_set(database, res.id, 'intent', {'name': 'vm-2'})
    api.resource_data_set(database, other.id, 'intent', 'other')
    assert api.resource_data_get(database, res.id) == {'intent': {'name': 'vm-2'}, 'count': 1}
    assert api.resource_data_get(database, other.id) == {'intent': 'other'}
    assert api.resource_data_get(database, 999999) == {}


def test_resource_data_set_on_missing_resource(database):
    with pytest.raises(exc.ResourceNotFound):
        api.resource_data_set(database, 999999, 'k', 'v')


def test_resource_data_set_from_concurrent_writers(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    barrier = threading.Barrier(8)
    errors = []

    def write(i):
        try:
            barrier.wait()
            for n in range(5):
                api.resource_data_set(database, res.id, 'shared', [i, n])
        except Exception as e:    # noqa: BLE001 - reported below
            errors.append(e)

    workers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    value = api.resource_data_get(database, res.id)['shared']
    assert value[1] == 4 and 0 <= value[0] < 8


def test_resource_data_is_deleted_with_its_resource(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    api.resource_data_set(database, res.id, 'k', 'v')
    api.resource_delete(database, res.id)
    assert api.resource_data_get(database, res.id) == {}


# JSON

JSON_VALUES = [
    {'a': [1, 2.5, 'x', None, True, False, {'n': {}}]},
    [],
    [1, [2, [3]]],
    'text',
    '',
    0,
    -42,
    True,
    False,
    None,
    {'unicode': 'é ✓ 😀'},
    {'big': 'x' * 300000},    # beyond MySQL TEXT's 64 KiB
]


@pytest.mark.parametrize('value', JSON_VALUES, ids=lambda v: repr(v)[:20])
def test_json_columns_round_trip(database, value):
    stack = make_stack(database, parameters=value)
    res = make_resource(database, stack, attributes=value, properties_data=value,
                        template=value)
    api.resource_data_set(database, res.id, 'k', value)
    got_stack = api.stack_get(database, stack.id)
    got_res = api.resource_get(database, res.id)
    assert got_stack.parameters == value and type(got_stack.parameters) is type(value)
    assert got_res.attributes == value and type(got_res.attributes) is type(value)
    assert got_res.properties_data == value and got_res.template == value
    assert api.resource_data_get(database, res.id) == {'k': value}


# event

def test_event_create_and_list_in_order_with_filters(database):
    stack = make_stack(database)
    other = make_stack(database, name='other')
    created = []
    for i in range(5):
        created.append(api.event_create(
            database, stack.id, resource_name='a' if i % 2 == 0 else 'b',
            physical_resource_id='p%d' % i, resource_type='T', resource_action='CREATE',
            resource_status='COMPLETE', resource_status_reason='reason %d' % i))
    api.event_create(database, other.id, resource_name='a')
    events = api.event_list(database, stack.id)
    assert [e.id for e in events] == [e.id for e in created]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert events[0].resource_status_reason == 'reason 0' and uuid.UUID(events[0].uuid)
    assert [e.id for e in api.event_list(database, stack.id, since_id=created[2].id)] == [
        created[3].id, created[4].id]
    assert [e.physical_resource_id
            for e in api.event_list(database, stack.id, resource_name='b')] == ['p1', 'p3']
    assert len(api.event_list(database, stack.id, limit=2)) == 2


def test_event_created_at_keeps_microseconds(database):
    stack = make_stack(database)
    # A timestamp on an exact second (one chance in a million) would prove nothing.
    event = api.event_create(database, stack.id)
    while event.created_at.microsecond == 0:
        event = api.event_create(database, stack.id)
    stored = api.event_list(database, stack.id, since_id=event.id - 1)[0]
    assert stored.id == event.id
    assert stored.created_at == event.created_at


def test_event_for_missing_stack(database):
    with pytest.raises(exc.StackNotFound):
        api.event_create(database, str(uuid.uuid4()), resource_name='x')


# stack_output

def test_output_set_all_replaces_stored_outputs(database):
    stack = make_stack(database)
    api.output_set_all(database, stack.id, {
        'ip': {'value': '10.0.0.1', 'description': 'address', 'error': None},
        'bad': {'value': None, 'description': None, 'error': 'attribute missing'},
    })
    assert [(o.name, o.value, o.error) for o in api.output_list(database, stack.id)] == [
        ('bad', None, 'attribute missing'), ('ip', '10.0.0.1', None)]
    assert api.output_get(database, stack.id, 'ip').description == 'address'
    api.output_set_all(database, stack.id, {'ip': {'value': {'v4': '10.0.0.2'}}})
    assert [(o.name, o.value) for o in api.output_list(database, stack.id)] == [
        ('ip', {'v4': '10.0.0.2'})]
    assert api.output_get(database, stack.id, 'bad') is None
    api.output_set_all(database, stack.id, {})
    assert api.output_list(database, stack.id) == []


def test_output_set_all_is_one_transaction(database):
    stack = make_stack(database)
    api.output_set_all(database, stack.id, {'ip': {'value': 1}})
    with pytest.raises(sa.exc.StatementError, match='not JSON serializable'):
        # The second row cannot be serialised: the delete of the first must roll back.
        api.output_set_all(database, stack.id, {'ip': {'value': 2}, 'x': {'value': object()}})
    assert [(o.name, o.value) for o in api.output_list(database, stack.id)] == [('ip', 1)]


# stack holder and heartbeat (legacy liveness)

def test_stack_set_holder_leaves_updated_at_and_compares_the_holder(database):
    stack = make_stack(database)
    before = api.stack_get(database, stack.id).updated_at
    beat = datetime.datetime(2030, 1, 1)
    assert api.stack_set_holder(database, stack.id,
                                {'engine_id': 'e1', 'heartbeat_at': beat}) is True
    got = api.stack_get(database, stack.id)
    assert (got.engine_id, got.heartbeat_at, got.updated_at) == ('e1', beat, before)
    assert api.stack_set_holder(database, stack.id, {'engine_id': None},
                                expected_engine_id='e2') is False
    assert api.stack_set_holder(database, stack.id, {'engine_id': None},
                                expected_engine_id='e1') is True
    assert api.stack_get(database, stack.id).engine_id is None
    assert api.stack_set_holder(database, str(uuid.uuid4()), {'engine_id': 'e1'}) is False
    with pytest.raises(exc.InvalidValues, match='status'):
        api.stack_set_holder(database, stack.id, {'status': 'FAILED'})


def test_stack_refresh_heartbeats_only_where_the_holder_still_holds(database):
    held = make_stack(database, name='held', engine_id='e1')
    taken = make_stack(database, name='taken', engine_id='other')
    old = datetime.datetime(2000, 1, 1)
    for s in (held, taken):
        api.stack_set_holder(database, s.id, {'heartbeat_at': old})
    assert api.stack_refresh_heartbeats(database, {held.id: 'e1', taken.id: 'e1'}) == 1
    assert api.stack_get(database, held.id).heartbeat_at > old
    assert api.stack_get(database, taken.id).heartbeat_at == old
    assert api.stack_get(database, held.id).updated_at == held.updated_at
    assert api.stack_refresh_heartbeats(database, {}) == 0


def test_stack_take_over_is_a_compare_and_swap(database):
    stack = make_stack(database, status='IN_PROGRESS', current_traversal='t1')
    assert api.stack_take_over(database, stack.id, 't0', None, 'e1') is False   # stale
    assert api.stack_take_over(database, stack.id, 't1', None, 'e1') is True
    assert api.stack_take_over(database, stack.id, 't1', None, 'e2') is False   # held now
    assert api.stack_take_over(database, stack.id, 't1', 'e1', 'e2') is True
    got = api.stack_get(database, stack.id)
    assert got.engine_id == 'e2' and got.heartbeat_at is not None
    api.stack_update(database, stack.id, {'status': 'COMPLETE'})
    assert api.stack_take_over(database, stack.id, 't1', 'e2', 'e3') is False


# sync_point

def test_sync_point_create_get_and_duplicate(database):
    stack = make_stack(database)
    point = api.sync_point_create(database, 17, 't1', True, stack.id, input_data={'a': 1})
    assert (point.entity_id, point.atomic_key) == ('17', 0)
    got = api.sync_point_get(database, 17, 't1', True)
    assert got.input_data == {'a': 1} and got.stack_id == stack.id
    assert api.sync_point_get(database, 17, 't1', False) is None
    api.sync_point_create(database, 17, 't1', False, stack.id)    # other direction: distinct
    with pytest.raises(exc.SyncPointExists):
        api.sync_point_create(database, 17, 't1', True, stack.id)
    with pytest.raises(exc.StackNotFound):
        api.sync_point_create(database, 18, 't1', True, str(uuid.uuid4()))


def test_sync_point_create_all_in_one_transaction(database):
    stack = make_stack(database)
    api.sync_point_create_all(database, stack.id, 't1', [('1', True, {'a': 1}),
                                                         ('1', False, None),
                                                         (stack.id, True, {'key': 'stack'})])
    assert api.sync_point_get(database, '1', 't1', True).input_data == {'a': 1}
    assert len(api.sync_point_list(database, stack.id, traversal_id='t1')) == 3
    with pytest.raises(exc.SyncPointExists):
        api.sync_point_create_all(database, stack.id, 't1', [('2', True, None),
                                                             ('1', True, None)])
    assert api.sync_point_get(database, '2', 't1', True) is None      # nothing was added
    with pytest.raises(exc.StackNotFound):
        api.sync_point_create_all(database, str(uuid.uuid4()), 't2', [('3', True, None)])


def test_sync_point_update_input_compare_and_swap(database):
    stack = make_stack(database)
    api.sync_point_create(database, stack.id, 't1', True, stack.id)
    assert api.sync_point_update_input(database, stack.id, 't1', True, {'x': 1},
                                       expected_atomic_key=0) is True
    assert api.sync_point_update_input(database, stack.id, 't1', True, {'x': 2},
                                       expected_atomic_key=0) is False
    got = api.sync_point_get(database, stack.id, 't1', True)
    assert (got.input_data, got.atomic_key) == ({'x': 1}, 1)


def test_sync_point_delete_all_only_that_traversal(database):
    stack = make_stack(database)
    for entity in ('1', '2'):
        api.sync_point_create(database, entity, 't1', True, stack.id)
    api.sync_point_create(database, '1', 't2', True, stack.id)
    assert api.sync_point_delete_all(database, stack.id, 't1') == 2
    assert api.sync_point_get(database, '1', 't1', True) is None
    assert api.sync_point_get(database, '1', 't2', True) is not None



def test_sync_point_list_by_traversal_and_nodes_only(database):
    stack = make_stack(database)
    other = make_stack(database, name='other')
    for entity, traversal in (('1', 't1'), ('2', 't1'), (stack.id, 't1'), ('1', 't2'),
                              (stack.id, 't2'), ('1', 't3')):
        api.sync_point_create(database, entity, traversal, True, stack.id,
                              input_data={'key': '%s@%s' % (entity, traversal)})
    api.sync_point_create(database, '9', 't1', True, other.id)

    def keys(**kwargs):
        found = [(p.traversal_id, p.entity_id)
                 for p in api.sync_point_list(database, stack.id, **kwargs)]
        assert len(found) == len(set(found))
        return set(found)

    assert keys(traversal_id='t1') == {('t1', '1'), ('t1', '2'), ('t1', stack.id)}
    assert keys(traversal_id='t1', nodes_only=True) == {('t1', '1'), ('t1', '2')}
    assert keys(other_than='t1') == {('t2', '1'), ('t2', stack.id), ('t3', '1')}
    assert keys(other_than='t1', nodes_only=True) == {('t2', '1'), ('t3', '1')}
    assert len(keys()) == 6
    point = api.sync_point_list(database, stack.id, 't3')[0]
    assert point.input_data == {'key': '1@t3'}          # readable after the session ends
    assert api.sync_point_list(database, stack.id, 'nope') == []

# statements per call: the engine's benchmark counts them

def test_statement_count_per_call(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    calls = {
        'stack_get': (lambda: api.stack_get(database, stack.id), 1),
        'stack_update': (lambda: api.stack_update(database, stack.id, {'status': 'X'}), 1),
        'resource_create': (lambda: make_resource(database, stack, name='r2'), 1),
        'resource_get_by_name': (lambda: api.resource_get_by_name(database, stack.id,
                                                                  'server'), 1),
        'resource_list': (lambda: api.resource_list(database, stack.id), 1),
        'resource_update': (lambda: api.resource_update(database, res.id, {'status': 'X'},
                                                        expected_atomic_key=0), 1),
        'resource_lock': (lambda: api.resource_lock(database, res.id, 'e'), 1),
        'resource_data_set': (lambda: api.resource_data_set(database, res.id, 'k', 1), 1),
        'resource_data_get': (lambda: api.resource_data_get(database, res.id), 1),
        'event_create': (lambda: api.event_create(database, stack.id, resource_name='a'), 1),
        'event_list': (lambda: api.event_list(database, stack.id), 1),
        'output_set_all': (lambda: api.output_set_all(
            database, stack.id, {'a': {'value': 1}, 'b': {'value': 2}}), 2),
    }
    counts = {}
    for name, (call, _) in calls.items():
        with database.count_statements() as counter:
            call()
        counts[name] = counter.count
    assert counts == {name: expected for name, (_, expected) in calls.items()}


def test_returned_rows_are_detached_and_keep_their_values(database):
    stack = make_stack(database)
    res = make_resource(database, stack)
    rows = api.resource_list(database, stack.id)
    with database.count_statements() as counter:
        assert rows[0].name == 'server' and rows[0].stack_id == stack.id
        assert api.resource_get(database, res.id).to_dict()['name'] == 'server'
    assert counter.count == 1    # the get; attribute access loads nothing


class _Deadlock(Exception):
    def __init__(self):
        super().__init__(1213, 'Deadlock found when trying to get lock; try restarting '
                               'transaction')


def test_output_set_all_runs_a_deadlock_victim_again(database, monkeypatch):
    import sqlalchemy as sa

    stack = make_stack(database)
    original = database.session
    failures = []

    def session():
        if not failures:
            failures.append(1)
            raise sa.exc.OperationalError('INSERT INTO stack_output', {}, _Deadlock())
        return original()

    monkeypatch.setattr(database, 'session', session)
    api.output_set_all(database, stack.id, {'out': {'value': 'v'}})
    assert failures == [1]
    assert [(o.name, o.value) for o in api.output_list(database, stack.id)] == [('out', 'v')]


def test_output_set_all_does_not_retry_other_errors(database, monkeypatch):
    import sqlalchemy as sa

    stack = make_stack(database)
    calls = []

    def session():
        calls.append(1)
        raise sa.exc.OperationalError('INSERT', {}, Exception(2006, 'server has gone away'))

    monkeypatch.setattr(database, 'session', session)
    with pytest.raises(sa.exc.OperationalError):
        api.output_set_all(database, stack.id, {'out': {'value': 'v'}})
    assert calls == [1]


def test_output_set_all_gives_up_after_deadlock_retries(database, monkeypatch):
    import sqlalchemy as sa

    stack = make_stack(database)
    calls = []

    def session():
        calls.append(1)
        raise sa.exc.OperationalError('INSERT INTO stack_output', {}, _Deadlock())

    monkeypatch.setattr(database, 'session', session)
    with pytest.raises(sa.exc.OperationalError, match='Deadlock'):
        api.output_set_all(database, stack.id, {'out': {'value': 'v'}})
    assert len(calls) == api.DEADLOCK_RETRIES + 1
