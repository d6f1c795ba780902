"""The legacy operations again with traversals split into parts of two nodes (see
flows.tasks.split_spec): dependency order, replacement, cleanup and rollback across parts."""

import pytest

from heat_taskflow.flows import tasks
from tests.unit.engine.helpers import res, rows, tmpl
from tests.unit.engine.test_legacy_operations import (  # noqa: F401 - collected again here
    test_create_in_dependency_order_with_outputs_and_events,
    test_delete_removes_resources_and_the_stack,
    test_failed_create_rolls_back_and_deletes_what_was_created,
    test_failed_update_rolls_back_to_previous_template,
)


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    monkeypatch.setattr(tasks, 'CHUNK_SIZE', 2)


def test_update_replaces_adds_and_removes_across_parts(service):
    # (Compared by physical id: SQLite may hand a deleted row's id to a replacement.)
    v1 = tmpl({'keep': res('k'), 'inplace': res('x'),
               'replace': res('r1', update_replace=True), 'gone': res('g')})
    service.create_stack('p', v1, 't.yaml')
    before = rows(service, 'p')
    v2 = tmpl({'keep': res('k'), 'inplace': res('y'),
               'replace': res('r2', update_replace=True),
               'new': res({'get_attr': ['inplace', 'output']})})
    stack = service.update_stack('p', v2, 't.yaml')
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    after = rows(service, 'p')
    assert set(after) == {'keep', 'inplace', 'replace', 'new'}
    assert after['inplace'].physical_resource_id == before['inplace'].physical_resource_id
    assert after['replace'].physical_resource_id != before['replace'].physical_resource_id
    assert after['new'].attributes['output'] == 'y'
    events = [(e['resource_name'], e['resource_status']) for e in service.list_events('p')]
    assert ('gone', 'DELETE_COMPLETE') in events
    assert ('replace', 'DELETE_COMPLETE') in events
