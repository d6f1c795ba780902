import pytest

from heat_taskflow.resources.exceptions import InvalidProperties
from heat_taskflow.resources.properties import Properties, Schema
from heat_taskflow.template import constraints as c

SCHEMA = {
    'name': Schema(Schema.STRING, required=True, constraints=[c.Length(min=2)]),
    'size': Schema(Schema.INTEGER, default=1, constraints=[c.Range(min=1, max=8)]),
    'ratio': Schema(Schema.NUMBER),
    'enabled': Schema(Schema.BOOLEAN, default=False),
    'tags': Schema(Schema.LIST, schema=Schema(Schema.STRING, constraints=[
        c.AllowedValues(['a', 'b'])])),
    'meta': Schema(Schema.MAP),
    'networks': Schema(Schema.LIST, schema=Schema(Schema.MAP, schema={
        'network': Schema(Schema.STRING, required=True),
        'port': Schema(Schema.INTEGER, constraints=[c.Range(min=1, max=65535)]),
    })),
    'labels': Schema(Schema.MAP, schema=Schema(Schema.INTEGER)),
    'anything': Schema(Schema.ANY),
}


def props(**values):
    return Properties(SCHEMA, values, 'web')


def error_of(values, partial=False):
    with pytest.raises(InvalidProperties) as info:
        Properties(SCHEMA, values, 'web').validate(partial=partial)
    return info.value


def test_defaults_and_conversion():
    p = props(name='web', size='3', ratio='0.5', enabled='True', tags=['a'],
              networks=[{'network': 'n', 'port': '80'}], labels={'x': '2'})
    p.validate()
    assert p['size'] == 3
    assert p['ratio'] == 0.5
    assert p['enabled'] is True
    assert p['networks'] == [{'network': 'n', 'port': 80}]
    assert p['labels'] == {'x': 2}
    assert p['meta'] is None
    assert dict(props(name='ab'))['size'] == 1
    assert props(name='ab')['enabled'] is False


def test_none_means_not_given_at_action_time():
    assert props(name='ab', size=None)['size'] == 1
    err = error_of({'name': None})
    assert str(err) == "resource 'web': property 'name': required property is missing"


def test_missing_required():
    err = error_of({})
    assert err.path == ('name',)
    assert 'required property is missing' in str(err)
    assert err.resource_name == 'web'


def test_unknown_property_named():
    err = error_of({'name': 'ab', 'colour': 'red'})
    assert err.path == ('colour',)
    assert "resource 'web': property 'colour': unknown property" in str(err)


@pytest.mark.parametrize('key,value,expected', [
    ('size', 'three', 'is not an integer'),
    ('size', True, 'is not an integer'),
    ('size', 2.5, 'is not an integer'),
    ('ratio', 'x', 'is not a number'),
    ('enabled', 'yes', 'is not a boolean'),
    ('tags', 'a,b', 'is not a list'),
    ('meta', ['x'], 'is not a map'),
    ('name', {'a': 1}, 'is not a string'),
])
def test_wrong_types(key, value, expected):
    err = error_of({'name': 'ab', key: value})
    assert err.path == (key,)
    assert expected in str(err)


def test_string_accepts_numbers_and_booleans():
    assert props(name=12)['name'] == '12'
    assert props(name=True)['name'] == 'true'


def test_nested_paths_in_errors():
    err = error_of({'name': 'ab', 'networks': [{'network': 'n', 'port': 70000}]})
    assert str(err).startswith("resource 'web': property 'networks[0].port': 70000 is out")
    err = error_of({'name': 'ab', 'networks': [{'network': 'n'}, {'port': 1}]})
    assert err.path == ('networks', 1, 'network')
    err = error_of({'name': 'ab', 'networks': [{'network': 'n', 'bogus': 1}]})
    assert err.path == ('networks', 0, 'bogus')
    err = error_of({'name': 'ab', 'tags': ['a', 'z']})
    assert err.path == ('tags', 1)
    err = error_of({'name': 'ab', 'labels': {'k': 'v'}})
    assert err.path == ('labels', 'k')


def test_constraint_failures():
    assert 'length (1)' in str(error_of({'name': 'a'}))
    assert 'out of range' in str(error_of({'name': 'ab', 'size': 9}))


def test_partial_skips_values_not_produced_yet():
    Properties(SCHEMA, {'name': None, 'size': None,
                        'networks': [{'network': None, 'port': None}],
                        'tags': [None]}, 'web').validate(partial=True)
    # Known values are still checked at validation time.
    err = error_of({'name': None, 'size': 100}, partial=True)
    assert err.path == ('size',)
    # Unknown properties too.
    assert error_of({'name': None, 'x': None}, partial=True).path == ('x',)


def test_partial_skips_constraints_over_partly_known_values():
    schema = {'pair': Schema(Schema.LIST, constraints=[c.Length(min=2, max=2)])}
    Properties(schema, {'pair': [None]}, 'r').validate(partial=True)
    with pytest.raises(InvalidProperties):
        Properties(schema, {'pair': [None]}, 'r').validate()


def test_reading_an_invalid_value_raises():
    p = props(name='ab', size='x')
    with pytest.raises(InvalidProperties):
        p['size']


def test_any_schema_accepts_everything():
    p = Properties(None, {'whatever': [1, {'x': None}]}, 'r')
    p.validate()
    assert p['whatever'] == [1, {'x': None}]
    assert list(p) == ['whatever']


def test_diff_compares_converted_values():
    old = props(name='ab', size=2)
    assert old.diff(props(name='ab', size='2')) == {}
    assert old.diff(props(name='ab')) == {'size': 1}
    assert old.diff(props(name='cd', size=2)) == {'name': 'cd'}


def test_schema_rejects_bad_declarations():
    with pytest.raises(ValueError):
        Schema('float')
    with pytest.raises(ValueError):
        Schema(Schema.STRING, schema=Schema(Schema.STRING))
    with pytest.raises(ValueError):
        Schema(Schema.LIST, schema={'a': Schema(Schema.STRING)})


def test_schema_to_dict():
    d = SCHEMA['networks'].to_dict()
    assert d['type'] == 'list'
    assert d['schema']['*']['schema']['port']['constraints'] == [{'range': {'min': 1,
                                                                          'max': 65535}}]
    assert SCHEMA['size'].to_dict()['default'] == 1


def test_schema_from_parameter():
    s = Schema.from_parameter({'type': 'number', 'default': 3,
                               'constraints': [{'range': {'max': 5}}]})
    assert (s.type, s.default, s.required, s.update_allowed) == ('number', 3, False, True)
    assert Schema.from_parameter({'type': 'comma_delimited_list'}).required
    assert Schema.from_parameter({'type': 'json'}).type == Schema.ANY
    with pytest.raises(ValueError):
        Schema.from_parameter({'type': 'float'})


def test_custom_constraint_registered_through_the_public_api_applies_to_properties():
    # One registry: heat_taskflow.template's register function reaches resource
    # properties too (OS::Heat::TestResource's constraint_prop_secs names test_constr).
    from heat_taskflow import template
    from heat_taskflow.resources.types.test_resource import TestResource

    def not_over_ten(value):
        if value > 10:
            raise ValueError('too slow')

    def values(secs):
        return Properties(TestResource.properties_schema, {'constraint_prop_secs': secs},
                          'slow')

    template.register_custom_constraint('test_constr', not_over_ten)
    try:
        values(3).validate()
        with pytest.raises(InvalidProperties, match='does not validate test_constr: too slow'):
            values(11).validate()
        # the registry's contract: returning False rejects as well
        template.register_custom_constraint('test_constr', lambda value: value < 10)
        with pytest.raises(InvalidProperties, match='does not validate test_constr'):
            values(11).validate()
    finally:
        c.unregister_custom_constraint('test_constr')
    values(11).validate()
