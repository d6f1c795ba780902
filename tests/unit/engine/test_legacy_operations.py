"""Stack operations on the legacy path, end to end through the StackService on a real database."""

import threading

import pytest
import yaml

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from heat_taskflow.template import TemplateError
from tests.unit.engine.helpers import outputs, res, rows, sqlite_only, tmpl


def test_create_in_dependency_order_with_outputs_and_events(service):
    seen = []
    text = tmpl({'a': res('one'),
                 'b': res({'get_attr': ['a', 'output']}),
                 'c': {'type': 'OS::Heat::Value',
                       'properties': {'value': {'list_join': ['+', [
                           {'get_attr': ['a', 'output']}, {'get_attr': ['b', 'output']}]]}}}},
                outputs={'joined': {'value': {'get_attr': ['c', 'value']}}})
    stack = service.create_stack('s1', text, 't.yaml', on_event=seen.append)
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    assert stack['path'] == 'legacy'
    assert outputs(stack) == {'joined': 'one+one'}
    completes = [e['resource_name'] for e in seen if e['resource_status'] == 'CREATE_COMPLETE']
    assert completes.index('a') < completes.index('b') < completes.index('c')
    assert all('progress' in e for e in seen)
    assert seen[-1]['progress'][0] <= seen[-1]['progress'][1]
    stored = service.list_events('s1')
    assert [e['resource_status'] for e in stored if e['resource_name'] == 'a'] == [
        'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']


def test_update_in_place_replacement_add_and_remove(service):
    v1 = tmpl({'keep': res('k'), 'inplace': res('x'),
               'replace': res('r1', update_replace=True),
               'gone': res('g')})
    service.create_stack('s2', v1, 't.yaml')
    before = rows(service, 's2')
    v2 = tmpl({'keep': res('k'), 'inplace': res('y'),
               'replace': res('r2', update_replace=True),
               'new': res({'get_attr': ['inplace', 'output']})})
    stack = service.update_stack('s2', v2, 't.yaml')
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    after = rows(service, 's2')
    assert set(after) == {'keep', 'inplace', 'replace', 'new'}
    # unchanged: untouched row, no new event
    assert after['keep'].id == before['keep'].id
    assert after['keep'].updated_at == before['keep'].updated_at
    # in place: same row and physical id, new value
    assert after['inplace'].id == before['inplace'].id
    assert after['inplace'].physical_resource_id == before['inplace'].physical_resource_id
    assert after['inplace'].attributes['output'] == 'y'
    # replaced: a new row with a new physical id; the old row is gone
    # (SQLite may reuse a deleted row's id, so compare physical ids, not row ids.)
    assert after['replace'].physical_resource_id != before['replace'].physical_resource_id
    live = {r.physical_resource_id for r in db.resource_list(service.database,
                                                              service._stack('s2').id)}
    assert before['replace'].physical_resource_id not in live
    assert before['gone'].physical_resource_id not in live
    assert after['new'].attributes['output'] == 'y'
    events = [(e['resource_name'], e['resource_status']) for e in service.list_events('s2')]
    assert ('keep', 'UPDATE_IN_PROGRESS') not in events
    assert ('gone', 'DELETE_COMPLETE') in events


def test_failed_create_rolls_back_and_deletes_what_was_created(service):
    text = tmpl({'ok': res('fine'),
                 'bad': {'type': 'OS::Heat::TestResource',
                         'properties': {'value': 'x', 'fail': True},
                         'depends_on': 'ok'}})
    stack = service.create_stack('s3', text, 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    assert rows(service, 's3') == {}
    events = [(e['resource_name'], e['resource_status']) for e in service.list_events('s3')]
    assert ('bad', 'CREATE_FAILED') in events
    assert ('ok', 'DELETE_COMPLETE') in events
    # Read back from this backend in the order they happened (the command line's
    # `event list` shows them so; tests/functional/test_cli_legacy.py checks that on SQLite).
    assert [s for r, s in events if r == 'bad'] == [
        'CREATE_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE']
    assert events.index(('bad', 'CREATE_FAILED')) < events.index(('ok', 'DELETE_COMPLETE'))


def test_failed_create_without_rollback_stays_failed(service):
    text = tmpl({'bad': res('x', fail=True)})
    stack = service.create_stack('s4', text, 't.yaml', disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    assert 'bad' in stack['stack_status_reason']
    assert rows(service, 's4')['bad'].status == 'FAILED'


def test_failed_update_rolls_back_to_previous_template(service):
    v1 = tmpl({'a': res('one'), 'b': res('b1', update_replace=True)},
              outputs={'a': {'value': {'get_attr': ['a', 'output']}}})
    service.create_stack('s5', v1, 't.yaml')
    before = rows(service, 's5')
    v2 = tmpl({'a': res('two'),
               'b': res('b2', update_replace=True, fail=True)},
              outputs={'a': {'value': {'get_attr': ['a', 'output']}}})
    stack = service.update_stack('s5', v2, 't.yaml')
    assert stack['stack_status'] == 'ROLLBACK_COMPLETE', stack['stack_status_reason']
    after = rows(service, 's5')
    assert after['a'].attributes['output'] == 'one'
    assert outputs(service.get_stack('s5')) == {'a': 'one'}
    # the original b survives the failed replacement
    assert after['b'].physical_resource_id == before['b'].physical_resource_id
    assert after['b'].attributes['output'] == 'b1'
    # After the rolled-back update the stack can still be updated.
    v3 = tmpl({'a': res('three'), 'b': res('b1', update_replace=True)},
              outputs={'a': {'value': {'get_attr': ['a', 'output']}}})
    stack = service.update_stack('s5', v3, 't.yaml')
    assert stack['stack_status'] == 'UPDATE_COMPLETE', stack['stack_status_reason']
    assert outputs(service.get_stack('s5')) == {'a': 'three'}
    assert rows(service, 's5')['a'].physical_resource_id == before['a'].physical_resource_id


def test_delete_removes_resources_and_the_stack(service):
    service.create_stack('s6', tmpl({'a': res('1'),
                                     'b': res({'get_resource': 'a'})}), 't.yaml')
    stack = service.delete_stack('s6')
    assert stack['stack_status'] == 'DELETE_COMPLETE'
    with pytest.raises(exc.StackNotFound):
        service.get_stack('s6')
    # the name can be used again
    assert service.create_stack('s6', tmpl({'a': res('1')}), 't.yaml')[
        'stack_status'] == 'CREATE_COMPLETE'


def test_invalid_template_stores_nothing(service):
    bad = tmpl({'a': res({'get_attr': ['missing', 'x']})})
    with pytest.raises(TemplateError) as err:
        service.create_stack('s7', bad, 'bad.yaml')
    assert 'missing' in str(err.value)
    assert db.stack_get_by_name(service.database, 's7', 'default') is None
    with pytest.raises(TemplateError) as err:
        service.create_stack('s7', tmpl({'a': {'type': 'OS::Nope'}}), 't.yaml')
    assert str(err.value).startswith('t.yaml:4: resources.a.type: ')
    assert 'OS::Nope' in str(err.value)
    assert db.stack_get_by_name(service.database, 's7', 'default') is None
    with pytest.raises(TemplateError) as err:
        service.create_stack('s7', tmpl({'a': res('x', wait_secs='soon')}), 't.yaml')
    assert str(err.value).startswith('t.yaml:6: resources.a.properties.wait_secs: ')
    assert db.stack_get_by_name(service.database, 's7', 'default') is None


def test_bad_parameter_value_names_the_parameter(service):
    text = tmpl({'a': res({'get_param': 'n'})},
                parameters={'n': {'type': 'number'}})
    with pytest.raises(TemplateError, match="'n'|\"n\"|n:"):
        service.create_stack('s8', text, 't.yaml', parameters={'n': 'not-a-number'})
    assert db.stack_get_by_name(service.database, 's8', 'default') is None


def test_duplicate_name_is_refused(service):
    service.create_stack('dup', tmpl({'a': res('1')}), 't.yaml')
    with pytest.raises(exc.StackExists):
        service.create_stack('dup', tmpl({'a': res('1')}), 't.yaml')


def test_operation_on_stack_in_progress_is_refused(service):
    started = threading.Event()
    release = threading.Event()
    text = tmpl({'slow': res('1', wait_secs=0.5)})
    result = {}

    def create():
        def on_event(event):
            if event['resource_status'] == 'CREATE_IN_PROGRESS':
                started.set()
        result['stack'] = service.create_stack('busy', text, 't.yaml', on_event=on_event)
        release.set()

    worker = threading.Thread(target=create)
    worker.start()
    assert started.wait(10)
    with pytest.raises(exc.ActionInProgress, match='stack cancel'):
        service.update_stack('busy', text, 't.yaml')
    with pytest.raises(exc.ActionInProgress):
        service.delete_stack('busy')
    worker.join(20)
    assert result['stack']['stack_status'] == 'CREATE_COMPLETE'


def test_timeout_fails_the_operation(service, monkeypatch):
    # The deadline is minutes away; make it pass as soon as the resource starts waiting.
    from heat_taskflow.flows import runtime
    monkeypatch.setattr(runtime.OperationRuntime, 'timed_out', lambda self: True)
    text = tmpl({'slow': res('1', wait_secs=5)})
    stack = service.create_stack('slowstack', text, 't.yaml', timeout_mins=1,
                                 disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    assert 'timed out' in stack['stack_status_reason']


def test_hidden_parameters_are_masked(service):
    text = tmpl({'a': res({'get_param': 'secret'})},
                parameters={'secret': {'type': 'string', 'hidden': True}})
    stack = service.create_stack('hid', text, 't.yaml', parameters={'secret': 's3cr3t'})
    assert stack['parameters']['secret'] == '******'
    assert 's3cr3t' not in repr(service.get_stack('hid'))


def test_stack_show_has_the_template_description(service):
    text = tmpl({'a': res('1')}).replace('resources:', 'description: my stack\nresources:', 1)
    stack = service.create_stack('described', text, 't.yaml')
    assert stack['description'] == 'my stack'


def test_validate_describes_parameters_and_masks_hidden_defaults(service):
    text = tmpl({'a': res({'get_param': 'p'})},
                parameters={'p': {'type': 'string', 'default': 'secret', 'hidden': True,
                                  'label': 'Password'},
                            'n': {'type': 'number', 'default': 2,
                                  'constraints': [{'range': {'min': 1}}]}})
    out = service.validate_template(text, 't.yaml')
    assert out['Parameters']['p'] == {'Type': 'String', 'Description': '', 'Label': 'Password',
                                      'NoEcho': 'true', 'Default': '******'}
    assert out['Parameters']['n']['Constraints'] == [{'range': {'min': 1}}]
    assert db.stack_list(service.database, 'default') == []


def test_wait_follows_a_stack_deleted_while_waiting(service):
    # The distributed path deletes in conductors while the command line waits: the stack
    # stops being found by name half-way through, and wait must report DELETE_COMPLETE.
    service.create_stack('w', tmpl({'a': res('1')}), 't.yaml')
    stack = service._stack('w')
    db.stack_update(service.database, stack.id, {'action': 'DELETE', 'status': 'IN_PROGRESS'})
    seen = []

    def on_event(event):
        seen.append(event)
        if len(seen) == 1:
            db.stack_mark_deleted(service.database, stack.id)
            db.stack_update(service.database, stack.id, {'status': 'COMPLETE'})

    result = service.wait('w', on_event=on_event, poll=0.01)
    assert result['stack_status'] == 'DELETE_COMPLETE'
    assert [e['resource_name'] for e in seen] == ['a', 'a']


def test_group_members_see_the_parents_files(service):
    # A ResourceGroup's resource_def may use a template resource type from the files map.
    member = yaml.safe_dump({'heat_template_version': '2018-08-31',
                             'parameters': {'idx': {'type': 'string'}},
                             'resources': {'r': res({'get_param': 'idx'})},
                             'outputs': {'out': {'value': {'get_attr': ['r', 'output']}}}})
    text = tmpl({'group': {'type': 'OS::Heat::ResourceGroup',
                           'properties': {'count': 2, 'resource_def': {
                               'type': 'member.yaml', 'properties': {'idx': 'm%index%'}}}}},
                outputs={'outs': {'value': {'get_attr': ['group', 'out']}}})
    stack = service.create_stack('files', text, 't.yaml', files={'member.yaml': member})
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    assert outputs(stack) == {'outs': ['m0', 'm1']}


def test_check_reports_drift_and_goes_on_through_the_rest(service):
    service.create_stack('chk', tmpl({'a': res('one'), 'b': res('two'),
                                      'c': res({'get_attr': ['b', 'output']})}), 't.yaml')
    assert service.check_stack('chk')['stack_status'] == 'CHECK_COMPLETE'
    # Change the real thing behind the engine's back.
    row = rows(service, 'chk')['b']
    db.resource_data_set(service.database, row.id, 'value', 'tampered')
    stack = service.check_stack('chk')
    assert stack['stack_status'] == 'CHECK_FAILED'
    assert 'b' in stack['stack_status_reason']
    after = rows(service, 'chk')
    assert (after['b'].action, after['b'].status) == ('CHECK', 'FAILED')
    assert 'tampered' in after['b'].status_reason
    assert (after['a'].action, after['a'].status) == ('CHECK', 'COMPLETE')
    assert (after['c'].action, after['c'].status) == ('CHECK', 'COMPLETE')


@sqlite_only
def test_signal_is_refused_for_a_resource_that_takes_no_signals(service):
    text = tmpl({'handle': {'type': 'OS::Heat::WaitConditionHandle'}, 'plain': res('p')})
    assert service.create_stack('sig', text, 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    with pytest.raises(exc.InvalidInput, match='resource "plain" of stack "sig" is of type '
                       'OS::Heat::TestResource, which does not take signals') as err:
        service.signal_resource('sig', 'plain', {'status': 'SUCCESS'})
    assert err.value.exit_code == 2
    plain = rows(service, 'sig')['plain']
    assert not any(k.startswith('signal:') for k in db.resource_data_get(service.database,
                                                                         plain.id))
    service.signal_resource('sig', 'handle', {'status': 'SUCCESS'})
    handle = rows(service, 'sig')['handle']
    assert [v for k, v in db.resource_data_get(service.database, handle.id).items()
            if k.startswith('signal:')] == [{'status': 'SUCCESS'}]


def test_a_group_template_larger_than_max_template_size_is_created(service, conf):
    # max_template_size limits what a user submits; a group's template is written by the
    # engine and grows with its count (the TripleO example's 250 computes make ~680 KB).
    conf.set_override('max_template_size', 4096)
    text = tmpl({'group': {'type': 'OS::Heat::ResourceGroup',
                           'properties': {'count': 20, 'resource_def': res('x' * 300)}}})
    assert len(text) < 4096
    stack = service.create_stack('big-group', text, 't.yaml')
    assert stack['stack_status'] == 'CREATE_COMPLETE', stack['stack_status_reason']
    child = db.stack_list(service.database, 'default', owner_id=stack['id'])[0]
    raw = db.raw_template_get(service.database, child.raw_template_id)
    assert len(raw.template['text']) > 4096
    view = service.delete_stack('big-group')
    assert view is None or view['stack_status'] == 'DELETE_COMPLETE', view
    # What the user submits is still held to the limit.
    with pytest.raises(TemplateError, match='more than the limit of 4096 bytes'):
        service.create_stack('too-big', tmpl({'r': res('x' * 5000)}), 't.yaml')
