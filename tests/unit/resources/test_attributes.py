import pytest

from heat_taskflow.resources import attributes as a


def test_select_follows_keys_and_indexes():
    value = {'net': [{'ip': '10.0.0.1'}]}
    assert a.select(value, ('net', 0, 'ip')) == '10.0.0.1'
    assert a.select(value, ('net', '0', 'ip')) == '10.0.0.1'
    assert a.select(value, ()) is value
    assert a.select(value, ('net', 5)) is None
    assert a.select(value, ('missing', 'x')) is None
    assert a.select('text', (0,)) is None


def test_with_show_adds_show():
    schema = a.with_show({'x': a.Schema('x')})
    assert set(schema) == {'show', 'x'}
    assert schema['show'].type == 'map'


def test_schema_type_checked():
    with pytest.raises(ValueError):
        a.Schema('x', type='float')
    assert a.Schema('d', a.Schema.LIST).to_dict() == {'description': 'd', 'type': 'list'}
