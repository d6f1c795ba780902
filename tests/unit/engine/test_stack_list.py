"""list_stacks / count_stacks: Heat's filters, sort keys, direction, marker paging,
show_deleted and show_nested, in SQL and within the view's project."""

import pytest
import sqlalchemy as sa

from heat_taskflow.engine import exceptions as exc
from tests.unit.engine.helpers import res, tmpl

TEXT = tmpl({'a': res('one')})
BAD = tmpl({'bad': res('x', fail=True)})
NESTED = tmpl({'n': {'type': 'OS::Heat::Stack', 'properties': {
    'template': tmpl({'inner': res('deep')})}}})


@pytest.fixture
def made(service):
    """Project p1: b (complete), a (failed), c (nested, complete), gone (deleted);
    project p2: a."""
    p1 = service.scoped('p1')
    ids = {}
    ids['b'] = p1.create_stack('b', TEXT, 't.yaml')['id']
    ids['a'] = p1.create_stack('a', BAD, 't.yaml', disable_rollback=True)['id']
    ids['c'] = p1.create_stack('c', NESTED, 't.yaml')['id']
    ids['gone'] = p1.create_stack('gone', TEXT, 't.yaml')['id']
    p1.delete_stack('gone')
    p1.update_stack('b', TEXT, 't.yaml', existing=True)     # b: updated last
    service.scoped('p2').create_stack('a', TEXT, 't.yaml')
    return p1, ids


def names(stacks):
    return [s['stack_name'] for s in stacks]


def test_list_sorts_filters_and_pages(made):
    p1, ids = made
    assert names(p1.list_stacks()) == ['b', 'a', 'c']
    assert p1.count_stacks() == 3
    assert names(p1.list_stacks(sort_keys=['name'])) == ['a', 'b', 'c']
    assert names(p1.list_stacks(sort_keys=['stack_name'], sort_dir='desc')) == ['c', 'b', 'a']
    assert names(p1.list_stacks(sort_keys=['creation_time'], sort_dir='desc')) == \
        ['c', 'a', 'b']
    assert names(p1.list_stacks(sort_keys=['updated_time']))[-1] == 'b'
    assert names(p1.list_stacks(sort_keys=['status', 'name'])) == ['b', 'c', 'a']
    assert names(p1.list_stacks(filters={'status': 'FAILED'})) == ['a']
    assert names(p1.list_stacks(filters={'status': 'CREATE_COMPLETE'})) == ['c']
    assert names(p1.list_stacks(filters={'status': ['CREATE_FAILED', 'UPDATE_COMPLETE']})) \
        == ['b', 'a']
    assert names(p1.list_stacks(filters={'name': ['a', 'c']})) == ['a', 'c']
    assert names(p1.list_stacks(filters={'id': ids['c']})) == ['c']
    assert names(p1.list_stacks(filters={'action': 'UPDATE'})) == ['b']
    assert p1.count_stacks(filters={'status': 'COMPLETE'}) == 2
    # Pages by an exclusive marker, in the order asked for.
    first = p1.list_stacks(sort_keys=['name'], limit=2)
    assert names(first) == ['a', 'b']
    assert names(p1.list_stacks(sort_keys=['name'], limit=2, marker=first[-1]['id'])) == ['c']
    assert names(p1.list_stacks(sort_keys=['name'], sort_dir='desc',
                                marker=ids['b'])) == ['a']
    assert p1.list_stacks(limit=0) == []
    with pytest.raises(exc.InvalidInput, match='sort key "size"'):
        p1.list_stacks(sort_keys=['size'])
    with pytest.raises(exc.InvalidInput, match='filter "colour"'):
        p1.list_stacks(filters={'colour': 'red'})


def test_deleted_nested_and_projects(made, service):
    p1, ids = made
    deleted = p1.list_stacks(show_deleted=True, sort_keys=['name'])
    assert names(deleted) == ['a', 'b', 'c', 'gone']
    assert deleted[-1]['stack_status'] == 'DELETE_COMPLETE'
    assert deleted[-1]['deletion_time'] is not None
    nested = p1.list_stacks(show_nested=True)
    assert len(nested) == 4
    child = [s for s in nested if s['parent'] == ids['c']]
    assert len(child) == 1 and child[0]['project'] == 'p1'
    assert p1.count_stacks(show_nested=True, show_deleted=True) == 5
    # Another project's stacks are neither listed, counted nor a marker.
    p2 = service.scoped('p2')
    assert names(p2.list_stacks()) == ['a'] and p2.count_stacks() == 1
    assert names(p2.list_stacks(marker=ids['b'])) == ['a']
    with pytest.raises(exc.InvalidInput):
        p1.list_stacks(all_projects=True)
    admin = service.scoped('admin', admin=True)
    assert sorted(names(admin.list_stacks(all_projects=True))) == ['a', 'a', 'b', 'c']
    assert admin.count_stacks(all_projects=True, filters={'tenant': 'p2'}) == 1


def test_one_query_with_a_limit(made, service):
    p1, _ = made
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(service.database.engine, 'before_cursor_execute', record)
    try:
        p1.list_stacks(limit=1)
    finally:
        sa.event.remove(service.database.engine, 'before_cursor_execute', record)
    reads = [s for s in statements if 'FROM stack' in s and 'stack_output' not in s]
    assert len(reads) == 1 and 'LIMIT' in reads[0].upper()
