"""Tests for heat_taskflow.template.parameters and constraints."""

import time

import pytest

from heat_taskflow.template import constraints, parameters
from heat_taskflow.template.definitions import StackIdentity
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.limits import Limits
from heat_taskflow.template.parameters import Parameters, ParamSchema, immutable_changes

V = '2018-08-31'


def schema(name='p', **data):
    return ParamSchema.from_dict(name, data, V)


def value_of(data, value, name='p'):
    return Parameters({name: schema(name, **data)}, {name: value})[name]


# --- type conversion ---------------------------------------------------------------

@pytest.mark.parametrize('raw, expected', [
    ('42', 42), ('4.5', 4.5), (7, 7), (2.5, 2.5), ('-3', -3), ('1e3', 1000.0)])
def test_number_conversion(raw, expected):
    result = value_of({'type': 'number'}, raw)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize('raw', ['abc', True, [1], ''])
def test_number_rejects(raw):
    with pytest.raises(TemplateError, match="parameter 'p': value .* is not a valid number"):
        value_of({'type': 'number'}, raw)


@pytest.mark.parametrize('raw, expected', [
    ('true', True), ('False', False), ('yes', True), ('off', False), ('1', True), (0, False),
    (True, True)])
def test_boolean_conversion(raw, expected):
    assert value_of({'type': 'boolean'}, raw) is expected


def test_boolean_rejects_other_text():
    with pytest.raises(TemplateError, match='not a valid boolean'):
        value_of({'type': 'boolean'}, 'maybe')


@pytest.mark.parametrize('raw, expected', [
    ('a,b , c', ['a', 'b', 'c']), ('', []), (['x', 1], ['x', '1']), ('single', ['single'])])
def test_comma_delimited_list(raw, expected):
    assert value_of({'type': 'comma_delimited_list'}, raw) == expected


def test_comma_delimited_list_rejects_map():
    with pytest.raises(TemplateError, match='comma_delimited_list'):
        value_of({'type': 'comma_delimited_list'}, {'a': 1})


@pytest.mark.parametrize('raw, expected', [
    ('{"a": [1, 2]}', {'a': [1, 2]}), ({'k': 'v'}, {'k': 'v'}), ('[1]', [1]), ('', {})])
def test_json(raw, expected):
    assert value_of({'type': 'json'}, raw) == expected


@pytest.mark.parametrize('raw', ['{not json', '5', 7])
def test_json_rejects(raw):
    with pytest.raises(TemplateError, match="parameter 'p'.*not a valid json"):
        value_of({'type': 'json'}, raw)


def test_string_conversion_of_scalars_like_heat():
    assert value_of({'type': 'string'}, 5) == '5'
    assert value_of({'type': 'string'}, True) == 'True'
    with pytest.raises(TemplateError, match='not a valid string'):
        value_of({'type': 'string'}, ['a'])


# --- schema errors -------------------------------------------------------------------

@pytest.mark.parametrize('data, message', [
    ({}, 'missing "type"'),
    ({'type': 'integer'}, "invalid type 'integer'"),
    ({'type': 'string', 'colour': 'red'}, '"colour" is not a valid parameter key'),
    ({'type': 'string', 'constraints': {'length': {'min': 1}}}, '"constraints" must be a list'),
    ({'type': 'string', 'constraints': [{'range': {'min': 1}}]},
     'range constraint is not valid for a string parameter'),
    ({'type': 'number', 'constraints': [{'length': {'min': 1}}]},
     'length constraint is not valid for a number parameter'),
    ({'type': 'string', 'constraints': [{'bogus': 1}]}, 'unknown constraint "bogus"'),
    ({'type': 'string', 'constraints': [{'length': {'min': 1}, 'allowed_values': ['a']}]},
     'exactly one kind'),
    ({'type': 'string', 'constraints': [{'length': {'least': 1}}]}, 'invalid key "least"'),
    ({'type': 'string', 'constraints': [{'length': {}}]}, 'needs min or max'),
    ({'type': 'string', 'constraints': [{'allowed_pattern': '[a-'}]},
     'not a valid regular expression'),
    ({'type': 'number', 'constraints': [{'modulo': {'step': 2}}]}, 'both step and offset'),
    ({'type': 'number', 'constraints': [{'modulo': {'step': 0, 'offset': 0}}]},
     'step cannot be 0'),
    ({'type': 'number', 'constraints': [{'modulo': {'step': 2, 'offset': 3}}]},
     'offset must be smaller'),
    ({'type': 'string', 'hidden': 'perhaps'}, '"hidden" must be true or false'),
    ({'type': 'string', 'tags': 'a'}, '"tags" must be a list'),
    ({'type': 'string', 'default': 'zz', 'constraints': [{'allowed_values': ['a']}]},
     "default 'zz' is not one of"),
])
def test_schema_errors_name_parameter_and_path(data, message):
    with pytest.raises(TemplateError, match=message) as err:
        ParamSchema.from_dict('flavor', data, V)
    assert "parameter 'flavor'" in str(err.value)
    assert err.value.path[:2] == ('parameters', 'flavor')


def test_modulo_needs_2017_02_24():
    data = {'type': 'number', 'constraints': [{'modulo': {'step': 2, 'offset': 1}}]}
    ParamSchema.from_dict('n', data, '2017-02-24')
    with pytest.raises(TemplateError, match='modulo constraint needs'):
        ParamSchema.from_dict('n', data, '2016-10-14')


def test_tags_need_2018_03_02():
    ParamSchema.from_dict('n', {'type': 'string', 'tags': ['a']}, '2018-03-02')
    with pytest.raises(TemplateError, match='"tags" is not a valid parameter key'):
        ParamSchema.from_dict('n', {'type': 'string', 'tags': ['a']}, '2017-09-01')


# --- constraints -----------------------------------------------------------------------

def test_allowed_values_message_names_parameter_and_value():
    data = {'type': 'string', 'constraints': [{'allowed_values': ['m1.small', 'm1.big']}]}
    assert value_of(data, 'm1.big', 'flavor') == 'm1.big'
    with pytest.raises(TemplateError) as err:
        value_of(data, 'x', 'flavor')
    assert str(err.value).endswith(
        "parameter 'flavor': 'x' is not one of the allowed values ['m1.small', 'm1.big']")


def test_allowed_values_compare_in_parameter_type():
    data = {'type': 'number', 'constraints': [{'allowed_values': ['1', 2]}]}
    assert value_of(data, '1') == 1
    assert value_of(data, 2.0) == 2
    with pytest.raises(TemplateError):
        value_of(data, 3)


def test_allowed_values_apply_to_each_list_item():
    data = {'type': 'comma_delimited_list', 'constraints': [{'allowed_values': ['a', 'b']}]}
    assert value_of(data, 'a,b,a') == ['a', 'b', 'a']
    with pytest.raises(TemplateError, match="'c' not in allowed values"):
        value_of(data, 'a,c')


def test_length_on_string_list_and_json():
    c = [{'length': {'min': 2, 'max': 3}}]
    assert value_of({'type': 'string', 'constraints': c}, 'ab') == 'ab'
    with pytest.raises(TemplateError, match='length 4 is not between 2 and 3'):
        value_of({'type': 'string', 'constraints': c}, 'abcd')
    with pytest.raises(TemplateError, match='length 1'):
        value_of({'type': 'comma_delimited_list', 'constraints': c}, 'a')
    with pytest.raises(TemplateError, match='length 1'):
        value_of({'type': 'json', 'constraints': c}, {'a': 1})


def test_range_bounds_inclusive_and_one_sided():
    data = {'type': 'number', 'constraints': [{'range': {'min': 1, 'max': 10}}]}
    assert value_of(data, 1) == 1 and value_of(data, '10') == 10
    with pytest.raises(TemplateError, match='value 11 is not between 1 and 10'):
        value_of(data, 11)
    low = {'type': 'number', 'constraints': [{'range': {'min': 5}}]}
    with pytest.raises(TemplateError, match='at least 5'):
        value_of(low, 4)
    assert value_of(low, 10 ** 6) == 10 ** 6


def test_modulo():
    data = {'type': 'number', 'constraints': [{'modulo': {'step': 2, 'offset': 1}}]}
    assert value_of(data, 7) == 7
    with pytest.raises(TemplateError, match='not a multiple of 2 with an offset of 1'):
        value_of(data, 8)


def test_allowed_pattern_is_a_full_match():
    data = {'type': 'string', 'constraints': [{'allowed_pattern': '[a-z]+'}]}
    assert value_of(data, 'abc') == 'abc'
    with pytest.raises(TemplateError, match='does not match pattern'):
        value_of(data, 'abc1')


def test_constraint_description_is_used():
    data = {'type': 'string',
            'constraints': [{'length': {'max': 3}, 'description': 'Keep it short.'}]}
    with pytest.raises(TemplateError, match=r"parameter 'p': Keep it short\. \(length 5"):
        value_of(data, 'abcde')


def test_custom_constraint_registry():
    constraints.register_custom_constraint('test.even', lambda v: int(v) % 2 == 0)
    try:
        data = {'type': 'number', 'constraints': [{'custom_constraint': 'test.even'}]}
        assert value_of(data, 4) == 4
        with pytest.raises(TemplateError, match='not valid for test.even'):
            value_of(data, 3)
    finally:
        constraints.unregister_custom_constraint('test.even')


def test_custom_constraint_raising_value_error_and_unknown_names():
    def check(value):
        raise ValueError('no such flavor')
    constraints.register_custom_constraint('test.flavor', check)
    try:
        data = {'type': 'string', 'constraints': [{'custom_constraint': 'test.flavor'}]}
        with pytest.raises(TemplateError, match='no such flavor'):
            value_of(data, 'm1')
    finally:
        constraints.unregister_custom_constraint('test.flavor')
    unknown = ParamSchema.from_dict('p', {'type': 'string', 'constraints': [
        {'custom_constraint': 'nova.unknown_here'}]}, V)
    assert not unknown.constraints[0].known
    assert Parameters({'p': unknown}, {'p': 'x'})['p'] == 'x'


def test_custom_constraint_not_applied_to_default():
    constraints.register_custom_constraint('test.never', lambda v: False)
    try:
        data = {'type': 'string', 'default': 'd',
                'constraints': [{'custom_constraint': 'test.never'}]}
        s = ParamSchema.from_dict('p', data, V)
        assert Parameters({'p': s})['p'] == 'd'
        with pytest.raises(TemplateError, match='test.never'):
            Parameters({'p': s}, {'p': 'given'})
    finally:
        constraints.unregister_custom_constraint('test.never')


def test_custom_constraint_applies_to_the_environments_parameter_defaults():
    # parameter_defaults are the user's values, not the template's default.
    constraints.register_custom_constraint('test.never', lambda v: False)
    try:
        data = {'type': 'string', 'default': 'd',
                'constraints': [{'custom_constraint': 'test.never'}]}
        s = ParamSchema.from_dict('p', data, V)
        with pytest.raises(TemplateError, match="parameter 'p': 'env' is not valid for "
                                                "test.never"):
            Parameters({'p': s}, defaults={'p': 'env'})
    finally:
        constraints.unregister_custom_constraint('test.never')


def test_custom_constraint_entry_points_are_loaded_lazily(monkeypatch):
    class FakeExt:
        name = 'test.ep'
        plugin = staticmethod(lambda v: v == 'ok')

    class FakeManager:
        def __init__(self, group, **kwargs):
            assert group == 'heat_taskflow.constraints'

        def __iter__(self):
            return iter([FakeExt()])

    import stevedore.extension
    monkeypatch.setattr(stevedore.extension, 'ExtensionManager', FakeManager)
    monkeypatch.setattr(constraints, '_entry_points_loaded', False)
    monkeypatch.setattr(constraints, '_registry', {})
    assert constraints.get_custom_constraint('test.ep')('ok') is True


# --- values, defaults, hidden, pseudo, immutable ---------------------------------------------

def test_value_sources_in_order():
    s = {'p': schema('p', type='string', default='template')}
    assert Parameters(s)['p'] == 'template'
    assert Parameters(s, defaults={'p': 'env-default'})['p'] == 'env-default'
    assert Parameters(s, {'p': 'user'}, defaults={'p': 'env-default'})['p'] == 'user'


def test_missing_value_and_unknown_parameter():
    s = {'p': schema('p', type='string')}
    with pytest.raises(TemplateError, match="parameter 'p': no value given and it has no default"):
        Parameters(s)
    with pytest.raises(TemplateError, match="parameter 'q' is given a value but is not defined"):
        Parameters(s, {'p': 'x', 'q': 'y'})


def test_env_default_must_satisfy_constraints():
    s = {'p': schema('p', type='number', constraints=[{'range': {'max': 3}}])}
    with pytest.raises(TemplateError, match='value 5 is not at most 3'):
        Parameters(s, defaults={'p': 5})


def test_hidden_values_are_masked_everywhere():
    s = {'pw': schema('pw', type='string', hidden=True,
                      constraints=[{'length': {'min': 8}}]),
         'user': schema('user', type='string')}
    p = Parameters(s, {'pw': 'supersecret', 'user': 'bob'})
    assert p['pw'] == 'supersecret'
    assert p.masked() == {'pw': '******', 'user': 'bob'}
    assert 'supersecret' not in repr(p)
    assert p.hidden_names() == {'pw'}
    with pytest.raises(TemplateError) as err:
        Parameters(s, {'pw': 'short', 'user': 'bob'})
    assert 'short' not in str(err.value)
    assert "parameter 'pw'" in str(err.value)
    with pytest.raises(TemplateError) as err:
        Parameters({'n': schema('n', type='number', hidden=True)}, {'n': 'secretword'})
    assert 'secretword' not in str(err.value)


def test_pseudo_parameters_come_from_identity():
    p = Parameters({}, identity=StackIdentity('st', 'id-1', 'proj'))
    assert p.value('OS::stack_name') == 'st'
    assert p.value('OS::stack_id') == 'id-1'
    assert p.value('OS::project_id') == 'proj'
    assert 'OS::stack_name' not in p
    with pytest.raises(KeyError):
        p.value('nope')


def test_immutable_changes():
    old_s = {'a': schema('a', type='string', immutable=True),
             'b': schema('b', type='string', immutable=True),
             'c': schema('c', type='string')}
    new_s = dict(old_s, d=schema('d', type='string', immutable=True))
    old = Parameters(old_s, {'a': '1', 'b': '1', 'c': '1'})
    new = Parameters(new_s, {'a': '1', 'b': '2', 'c': '2', 'd': 'x'})
    assert immutable_changes(old, new) == ['b']


def test_parse_schemas_rejects_bad_section():
    with pytest.raises(TemplateError, match='parameters section must be a map'):
        parameters.parse_schemas(['a'], V)
    assert parameters.parse_schemas(None, V) == {}


# --- hostile values (issue #14, defects 3 and 9) -----------------------------------------

@pytest.mark.parametrize('raw', ['nan', 'NaN', 'inf', '-Infinity', '1e400', float('nan'),
                                 float('inf'), -float('inf')])
def test_number_refuses_non_finite_values(raw):
    with pytest.raises(TemplateError, match="parameter 'p': value .* is not a valid number: "
                                            ".* is not a finite number"):
        value_of({'type': 'number'}, raw)


def test_non_finite_numbers_are_refused_from_every_source():
    with pytest.raises(TemplateError, match="parameter 'n': default .* not a finite") as err:
        ParamSchema.from_dict('n', {'type': 'number', 'default': float('inf')}, V)
    assert err.value.path == ('parameters', 'n', 'default')
    schemas = {'n': ParamSchema.from_dict('n', {'type': 'number'}, V)}
    with pytest.raises(TemplateError, match="parameter 'n'.*not a finite"):
        Parameters(schemas, defaults={'n': 'nan'})
    with pytest.raises(TemplateError, match="parameter 'n'.*not a finite"):
        Parameters(schemas, {'n': '1e400'})


@pytest.mark.parametrize('raw', ['[NaN]', '{"a": Infinity}', '[1e999]', '[-Infinity]'])
def test_json_refuses_non_finite_numbers(raw):
    with pytest.raises(TemplateError, match="parameter 'p'.*not a finite number"):
        value_of({'type': 'json'}, raw)


@pytest.mark.parametrize('raw', [
    '[' * 5000 + ']' * 5000,                  # ended in a bare RecursionError (exit 1)
    '{"a":' * 5000 + '1' + '}' * 5000,
    '[' * 101 + ']' * 101,
])
def test_json_text_nesting_is_bounded(raw):
    with pytest.raises(TemplateError, match=r"parameter 'p': value .* is not a valid json: it "
                                            r"nests more than 100 levels .*max_template_depth"):
        value_of({'type': 'json'}, raw)


def test_json_nesting_counts_brackets_in_strings_as_text():
    text = '{"a": "%s", "b": [[1]]}' % ('[' * 5000)
    assert value_of({'type': 'json'}, text)['b'] == [[1]]
    assert value_of({'type': 'json'}, '[' * 100 + ']' * 100) is not None


def deep_list(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize('ptype', ['json', 'comma_delimited_list', 'boolean', 'string',
                                   'number'])
def test_deep_values_of_any_type_are_refused_cleanly(ptype):
    with pytest.raises(TemplateError, match="parameter 'p'.*nests more than 100 levels"):
        value_of({'type': ptype}, deep_list(5000))


def test_json_nesting_follows_the_limits():
    schemas = {'p': ParamSchema.from_dict('p', {'type': 'json'}, V)}
    shallow = Limits(max_template_depth=3)
    assert Parameters(schemas, {'p': '[[[]]]'}, limits=shallow)['p'] == [[[]]]
    with pytest.raises(TemplateError, match='nests more than 3 levels'):
        Parameters(schemas, {'p': '[[[[]]]]'}, limits=shallow)
    with pytest.raises(TemplateError, match='nests more than 3 levels'):
        Parameters(schemas, {'p': deep_list(4)}, limits=shallow)


def test_a_hidden_deep_value_is_not_shown():
    schemas = {'p': ParamSchema.from_dict('p', {'type': 'json', 'hidden': True}, V)}
    with pytest.raises(TemplateError) as err:
        Parameters(schemas, {'p': '[' * 200 + '"s3cret"' + ']' * 200})
    assert 's3cret' not in str(err.value) and '[[' not in str(err.value)
    assert 'nests more than 100 levels' in str(err.value)


def test_allowed_pattern_runs_under_regex_timeout():
    data = {'type': 'string', 'constraints': [{'allowed_pattern': '(a|aa)+$'}]}
    schemas = {'p': ParamSchema.from_dict('p', data, V)}
    start = time.monotonic()
    with pytest.raises(TemplateError) as err:
        Parameters(schemas, {'p': 'a' * 60 + 'b'}, limits=Limits(regex_timeout=0.2))
    assert time.monotonic() - start < 10
    assert err.value.message == ("parameter 'p': allowed_pattern took longer than 0.2 s "
                                 "([DEFAULT] regex_timeout)")
    assert err.value.path == ('parameters', 'p')


def test_a_bad_allowed_pattern_is_located():
    data = {'type': 'string', 'constraints': [{'allowed_pattern': 'a{1000000}'}]}
    with pytest.raises(TemplateError, match="parameter 'p': allowed_pattern .* is too large") \
            as err:
        ParamSchema.from_dict('p', data, V)
    assert err.value.path == ('parameters', 'p', 'constraints', 0)


# -- the size of a value (issue #14): max_template_size bytes, the value never printed ------

@pytest.mark.parametrize('ptype,value', [
    ('comma_delimited_list', ',' * 2_000_000),
    ('string', 'é' * 300_000),                      # 600,000 bytes in 300,000 characters
    ('json', ['x' * 1000] * 1000),
    ('json', {'k%d' % i: 'v' * 100 for i in range(10_000)}),
], ids=['list-text', 'multibyte-string', 'json-list', 'json-map'])
def test_a_value_over_max_template_size_is_refused_quickly(ptype, value):
    schema = ParamSchema('big', ptype)
    started = time.monotonic()
    with pytest.raises(TemplateError) as err:
        Parameters({'big': schema}, {'big': value})
    assert time.monotonic() - started < 2
    message = str(err.value)
    assert "parameter 'big': the value is more than 524288 bytes " \
           "([DEFAULT] max_template_size)" in message
    assert 'xxxx' not in message and ',,,,' not in message and 'vvvv' not in message


def test_the_size_budget_follows_the_limits_and_the_environment_defaults():
    schema = ParamSchema('s', 'string', hidden=True)
    limits = Limits(max_template_size=100)
    assert Parameters({'s': schema}, {'s': 'a' * 100}, limits=limits)['s'] == 'a' * 100
    with pytest.raises(TemplateError, match="parameter 's': the value is more than 100 bytes"):
        Parameters({'s': schema}, {'s': 'a' * 101}, limits=limits)
    with pytest.raises(TemplateError, match='more than 100 bytes'):
        Parameters({'s': schema}, defaults={'s': 'a' * 101}, limits=limits)
    # the template's own default is bounded with the template's text
    big_default = ParamSchema('s', 'string', default='d' * 500)
    assert Parameters({'s': big_default}, limits=limits)['s'] == 'd' * 500
