"""Stack operations end to end on both paths: the same final state from the legacy path and
from node jobs run by two conductors on a zake board."""

import pytest
import yaml

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from tests.unit.engine.helpers import (
    Paths,  # noqa: F401 - other modules import it here
    outputs,
    paths_on,
    res,
    rows,
    tmpl,
)


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, conf, database):
    with paths_on(request.param, conf, database) as on_path:
        yield on_path


def test_create_in_dependency_order_with_outputs(paths):
    text = tmpl({'a': res('one'),
                 'b': res({'get_attr': ['a', 'output']}),
                 'c': {'type': 'OS::Heat::Value',
                       'properties': {'value': {'list_join': ['+', [
                           {'get_attr': ['a', 'output']}, {'get_attr': ['b', 'output']}]]}}}},
                outputs={'joined': {'value': {'get_attr': ['c', 'value']}}})
    stack = paths.create('s1', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    assert stack['path'] == paths.path
    assert outputs(paths.get_stack('s1')) == {'joined': 'one+one'}
    events = paths.list_events('s1')
    completes = [e['resource_name'] for e in events if e['resource_status'] == 'CREATE_COMPLETE']
    assert completes.index('a') < completes.index('b') < completes.index('c')
    assert [e['resource_status'] for e in events if e['resource_name'] == 'a'] == [
        'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']
    assert paths.delete('s1')['stack_status'] == 'DELETE_COMPLETE'
    assert db.resource_list(paths.database, stack['id']) == []
    with pytest.raises(exc.StackNotFound):
        paths.get_stack('s1')


def test_update_in_place_replacement_add_and_remove(paths):
    v1 = tmpl({'keep': res('k'), 'inplace': res('x'),
               'replace': res('r1', update_replace=True), 'gone': res('g')})
    paths.create('s2', v1, 't.yaml')
    before = rows(paths, 's2')
    v2 = tmpl({'keep': res('k'), 'inplace': res('y'),
               'replace': res('r2', update_replace=True),
               'new': res({'get_attr': ['inplace', 'output']})})
    stack = paths.update('s2', v2, 't.yaml')
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    after = rows(paths, 's2')
    assert set(after) == {'keep', 'inplace', 'replace', 'new'}
    assert after['keep'].id == before['keep'].id
    assert after['keep'].updated_at == before['keep'].updated_at
    assert after['inplace'].id == before['inplace'].id
    assert after['inplace'].physical_resource_id == before['inplace'].physical_resource_id
    assert after['inplace'].attributes['output'] == 'y'
    assert after['replace'].id != before['replace'].id
    assert [r.name for r in db.resource_list(paths.database, stack['id'])].count(
        'replace') == 1
    # By name: SQLite may give a deleted row's id to a new row.
    assert 'gone' not in {r.name for r in db.resource_list(paths.database, stack['id'])}
    assert after['new'].attributes['output'] == 'y'


def test_failed_create_rolls_back(paths):
    text = tmpl({'ok': res('fine'),
                 'bad': {'type': 'OS::Heat::TestResource',
                         'properties': {'value': 'x', 'fail': True}, 'depends_on': 'ok'}})
    stack = paths.create('s3', text, 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    assert "resource 'bad'" in stack['stack_status_reason']
    assert rows(paths, 's3') == {}


def test_failed_create_without_rollback_stays_failed(paths):
    # 'bad' depends on 'ok' so that 'ok' has surely run: independent nodes not yet started
    # when the traversal fails are not run on the distributed path.
    bad = dict(res('x', fail=True), depends_on='ok')
    stack = paths.create('s4', tmpl({'bad': bad, 'ok': res('y')}), 't.yaml',
                         disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    assert stack['stack_status_reason'].startswith("Create failed: Resource CREATE failed: "
                                                   "resource 'bad'")
    assert rows(paths, 's4')['bad'].status == 'FAILED'
    assert rows(paths, 's4')['ok'].status == 'COMPLETE'


def test_failed_update_rolls_back_to_previous_template(paths):
    v1 = tmpl({'a': res('one'), 'b': res('b1', update_replace=True)},
              outputs={'a': {'value': {'get_attr': ['a', 'output']}}})
    paths.create('s5', v1, 't.yaml')
    before = rows(paths, 's5')
    v2 = tmpl({'a': res('two'), 'b': res('b2', update_replace=True, fail=True)},
              outputs={'a': {'value': {'get_attr': ['a', 'output']}}})
    stack = paths.update('s5', v2, 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    after = rows(paths, 's5')
    assert after['a'].attributes['output'] == 'one'
    assert outputs(paths.get_stack('s5')) == {'a': 'one'}
    assert after['b'].physical_resource_id == before['b'].physical_resource_id


def test_check_reports_drift(paths):
    paths.create('s7', tmpl({'a': res('1'), 'b': dict(res('2'), depends_on='a')}), 't.yaml')
    assert paths.check('s7')['stack_status'] == 'CHECK_COMPLETE'
    db.resource_data_set(paths.database, rows(paths, 's7')['b'].id, 'value', 'drifted')
    stack = paths.check('s7')
    assert stack['stack_status'] == 'CHECK_FAILED'
    assert stack['stack_status_reason'] == 'Check failed for resources: b'

    # A stack without resources (an empty graph) ends at once on both paths.
    assert paths.create('empty', tmpl({}), 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    assert paths.delete('empty')['stack_status'] == 'DELETE_COMPLETE'


def test_nested_stack(paths):
    child = {'heat_template_version': '2018-08-31',
             'resources': {'inner': res('deep')},
             'outputs': {'v': {'value': {'get_attr': ['inner', 'output']}}}}
    text = tmpl({'n': {'type': 'OS::Heat::Stack',
                       'properties': {'template': yaml.safe_dump(child)}}},
                outputs={'v': {'value': {'get_attr': ['n', 'outputs', 'v']}}})
    stack = paths.create('s9', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    assert outputs(paths.get_stack('s9')) == {'v': 'deep'}
    assert paths.delete('s9')['stack_status'] == 'DELETE_COMPLETE'
