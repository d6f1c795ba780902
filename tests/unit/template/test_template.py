"""Tests for heat_taskflow.template.template (Template.parse)."""

import textwrap

import pytest

from heat_taskflow.template import Template, TemplateError, functions_base


def parse(text, **kw):
    return Template.parse(textwrap.dedent(text), filename='stack.yaml', **kw)


def error_of(text):
    with pytest.raises(TemplateError) as err:
        parse(text)
    return err.value


GOOD = """\
heat_template_version: 2018-08-31
description: a stack
parameters:
  flavor: {type: string, default: small}
parameter_groups:
  - label: main
    parameters: [flavor]
resources:
  server:
    type: OS::Nova::Server
    properties:
      flavor: {get_param: flavor}
      name: {get_param: OS::stack_name}
    metadata: {owner: me}
    depends_on: [port, port]
    deletion_policy: retain
    update_policy: {batch: 1}
  port:
    type: OS::Neutron::Port
outputs:
  ip:
    description: the address
    value: {get_attr: [server, first_address]}
"""


def test_parse_good_template():
    t = parse(GOOD)
    assert t.version.name == '2018-08-31'
    assert t.description == 'a stack'
    assert set(t.resources) == {'server', 'port'}
    server = t.resources['server']
    assert server.type == 'OS::Nova::Server'
    assert isinstance(server.properties['flavor'], functions_base.Function)
    assert server.metadata == {'owner': 'me'}
    assert server.depends_on == ('port',)
    assert server.deletion_policy == 'Retain'
    assert server.update_policy == {'batch': 1}
    assert server.path == ('resources', 'server')
    assert server.raw['type'] == 'OS::Nova::Server'
    assert t.outputs['ip'].description == 'the address'
    assert isinstance(t.outputs['ip'].value, functions_base.Function)
    assert t.resource_refs['server'] == (('port', ('resources', 'server', 'depends_on', 0)),)
    assert t.output_attribute_refs['ip'] == (('server', 'first_address'),)


def test_release_alias_and_json():
    t = Template.parse('{"heat_template_version": "rocky", "resources": {}}', 't.json')
    assert t.version.name == '2018-08-31'


def test_empty_sections_are_empty():
    t = parse('heat_template_version: 2016-10-14\nresources:\noutputs:\nparameters:\n')
    assert t.resources == {} and t.outputs == {} and t.parameter_schemas == {}


@pytest.mark.parametrize('text, line, path, message', [
    ('heat_template_version: 2018-08-31\nresource:\n  a: {type: X}\n', 2, ('resource',),
     '"resource" is not a valid template section'),
    ('description: x\n', None, (), 'missing heat_template_version'),
    ('AWSTemplateFormatVersion: 2010-09-09\n', None, (), 'CloudFormation'),
    ('heat_template_version: 2099-01-01\n', 1, ('heat_template_version',),
     'unknown heat_template_version "2099-01-01"'),
    ('heat_template_version: 2015-04-30\nconditions: {}\n', 2, ('conditions',),
     '"conditions" is not a valid template section'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    propertes: {}\n',
     5, ('resources', 'a', 'propertes'), '"propertes" is not a valid keyword'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    properties: {}\n',
     3, ('resources', 'a'), "resource 'a' needs a type"),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: [X]\n',
     4, ('resources', 'a', 'type'), "needs a type"),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n', 3, ('resources', 'a'),
     'must be a map'),
    ('heat_template_version: 2018-08-31\nresources:\n  a/b: {type: X}\n', 3,
     ('resources', 'a/b'), 'may not contain "/"'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    properties: [1]\n',
     5, ('resources', 'a', 'properties'), 'properties must be a map'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    depends_on: 5\n',
     5, ('resources', 'a', 'depends_on'), 'depends_on must be a resource name or a list'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
     '    depends_on: [b, 1]\n  b: {type: X}\n',
     5, ('resources', 'a', 'depends_on', 1), 'depends_on entries must be resource names'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
     '    depends_on: [nope]\n', 5, ('resources', 'a', 'depends_on', 0),
     'depends_on refers to resource "nope", which is not defined'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
     '    deletion_policy: Keep\n', 5, ('resources', 'a', 'deletion_policy'),
     'invalid deletion_policy "Keep"'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    properties:\n'
     '      p: {get_resource: ghost}\n', 6, ('resources', 'a', 'properties', 'p'),
     'get_resource refers to resource "ghost", which is not defined'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    metadata:\n'
     '      m: [1, {get_attr: [ghost, x]}]\n', 6, ('resources', 'a', 'metadata', 'm', 1),
     'get_attr refers to resource "ghost"'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n    properties:\n'
     '      p: {get_param: nope}\n', 6, ('resources', 'a', 'properties', 'p'),
     'get_param refers to parameter "nope", which is not defined'),
    ('heat_template_version: 2014-10-16\nresources:\n  a:\n    type: X\n    properties:\n'
     '      p: {map_merge: [{}, {}]}\n', 6, ('resources', 'a', 'properties', 'p'),
     'function "map_merge" is not available in heat_template_version 2014-10-16'),
    ('heat_template_version: 2018-08-31\noutputs:\n  o: {}\n', 3, ('outputs', 'o'),
     "output 'o' must be a map with a value"),
    ('heat_template_version: 2018-08-31\noutputs:\n  o:\n    value: 1\n    valeu: 2\n', 5,
     ('outputs', 'o', 'valeu'), '"valeu" is not a valid keyword inside an output'),
    ('heat_template_version: 2018-08-31\noutputs:\n  o:\n    value: {get_resource: x}\n',
     4, ('outputs', 'o', 'value'), 'get_resource refers to resource "x"'),
    ('heat_template_version: 2018-08-31\nparameters:\n  p:\n    type: strin\n', 4,
     ('parameters', 'p', 'type'), "parameter 'p': invalid type 'strin'"),
    ('heat_template_version: 2018-08-31\nparameter_groups:\n  - parameters: [x]\n', 3,
     ('parameter_groups', 0, 'parameters', 0), "refers to 'x', which is not a parameter"),
    ('heat_template_version: 2018-08-31\nparameters: {p: {type: string}}\n'
     'parameter_groups:\n  - parameters: [p]\n  - parameters: [p]\n', 5,
     ('parameter_groups', 1, 'parameters', 0), "'p' is in more than one parameter group"),
    ('heat_template_version: 2018-08-31\nparameter_groups:\n  - label: x\n', 3,
     ('parameter_groups', 0, 'parameters'), 'needs a "parameters" list'),
    ('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
     '    condition: missing\n', 5, ('resources', 'a', 'condition'),
     'condition "missing" is not defined'),
    ('heat_template_version: 2016-10-14\nresources:\n  a:\n    type: X\n'
     '    condition: {equals: [1, 1]}\n', 5, ('resources', 'a', 'condition'),
     'inline condition expression needs heat_template_version 2017-09-01'),
    ('heat_template_version: 2016-04-08\nresources:\n  a:\n    type: X\n'
     '    condition: c\n', 5, ('resources', 'a', 'condition'),
     '"condition" is not a valid keyword'),
    ('heat_template_version: 2018-08-31\nconditions:\n  c: [1, 2]\n', 3, ('conditions', 'c'),
     "condition 'c' must be true, false"),
    ('heat_template_version: 2018-08-31\nconditions:\n  c: other\n', 3, ('conditions', 'c'),
     'condition "other" is not defined'),
])
def test_errors_name_file_line_and_path(text, line, path, message):
    e = error_of(text)
    assert message in str(e)
    assert e.filename == 'stack.yaml'
    assert e.line == line
    assert e.path == path
    expected_prefix = 'stack.yaml' + (':%d' % line if line else '')
    assert str(e).startswith(expected_prefix)


def test_deletion_policy_case_rules_by_version():
    ok = ('heat_template_version: %s\nresources:\n  a:\n    type: X\n'
          '    deletion_policy: snapshot\n')
    assert parse(ok % '2016-10-14').resources['a'].deletion_policy == 'Snapshot'
    with pytest.raises(TemplateError, match='invalid deletion_policy'):
        parse(ok % '2016-04-08')


def test_deletion_policy_may_be_a_function():
    t = parse('heat_template_version: 2018-08-31\nparameters: {dp: {type: string}}\n'
              'resources:\n  a:\n    type: X\n    deletion_policy: {get_param: dp}\n')
    assert isinstance(t.resources['a'].deletion_policy, functions_base.Function)


def test_string_depends_on():
    t = parse('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
              '    depends_on: b\n  b: {type: Y}\n')
    assert t.resources['a'].depends_on == ('b',)
    assert t.resource_refs['a'] == (('b', ('resources', 'a', 'depends_on')),)


def test_pseudo_parameters_may_be_referenced():
    t = parse('heat_template_version: 2018-08-31\nresources:\n  a:\n    type: X\n'
              '    properties: {n: {get_param: OS::project_id}}\n')
    assert 'a' in t.resources


def test_limits_are_passed_to_the_parser():
    with pytest.raises(TemplateError, match='limit of 100 bytes'):
        parse(GOOD, max_size=100)
    with pytest.raises(TemplateError, match='deeper than 3'):
        parse(GOOD, max_depth=3)


def test_template_from_dict_without_source_map():
    t = Template({'heat_template_version': '2018-08-31',
                  'resources': {'a': {'type': 'X'}}}, filename='mem')
    assert t.resources['a'].type == 'X'
    with pytest.raises(TemplateError) as err:
        Template({'heat_template_version': '2018-08-31', 'bogus': 1}, filename='mem')
    assert str(err.value).startswith('mem: bogus:')


def test_ref_to_a_parameter_is_not_a_resource_reference_in_2013_05_23():
    text = ('heat_template_version: 2013-05-23\n'
            'parameters:\n  size: {type: number, default: 3}\n'
            'resources:\n  a:\n    type: OS::Heat::None\n'
            '    properties: {x: {Ref: size}}\n')
    tpl = Template.parse(text, 's.yaml')
    assert tpl.resource_refs.get('a', ()) == ()


def test_ref_to_an_unknown_name_is_still_an_error():
    text = ('heat_template_version: 2013-05-23\n'
            'resources:\n  a:\n    type: OS::Heat::None\n'
            '    properties: {x: {Ref: nothing}}\n')
    with pytest.raises(TemplateError, match='nothing'):
        Template.parse(text, 's.yaml')
