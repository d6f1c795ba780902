"""Resource lists with Heat's filters and details, resource metadata, and a stack's
environment and files as the API serves them."""

import pytest
import yaml

from heat_taskflow.engine import exceptions as exc
from tests.unit.engine.helpers import res, sqlite_only, tmpl

TEXT = tmpl({'a': dict(res('one'), metadata={'role': 'web', 'port': 80}),
             'b': res('two'),
             'bad': res('x', fail=True),
             'n': {'type': 'OS::Heat::Stack', 'description': 'the child',
                   'properties': {'template': tmpl({'inner': res('deep')})}}},
            parameters={'secret': {'type': 'string', 'hidden': True, 'default': 'x'},
                        'size': {'type': 'number', 'default': 1}})
ENV = yaml.safe_dump({'parameters': {'size': 3, 'secret': 'from-env'},
                      'parameter_defaults': {'secret': 'dflt'},
                      'resource_registry': {'My::Thing': 'OS::Heat::TestResource'}})


@pytest.fixture
def made(service):
    view = service.scoped('p1')
    stack = view.create_stack('web', TEXT, 't.yaml', files={'boot.sh': 'echo hi'},
                              environments=[('env.yaml', ENV)], parameters={'size': '5'},
                              disable_rollback=True)
    assert stack['stack_status'] == 'CREATE_FAILED'
    return view, stack


def by_name(views):
    return {v['resource_name']: v for v in views}


@sqlite_only
def test_resource_views_filters_and_detail(made):
    view, stack = made
    listed = by_name(view.list_resources('web'))
    assert set(listed) == {'a', 'b', 'bad', 'n'}
    a = listed['a']
    assert (a['logical_resource_id'], a['stack_id'], a['stack_name']) == ('a', stack['id'],
                                                                        'web')
    assert 'parent_resource' not in a and 'attributes' not in a
    child_id = listed['n']['nested_stack_id']
    deep = by_name(view.list_resources('web', nested_depth=1))
    assert deep['inner']['parent_resource'] == 'n'
    assert deep['inner']['stack_id'] == child_id
    assert listed['n']['nested_stack_name'] == deep['inner']['stack_name']
    assert by_name(view.list_resources('web', filters={'status': 'FAILED'})).keys() == {'bad'}
    assert by_name(view.list_resources('web', filters={'status': 'CREATE_COMPLETE'})).keys() \
        == {'a', 'b', 'n'}
    assert by_name(view.list_resources('web', filters={'name': ['a', 'b']})).keys() == \
        {'a', 'b'}
    assert by_name(view.list_resources('web', filters={'type': 'OS::Heat::Stack'})).keys() \
        == {'n'}
    assert by_name(view.list_resources('web', nested_depth=1,
                                       filters={'action': 'CREATE',
                                                'physical_resource_id':
                                                    deep['inner']['physical_resource_id']})
                   ).keys() == {'inner'}
    with pytest.raises(exc.InvalidInput, match='filter "colour"'):
        view.list_resources('web', filters={'colour': 'red'})
    detailed = by_name(view.list_resources('web', with_detail=True))
    assert detailed['a']['metadata'] == {'role': 'web', 'port': 80}
    assert detailed['a']['attributes']['output'] == 'one'
    assert detailed['n']['description'] == 'the child'
    shown = view.show_resource('web', 'a')
    assert shown['attributes']['output'] == 'one' and shown['metadata']['port'] == 80
    assert view.resource_metadata('web', 'a') == {'role': 'web', 'port': 80}
    assert view.resource_metadata('web', 'b') == {}
    with pytest.raises(exc.ResourceNotFound):
        view.resource_metadata('web', 'nope')


@sqlite_only
def test_environment_and_files(made, service):
    view, stack = made
    env = view.get_environment('web')
    assert env['parameters'] == {'size': '5', 'secret': '******'}
    assert env['parameter_defaults'] == {'secret': '******'}
    assert env['resource_registry']['My::Thing'] == 'OS::Heat::TestResource'
    assert set(env) == {'parameters', 'parameter_defaults', 'resource_registry',
                        'event_sinks', 'encrypted_param_names'}
    assert view.get_files(stack['id']) == {'boot.sh': 'echo hi'}
    with pytest.raises(exc.StackNotFound):
        service.scoped('p2').get_files(stack['id'])
    with pytest.raises(exc.StackNotFound):
        service.scoped('p2').get_environment(stack['id'])
