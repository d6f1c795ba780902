"""Checks at validation of what a stack's children will be (issue #14): a resource group's
count against ``max_resources_per_stack``, a template resource's child template and a
group's member definition, all refused before anything is stored."""

import time

import pytest

from heat_taskflow.engine import operations
from heat_taskflow.persistence import api as db
from heat_taskflow.template import TemplateError
from tests.unit.engine.helpers import sqlite_only, tmpl

pytestmark = sqlite_only

GROUP = 'OS::Heat::ResourceGroup'


def nothing_stored(service):
    return db.stack_list(service.database, 'default', include_nested=True) == []


def group(count, resource_def=None, **more):
    props = dict({'count': count}, **more)
    if resource_def is not False:
        props['resource_def'] = resource_def or {'type': 'OS::Heat::None'}
    return {'type': GROUP, 'properties': props}


# -- a group's count -----------------------------------------------------------------------

@pytest.mark.parametrize('count', [20_000, 1_000_000])
def test_a_group_count_over_the_stack_budget_is_refused_quickly(service, count):
    started = time.monotonic()
    for call in (service.validate_template, lambda *a: service.create_stack('big', *a)):
        with pytest.raises(TemplateError) as err:
            call(tmpl({'g': group(count)}), 't.yaml')
        message = str(err.value)
        assert message.startswith('t.yaml:'), message
        assert 'resources.g.properties.count' in message
        assert 'resource group "g": count %d' % count in message
        assert 'max_resources_per_stack' in message
    assert time.monotonic() - started < 10
    assert nothing_stored(service)


def test_a_group_count_from_a_parameter_is_counted(service):
    text = tmpl({'g': group({'get_param': 'n'})},
                parameters={'n': {'type': 'number', 'default': 2}})
    with pytest.raises(TemplateError, match='count 50000 .*max_resources_per_stack'):
        service.validate_template(text, 't.yaml', parameters={'n': '50000'})
    assert service.validate_template(text, 't.yaml')


def test_the_stack_budget_counts_the_stack_own_resources_and_every_group(service, conf):
    conf.set_override('max_resources_per_stack', 10)
    service.validate_template(tmpl({'g': group(9)}), 't.yaml')          # 1 + 9
    with pytest.raises(TemplateError, match='makes the stack 11 resources'):
        service.validate_template(tmpl({'g': group(10)}), 't.yaml')
    with pytest.raises(TemplateError, match='resource group "h": count 5 makes the stack '
                                            '12 resources'):
        service.validate_template(tmpl({'g': group(5), 'h': group(5)}), 't.yaml')
    conf.set_override('max_resources_per_stack', -1)
    service.validate_template(tmpl({'g': group(20_000)}), 't.yaml')


def test_a_count_known_only_at_create_is_checked_before_the_members_are_built(service,
                                                                             conf):
    conf.set_override('max_resources_per_stack', 10)
    text = tmpl({'n': {'type': 'OS::Heat::Value', 'properties': {'value': 20_000}},
                 'g': group({'get_attr': ['n', 'value']})})
    started = time.monotonic()
    view = service.create_stack('late', text, 't.yaml', disable_rollback=True)
    assert time.monotonic() - started < 10
    assert view['stack_status'] == 'CREATE_FAILED'
    assert 'count 20000 is more than the 10 resources one stack may hold ' \
           '([DEFAULT] max_resources_per_stack)' in view['stack_status_reason']


# -- child templates and member definitions ------------------------------------------------

CHILD = tmpl({'x': {'type': 'OS::Heat::RandomString', 'properties': {'length': 'abc'}}})


@pytest.mark.parametrize('content,expected', [
    ('a: 1\n', r'^notes.yaml: this file is named as a resource type'),
    (CHILD, r'^c.yaml:\d+: resources.x.properties.length: .*not an integer'),
    (tmpl({'x': {'type': 'OS::No::Such'}}), r'^c.yaml:\d+: resources.x.type: unknown'),
    (tmpl({'x': {'type': 'OS::Heat::None', 'depends_on': ['y']}}),
     r'^c.yaml:\d+: .*"y", which is not defined'),
], ids=['no-version', 'bad-property', 'bad-type', 'bad-reference'])
def test_a_bad_child_template_is_refused_before_storing(service, content, expected):
    name = 'notes.yaml' if content == 'a: 1\n' else 'c.yaml'
    for call in (service.validate_template, lambda *a: service.create_stack('child', *a)):
        with pytest.raises(TemplateError, match=expected):
            call(tmpl({'r': {'type': name}}), 't.yaml', {name: content})
    assert nothing_stored(service)


def test_a_child_template_is_checked_with_its_parameters(service):
    child = tmpl({'x': {'type': 'OS::Heat::Value', 'properties': {'value': {
        'get_param': 'p'}}}}, parameters={'p': {'type': 'number'}})
    files = {'c.yaml': child}
    service.validate_template(tmpl({'r': {'type': 'c.yaml', 'properties': {'p': 3}}}),
                              't.yaml', files)
    with pytest.raises(TemplateError, match=r"t.yaml:\d+: resources.r.properties"):
        service.validate_template(tmpl({'r': {'type': 'c.yaml'}}), 't.yaml', files)
    # a value known only at create leaves the child's values to be checked then
    late = tmpl({'v': {'type': 'OS::Heat::Value', 'properties': {'value': 3}},
                 'r': {'type': 'c.yaml', 'properties': {'p': {'get_attr': ['v', 'value']}}}})
    service.validate_template(late, 't.yaml', files)
    view = service.create_stack('late-child', late, 't.yaml', files)
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']


def test_a_group_without_resource_def_is_refused_at_validation(service):
    with pytest.raises(TemplateError, match=r't.yaml:\d+: resources.g.properties: property '
                                            r'"resource_def" is required'):
        service.create_stack('nodef', tmpl({'g': group(2, resource_def=False)}), 't.yaml')
    assert nothing_stored(service)


@pytest.mark.parametrize('resource_def,expected', [
    ({'type': 'OS::No::Such'}, r't.yaml:\d+: resources.g.properties.resource_def.type: '
                               r'member definition: unknown resource type'),
    ({'type': 'OS::Heat::RandomString', 'properties': {'length': 'abc'}},
     r't.yaml:\d+: resources.g.properties.resource_def.properties.length: member '
     r'definition: .*not an integer'),
    ({'type': 'c.yaml'}, r'^c.yaml:\d+: resources.x.properties.length'),
], ids=['bad-type', 'bad-property', 'bad-child-template'])
def test_a_bad_member_definition_is_refused_at_validation(service, resource_def, expected):
    with pytest.raises(TemplateError, match=expected):
        service.create_stack('members', tmpl({'g': group(3, resource_def)}), 't.yaml',
                             {'c.yaml': CHILD})
    assert nothing_stored(service)


def test_the_index_var_is_a_value_when_the_member_definition_is_checked(service):
    text = tmpl({'g': group(2, {'type': 'OS::Heat::RandomString',
                                'properties': {'length': '1%index%'}})})
    service.validate_template(text, 't.yaml')


def test_a_member_definition_is_checked_once_whatever_the_count(service, monkeypatch):
    child = tmpl({'x': {'type': 'OS::Heat::Value', 'properties': {'value': {
        'get_param': 'p'}}}}, parameters={'p': {'type': 'number'}})
    calls = []
    original = operations.StackEngine._validate_child

    def counting(self, *args):
        calls.append(args[0].template.filename if hasattr(args[0].template, 'filename')
                     else None)
        return original(self, *args)

    monkeypatch.setattr(operations.StackEngine, '_validate_child', counting)
    text = tmpl({'g': group(500, {'type': 'c.yaml', 'properties': {'p': '%index%'}})})
    started = time.monotonic()
    service.validate_template(text, 't.yaml', {'c.yaml': child})
    assert time.monotonic() - started < 10
    assert len(calls) == 2      # the member definition, then c.yaml once
