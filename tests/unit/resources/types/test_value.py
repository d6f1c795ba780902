import pytest

from heat_taskflow.resources.exceptions import InvalidProperties
from heat_taskflow.resources.types.value import Value
from tests.unit.resources.fakes import FakeContext, assert_create_idempotent


def test_value_attribute_any_type():
    res = Value('v', {'value': {'a': [1, 2]}}, FakeContext())
    res.validate()
    res.handle_create()
    assert res.get_attribute('value') == {'a': [1, 2]}
    assert res.get_attribute('value', 'a', 1) == 2
    assert res.physical_id is not None


@pytest.mark.parametrize('vtype,given,expected', [
    ('number', '3.5', 3.5),
    ('boolean', 'true', True),
    ('string', 5, '5'),
    ('comma_delimited_list', ['a'], ['a']),
    ('json', {'k': 1}, {'k': 1}),
])
def test_type_converts(vtype, given, expected):
    res = Value('v', {'value': given, 'type': vtype}, FakeContext())
    res.validate()
    assert res.get_attribute('value') == expected


@pytest.mark.parametrize('props,match', [
    ({'value': 'abc', 'type': 'number'}, "property 'value': value 'abc' is not a number"),
    ({'value': 1, 'type': 'float'}, "property 'type'"),
    ({}, "property 'value': required property is missing"),
    # #14 (found by the fuzzer): a list or map given as the type was a bare TypeError.
    ({'value': 1, 'type': []}, "property 'type'"),
    ({'value': 1, 'type': {'a': 1}}, "property 'type'"),
])
def test_errors(props, match):
    with pytest.raises(InvalidProperties, match=match):
        Value('v', props, FakeContext()).validate()


def test_update_in_place():
    res = Value('v', {'value': 1}, FakeContext())
    res.handle_create()
    assert not res.update_requires_replacement({'value': 2, 'type': 'number'})
    res.handle_update({'value': 2})
    assert res.get_attribute('value') == 2


def test_create_is_idempotent():
    assert_create_idempotent(lambda ctx: Value('res', {'value': 1}, ctx),
                             lambda ctx: len(set(ctx.physical_ids)))
