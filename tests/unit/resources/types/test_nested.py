"""The nested-stack types: ResourceGroup, OS::Heat::Stack and template resources."""

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.exceptions import (
    InvalidAttribute,
    InvalidProperties,
    ResourceCheckFailed,
    ResourceError,
    ResourceFailure,
)
from heat_taskflow.resources.types.resource_group import ResourceGroup
from heat_taskflow.resources.types.stack import Stack
from heat_taskflow.resources.types.template_resource import TemplateResource
from tests.unit.resources.fakes import FakeContext, FakeNested, assert_create_idempotent, run_to_end

GROUP = {'count': 3, 'resource_def': {'type': 'OS::Heat::TestResource',
                                      'properties': {'value': 'server-%index%',
                                                     'nested': [{'n': '%index%'}],
                                                     'unset': None}}}


def finish_all(ctx):
    for stack_id, stack in ctx.nested.stacks.items():
        if stack['status'] == 'IN_PROGRESS':
            ctx.nested.finish(stack_id)


def create(res, ctx):
    run_to_end(res.handle_create, res.check_create_complete, ctx, finish_all)
    return res


def the_stack(ctx):
    (stack,) = ctx.nested.live().values()
    return stack


# -- ResourceGroup --------------------------------------------------------------------------

def test_group_template_replaces_index():
    ctx = FakeContext('group')
    create(ResourceGroup('group', GROUP, ctx), ctx)
    stack = the_stack(ctx)
    tmpl = stack['template']
    assert sorted(tmpl['resources']) == ['0', '1', '2']
    assert tmpl['resources']['2'] == {'type': 'OS::Heat::TestResource',
                                      'properties': {'value': 'server-2',
                                                     'nested': [{'n': '2'}]}}
    assert tmpl['outputs']['refs_map']['value']['1'] == {'get_resource': '1'}
    assert tmpl['outputs']['member.0']['value'] == {'get_attr': ['0']}
    assert stack['name'].startswith('teststack-group-')


def test_group_custom_index_var_and_metadata():
    ctx = FakeContext('group')
    props = {'count': 1, 'index_var': '__i__',
             'resource_def': {'type': 'T', 'properties': {'name': 'n-__i__-%index%'},
                              'metadata': {'m': '__i__'}}}
    create(ResourceGroup('group', props, ctx), ctx)
    member = the_stack(ctx)['template']['resources']['0']
    assert member == {'type': 'T', 'properties': {'name': 'n-0-%index%'},
                      'metadata': {'m': '__i__'}}


def test_group_count_change_updates_in_place():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx), ctx)
    new = dict(GROUP, count=5)
    assert not group.update_requires_replacement(new)
    assert group.update_requires_replacement(dict(GROUP, index_var='%i%'))
    run_to_end(lambda: group.handle_update(new), group.check_update_complete, ctx, finish_all)
    assert sorted(the_stack(ctx)['template']['resources']) == ['0', '1', '2', '3', '4']
    run_to_end(lambda: group.handle_update(dict(GROUP, count=0)), group.check_update_complete,
               ctx, finish_all)
    assert the_stack(ctx)['template']['resources'] == {}


def test_group_removal_policies_by_name_and_ref_never_reuse_names():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx), ctx)
    ctx.nested.finish(group.physical_id, resource_ids={'0': 'ref-0', '1': 'ref-1',
                                                       '2': 'ref-2'})
    new = dict(GROUP, removal_policies=[{'resource_list': ['ref-1', '0', 'nonsense']}])
    run_to_end(lambda: group.handle_update(new), group.check_update_complete, ctx, finish_all)
    assert sorted(the_stack(ctx)['template']['resources']) == ['2', '3', '4']
    assert group.get_attribute('removed_rsrc_list') == ['0', '1']
    # append mode: dropping the policy later does not bring the names back
    later = dict(GROUP, count=4)
    run_to_end(lambda: group.handle_update(later), group.check_update_complete, ctx,
               finish_all)
    assert sorted(the_stack(ctx)['template']['resources']) == ['2', '3', '4', '5']
    # update mode replaces the recorded list
    reset = dict(GROUP, count=2, removal_policies_mode='update')
    run_to_end(lambda: group.handle_update(reset), group.check_update_complete, ctx,
               finish_all)
    assert sorted(the_stack(ctx)['template']['resources']) == ['0', '1']


def test_group_removal_policies_at_create_are_names():
    ctx = FakeContext('group')
    create(ResourceGroup('group', dict(GROUP, removal_policies=[{'resource_list': [1]}]),
                         ctx), ctx)
    assert sorted(the_stack(ctx)['template']['resources']) == ['0', '2', '3']


def test_group_attributes():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', dict(GROUP, count=2), ctx), ctx)
    ctx.nested.finish(group.physical_id, outputs={
        'refs_map': {'0': 'id-0', '1': 'id-1'},
        'member.0': {'output': 'server-0', 'net': {'ip': ['10.0.0.1']}},
        'member.1': {'output': 'server-1', 'net': {'ip': ['10.0.0.2']}},
    })
    assert group.get_attribute('refs') == ['id-0', 'id-1']
    assert group.get_attribute('refs', 1) == 'id-1'
    assert group.get_attribute('refs_map') == {'0': 'id-0', '1': 'id-1'}
    assert group.get_attribute('output') == ['server-0', 'server-1']
    assert group.get_attribute('net', 'ip', 0) == ['10.0.0.1', '10.0.0.2']
    assert group.get_attribute('attributes', 'output') == {'0': 'server-0', '1': 'server-1'}
    assert group.get_attribute('attributes', 'net', 'ip', 0) == {'0': '10.0.0.1',
                                                                 '1': '10.0.0.2'}
    assert group.get_attribute('resource.1') == 'id-1'
    assert group.get_attribute('resource.1.output') == 'server-1'
    assert group.get_attribute('resource.0.net', 'ip') == ['10.0.0.1']
    assert group.get_attribute('show')['attributes']['refs_map']['0'] == 'id-0'
    assert group.get_reference_id() == group.physical_id


def test_group_schema_errors():
    with pytest.raises(InvalidProperties, match="property 'resource_def.type'"):
        ResourceGroup('g', {'resource_def': {}}, FakeContext()).validate()
    with pytest.raises(InvalidProperties, match="property 'count'"):
        ResourceGroup('g', dict(GROUP, count=-1), FakeContext()).validate()
    with pytest.raises(InvalidProperties, match="property 'index_var'"):
        ResourceGroup('g', dict(GROUP, index_var='%'), FakeContext()).validate()
    with pytest.raises(InvalidProperties, match="property 'removal_policies_mode'"):
        ResourceGroup('g', dict(GROUP, removal_policies_mode='x'), FakeContext()).validate()


def test_group_create_is_idempotent():
    assert_create_idempotent(lambda ctx: ResourceGroup('res', GROUP, ctx),
                             lambda ctx: len(ctx.nested.live()), finish_all)


# -- the shared nested-stack behaviour -------------------------------------------------------

def test_nested_failure_is_reported():
    ctx = FakeContext('group')
    group = ResourceGroup('group', GROUP, ctx)
    cookie = group.handle_create()
    assert group.check_create_complete(cookie) is False
    ctx.nested.finish(group.physical_id, status='FAILED', reason='member 1 failed')
    with pytest.raises(ResourceFailure, match='CREATE_FAILED: member 1 failed'):
        group.check_create_complete(cookie)


def test_nested_ending_in_another_action_is_a_failure():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx), ctx)
    cookie = group.handle_update(dict(GROUP, count=1))
    ctx.nested.stacks[group.physical_id].update(action='ROLLBACK', status='COMPLETE')
    with pytest.raises(ResourceFailure, match='ROLLBACK_COMPLETE'):
        group.check_update_complete(cookie)


def test_nested_delete_twice_and_without_stack():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx), ctx)
    run_to_end(group.handle_delete, group.check_delete_complete, ctx, finish_all)
    assert ctx.nested.live() == {}
    again = ResourceGroup('group', GROUP, ctx, physical_id=group.physical_id)
    run_to_end(again.handle_delete, again.check_delete_complete, ctx, finish_all)
    never = ResourceGroup('other', GROUP, FakeContext('other'))
    assert never.check_delete_complete(never.handle_delete())


def test_nested_retain_keeps_child_stack():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx, deletion_policy='Retain'), ctx)
    assert group.check_delete_complete(group.handle_delete())
    assert len(ctx.nested.live()) == 1


def test_nested_check():
    ctx = FakeContext('group')
    group = create(ResourceGroup('group', GROUP, ctx), ctx)
    group.handle_check()
    ctx.nested.finish(group.physical_id, status='FAILED', reason='boom')
    with pytest.raises(ResourceCheckFailed, match='boom'):
        group.handle_check()
    del ctx.nested.stacks[group.physical_id]
    with pytest.raises(ResourceCheckFailed, match='does not exist'):
        group.handle_check()


def test_nested_timeout_from_deadline():
    ctx = FakeContext('group', deadline=130.0, clock=10.0)
    ResourceGroup('group', GROUP, ctx).handle_create()
    assert the_stack(ctx)['timeout_mins'] == 2


# -- OS::Heat::Stack -----------------------------------------------------------------------

CHILD = '''
heat_template_version: 2018-08-31
parameters:
  size: {type: number}
outputs:
  ip: {value: 10.0.0.1}
'''


def test_stack_creates_child_from_template_property():
    ctx = FakeContext('child')
    stack = create(Stack('child', {'template': CHILD, 'parameters': {'size': 3},
                                   'timeout': 7}, ctx), ctx)
    child = the_stack(ctx)
    assert child['template']['parameters']['size'] == {'type': 'number'}
    assert child['parameters'] == {'size': 3}
    assert child['timeout_mins'] == 7
    ctx.nested.finish(stack.physical_id, outputs={'ip': '10.0.0.1', 'm': {'a': [1]}})
    assert stack.get_attribute('outputs') == {'ip': '10.0.0.1', 'm': {'a': [1]}}
    assert stack.get_attribute('outputs', 'ip') == '10.0.0.1'
    assert stack.get_attribute('outputs', 'm', 'a', 0) == 1
    assert stack.get_attribute('stack_id') == stack.physical_id


def test_stack_updates_in_place():
    ctx = FakeContext('child')
    stack = create(Stack('child', {'template': CHILD}, ctx), ctx)
    new = {'template': CHILD, 'parameters': {'size': 4}}
    assert not stack.update_requires_replacement(new)
    assert stack.update_requires_replacement({'template': CHILD,
                                              'context': {'insecure': True}})
    run_to_end(lambda: stack.handle_update(new), stack.check_update_complete, ctx,
               finish_all)
    assert the_stack(ctx)['parameters'] == {'size': 4}
    assert the_stack(ctx)['action'] == 'UPDATE'


@pytest.mark.parametrize('props,match', [
    ({'template': '[1, 2]'}, "property 'template': the template must be a map"),
    ({'template': 'a: [b'}, "property 'template': template:2: invalid YAML"),
    ({'template': CHILD, 'context': {'region_name': 'RegionTwo'}},
     "property 'context.region_name': remote regions are not supported"),
    ({}, "property 'template': required property is missing"),
])
def test_stack_validation(props, match):
    with pytest.raises(InvalidProperties, match=match):
        Stack('child', props, FakeContext()).validate()


def test_stack_create_is_idempotent():
    assert_create_idempotent(lambda ctx: Stack('res', {'template': CHILD}, ctx),
                             lambda ctx: len(ctx.nested.live()), finish_all)


# -- template resources --------------------------------------------------------------------

SERVER_TEMPLATE = '''
heat_template_version: 2018-08-31
parameters:
  flavor: {type: string, constraints: [{allowed_values: [small, big]}]}
  count: {type: number, default: 1}
  tags: {type: comma_delimited_list, default: []}
outputs:
  address: {description: the address, value: 10.0.0.5}
  OS::stack_id: {value: custom-ref}
'''


def server_class():
    return registry.get_template_resource_class('My::Server', 'server.yaml', SERVER_TEMPLATE,
                                                files={'server.yaml': SERVER_TEMPLATE})


def test_template_resource_schema_from_parameters_and_outputs():
    cls = server_class()
    assert cls.type_name == 'My::Server'
    assert set(cls.properties_schema) == {'flavor', 'count', 'tags'}
    assert cls.properties_schema['flavor'].required
    assert cls.has_attribute('address') and not cls.has_attribute('ip')
    with pytest.raises(InvalidProperties, match="property 'flavor': \"huge\" is not"):
        cls('srv', {'flavor': 'huge'}, FakeContext()).validate()
    with pytest.raises(InvalidProperties, match="property 'colour': unknown property"):
        cls('srv', {'flavor': 'big', 'colour': 1}, FakeContext()).validate()
    with pytest.raises(InvalidAttribute):
        cls('srv', {'flavor': 'big'}, FakeContext()).get_attribute('ip')


def test_template_resource_runs_nested_stack():
    cls = server_class()
    ctx = FakeContext('srv')
    res = create(cls('srv', {'flavor': 'big', 'count': '2'}, ctx), ctx)
    child = the_stack(ctx)
    assert child['parameters'] == {'flavor': 'big', 'count': 2}
    assert child['template']['outputs']['address']['value'] == '10.0.0.5'
    assert child['files'] == {'server.yaml': SERVER_TEMPLATE}
    assert res.get_reference_id() == res.physical_id  # no outputs yet
    ctx.nested.finish(res.physical_id, outputs={'address': '10.0.0.5',
                                                'OS::stack_id': 'custom-ref'})
    assert res.get_attribute('address') == '10.0.0.5'
    assert res.get_reference_id() == 'custom-ref'
    assert not res.update_requires_replacement({'flavor': 'small'})
    run_to_end(lambda: res.handle_update({'flavor': 'small'}), res.check_update_complete,
               ctx, finish_all)
    assert the_stack(ctx)['parameters'] == {'flavor': 'small'}


def test_template_resource_create_is_idempotent():
    cls = server_class()
    assert_create_idempotent(lambda ctx: cls('res', {'flavor': 'big'}, ctx),
                             lambda ctx: len(ctx.nested.live()), finish_all)


def test_template_resource_bad_templates():
    with pytest.raises(ValueError, match='bad.yaml: a template must be a map'):
        registry.get_template_resource_class('T', 'bad.yaml', '- 1')
    with pytest.raises(ValueError, match='bad.yaml: unknown parameter type "float"'):
        registry.get_template_resource_class('T', 'bad.yaml',
                                             {'parameters': {'p': {'type': 'float'}}})
    with pytest.raises(ResourceError, match='not bound to a template'):
        TemplateResource('r', {}, FakeContext()).child_template()


def test_fake_nested_service_is_idempotent_by_name():
    nested = FakeNested()
    first = nested.create_stack('n', {})
    assert nested.create_stack('n', {}) == first
    assert len(nested.stacks) == 1


def test_group_stored_attributes_answer_member_paths():
    from heat_taskflow.resources.types import resource_group as rg

    stored = rg.stored_attributes('OS::Heat::ResourceGroup', {
        'refs_map': {'10': 'id10', '0': 'id0', '2': 'id2'},
        'attributes': {'0': {'out': {'k': 'a'}}, '2': {'out': {'k': 'b'}},
                       '10': {'out': {'k': 'c'}}},
        'removed_rsrc_list': ['1']})
    assert stored.get_path('out', ['k']) == ['a', 'b', 'c']      # members in index order
    assert stored.get_path('refs', []) == ['id0', 'id2', 'id10']
    assert stored.get_path('refs', ['1']) == 'id2'
    assert stored.get_path('attributes', ['out', 'k']) == {'0': 'a', '2': 'b', '10': 'c'}
    assert stored.get_path('resource.2', []) == 'id2'
    assert stored.get_path('resource.2', ['out', 'k']) == 'b'
    assert stored.get_path('resource.10.out', ['k']) == 'c'
    assert stored.get_path('removed_rsrc_list', []) == ['1']
    assert stored.get_path('nope', []) == [None, None, None]
    assert not hasattr(rg.stored_attributes('OS::Heat::Value', {'value': 1}), 'get_path')
