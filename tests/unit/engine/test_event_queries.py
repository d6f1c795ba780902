"""list_events / show_event: Heat's event queries (marker, limit, sort, filters,
nested_depth), run in SQL, and the event view the API serves."""

import pytest
import sqlalchemy as sa

from heat_taskflow.engine import exceptions as exc
from tests.unit.engine.helpers import res, tmpl

TEXT = tmpl({'a': res('one'), 'b': res('two'), 'c': res('three')})
NESTED = tmpl({'n': {'type': 'OS::Heat::Stack', 'properties': {
    'template': tmpl({'inner': res('deep')})}}})
VIEW_KEYS = {'id', 'stack_id', 'stack_name', 'resource_name', 'logical_resource_id',
             'physical_resource_id', 'resource_type', 'resource_action', 'resource_status',
             'resource_status_reason', 'event_time', 'root_stack_id'}


@pytest.fixture
def web(service):
    view = service.scoped('p1')
    made = view.create_stack('web', TEXT, 't.yaml')
    assert made['stack_status'] == 'CREATE_COMPLETE'
    return view, made


def test_the_event_view_and_paging_by_marker(web):
    service, made = web
    every = service.list_events('web')
    assert len(every) == 2 + 3 * 2
    assert all(set(e) == VIEW_KEYS for e in every)
    first = every[0]
    assert (first['resource_name'], first['physical_resource_id'], first['resource_type'],
            first['resource_status'], first['stack_id'], first['root_stack_id']) == (
        'web', made['id'], 'OS::Heat::Stack', 'CREATE_IN_PROGRESS', made['id'], made['id'])
    assert len({e['id'] for e in every}) == len(every)
    assert all(len(e['id']) == 36 for e in every)          # uuids
    # Pages of 3 by an exclusive marker give every event once, in order.
    paged, marker = [], None
    while True:
        page = service.list_events('web', marker=marker, limit=3)
        if not page:
            break
        assert len(page) <= 3
        paged.extend(page)
        marker = page[-1]['id']
    assert [e['id'] for e in paged] == [e['id'] for e in every]
    # What `openstack stack delete --wait` asks first: the newest event.
    newest = service.list_events('web', limit=1, sort_dir='desc')
    assert [e['id'] for e in newest] == [every[-1]['id']]
    assert newest[0]['resource_status'] == 'CREATE_COMPLETE'
    backwards = service.list_events('web', sort_dir='desc', marker=every[4]['id'])
    assert [e['id'] for e in backwards] == [e['id'] for e in reversed(every[:4])]
    assert service.list_events('web', marker=every[-1]['id']) == []


def test_sorting_and_filters(web):
    service, _ = web
    by_name = service.list_events('web', sort_keys=['resource_name'])
    names = [e['resource_name'] for e in by_name]
    assert names == sorted(names)
    assert names[:2] == ['a', 'a']
    assert [e['resource_status'] for e in by_name[:2]] == ['CREATE_IN_PROGRESS',
                                                           'CREATE_COMPLETE']
    done = service.list_events('web', filters={'resource_status': 'COMPLETE'})
    assert {e['resource_name'] for e in done} == {'web', 'a', 'b', 'c'}
    assert all(e['resource_status'] == 'CREATE_COMPLETE' for e in done)
    assert service.list_events('web', filters={'resource_status': 'CREATE_COMPLETE'}) == done
    assert service.list_events('web', filters={'resource_status': 'DELETE_COMPLETE'}) == []
    two = service.list_events('web', filters={'resource_name': ['a', 'b'],
                                              'resource_action': 'CREATE'})
    assert {e['resource_name'] for e in two} == {'a', 'b'} and len(two) == 4
    own = service.list_events('web', filters={'resource_type': 'OS::Heat::Stack'})
    assert [e['resource_status'] for e in own] == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    assert len(service.list_events('web', resource_name='c')) == 2
    with pytest.raises(exc.InvalidInput, match='sort key "nope"'):
        service.list_events('web', sort_keys=['nope'])
    with pytest.raises(exc.InvalidInput, match='filter "owner"'):
        service.list_events('web', filters={'owner': 'x'})
    with pytest.raises(exc.InvalidInput, match='sort_dir'):
        service.list_events('web', sort_dir='up')


def test_show_event_and_projects(web, service):
    view, made = web
    event = view.list_events('web', resource_name='b')[-1]
    assert view.show_event('web', 'b', event['id']) == event
    assert view.show_event(made['id'], None, event['id']) == event
    with pytest.raises(exc.EventNotFound):
        view.show_event('web', 'a', event['id'])
    with pytest.raises(exc.EventNotFound):
        view.show_event('web', 'b', '00000000-0000-0000-0000-000000000000')
    with pytest.raises(exc.StackNotFound):
        service.scoped('p2').show_event(made['id'], 'b', event['id'])
    with pytest.raises(exc.StackNotFound):
        service.scoped('p2').list_events(made['id'])


def test_nested_depth_and_the_query_is_paged_in_sql(service):
    view = service.scoped('p1')
    top = view.create_stack('top', NESTED, 't.yaml')
    assert {e['stack_name'] for e in view.list_events('top')} == {'top'}
    deep = view.list_events('top', nested_depth=1)
    child = [e for e in deep if e['stack_name'] != 'top']
    assert {e['resource_name'] for e in child} >= {'inner'}
    assert all(e['root_stack_id'] == top['id'] for e in deep)
    times = [(e['event_time'], e['id']) for e in deep]
    assert [t for t, _ in times] == sorted(t for t, _ in times)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(service.database.engine, 'before_cursor_execute', record)
    try:
        page = view.list_events('top', nested_depth=1, limit=2, sort_dir='desc')
    finally:
        sa.event.remove(service.database.engine, 'before_cursor_execute', record)
    assert [e['id'] for e in page] == [e['id'] for e in reversed(deep)][:2]
    reads = [s for s in statements if 'FROM event' in s]
    assert len(reads) == 1 and 'LIMIT' in reads[0].upper()
