"""Tests for heat_taskflow/template/redaction.py and its use by StackDefinition."""

import json

import pytest

from heat_taskflow.template import Environment, StackDefinition, Template, TemplateError, redaction

SECRET = 'SeCrEt-xyz-123'


def _defn(resources, param_type='string', params=None, env=None, outputs=None):
    doc = {'heat_template_version': '2021-04-16',
           'parameters': {'secret': {'type': param_type, 'hidden': True},
                          'plain': {'type': 'string', 'default': 'visible-value'}},
           'resources': resources, 'outputs': outputs or {}}
    return StackDefinition(Template.parse(json.dumps(doc), filename='t.yaml'),
                           env, params=params)


def _value(value):
    return {'bad': {'type': 'OS::Heat::Value', 'properties': {'value': value}}}


def test_masks_text_json_and_escaped_forms():
    r = redaction.Redactor([SECRET, {'k': ['a"quoted"secret', 7]}, ['one1', 'two2']])
    assert r('x %s y' % SECRET) == 'x ****** y'
    assert r(json.dumps({'k': ['a"quoted"secret', 7]})) == '******'
    assert r(repr('a"quoted"secret')) == "'******'"
    assert r('list one1,two2 and %r' % (['one1', 'two2'],)) == 'list ****** and ******'
    assert r(None) is None


def test_short_values_are_not_searched_for_in_text():
    r = redaction.Redactor(['abc', 'x', 12])
    assert not r
    assert r('t.yaml:12: abc x') == 't.yaml:12: abc x'


@pytest.mark.parametrize('value', [
    {'list_join': [',', {'get_param': 'secret'}]},
    {'map_merge': [{'get_param': 'secret'}]},
    {'repeat': {'template': 'x', 'for_each': {
        '%a%': [{'str_split': [',', {'get_param': 'secret'}]}]}}},
    {'str_split': [',', {'str_split': [',', {'get_param': 'secret'}]}]},
    {'digest': ['sha1', {'str_split': [',', {'get_param': 'secret'}]}]},
])
def test_function_errors_fed_by_a_hidden_parameter_are_masked(value):
    with pytest.raises(TemplateError) as info:
        _defn(_value(value), params={'secret': SECRET}).validate()
    assert SECRET not in str(info.value)
    assert '******' in str(info.value)
    assert info.value.path[:3] == ('resources', 'bad', 'properties')


def test_a_json_parameter_from_the_environment_is_masked_as_json_and_by_item():
    env = Environment.from_dict({'parameters': {'secret': {'items': [SECRET, 'other-item']}}})
    value = {'map_merge': [{'get_param': ['secret', 'items']}]}
    with pytest.raises(TemplateError) as info:
        _defn(_value(value), param_type='json', env=env).validate()
    assert SECRET not in str(info.value) and 'other-item' not in str(info.value)


def test_comma_delimited_list_items_are_masked():
    value = {'map_merge': [{'get_param': 'secret'}]}
    with pytest.raises(TemplateError) as info:
        _defn(_value(value), param_type='comma_delimited_list',
              params={'secret': 'first-item,%s' % SECRET}).validate()
    assert SECRET not in str(info.value) and 'first-item' not in str(info.value)


def test_visible_parameters_and_the_rest_of_the_message_are_kept():
    value = {'list_join': [',', {'get_param': 'plain'}]}
    with pytest.raises(TemplateError) as info:
        _defn(_value(value), params={'secret': SECRET}).validate()
    assert "'visible-value'" in str(info.value)
    assert str(info.value).startswith('t.yaml:')


def test_output_errors_are_masked_but_output_values_are_as_heat_shows_them():
    outputs = {'bad': {'value': {'list_join': [',', {'get_param': 'secret'}]}},
               'shown': {'value': {'get_param': 'secret'}}}
    d = _defn({}, params={'secret': SECRET}, outputs=outputs)
    out = d.resolve_outputs({})
    assert SECRET not in out['bad']['error'] and '******' in out['bad']['error']
    # Heat shows an output whose value is a hidden parameter as it is: the template
    # author exported it on purpose (a generated password handed to the user).
    assert out['shown']['value'] == SECRET


def test_an_invalid_hidden_value_is_masked_as_given():
    d = _defn({}, param_type='number', params={'secret': SECRET})
    assert d.redact('value %s' % SECRET) == 'value ******'
