import string

import pytest

from heat_taskflow.resources.exceptions import InvalidProperties
from heat_taskflow.resources.types.random_string import RandomString
from tests.unit.resources.fakes import FakeContext, assert_create_idempotent


def create(props=None, ctx=None):
    ctx = ctx or FakeContext('rand')
    res = RandomString('rand', props or {}, ctx)
    res.validate()
    res.handle_create()
    return res, ctx


def test_default_is_32_letters_and_digits():
    res, _ = create()
    value = res.get_attribute('value')
    assert len(value) == 32
    assert set(value) <= set(string.ascii_letters + string.digits)
    assert res.get_reference_id() == value


def test_reference_is_name_before_create():
    assert RandomString('rand', {}, FakeContext()).get_reference_id() == 'rand'


def test_character_classes_and_sequences_minimums():
    res, _ = create({'length': 12, 'character_classes': [{'class': 'digits', 'min': 3}],
                     'character_sequences': [{'sequence': '!@', 'min': 4}]})
    value = res.get_attribute('value')
    assert len(value) == 12
    assert sum(c.isdigit() for c in value) >= 3
    assert sum(c in '!@' for c in value) >= 4
    assert set(value) <= set(string.digits + '!@')


def test_deprecated_sequence():
    res, _ = create({'length': 40, 'sequence': 'octdigits'})
    assert set(res.get_attribute('value')) <= set(string.octdigits)


def test_value_kept_across_instances_and_reruns():
    res, ctx = create()
    value = res.get_attribute('value')
    again = RandomString('rand', {}, ctx, physical_id=res.physical_id)
    again.handle_create()
    assert again.get_attribute('value') == value
    assert again.get_reference_id() == value
    # Reading from stored data without a live context.
    stored = RandomString('rand', {}, None, physical_id=res.physical_id, data=ctx.data)
    assert stored.get_attribute('value') == value


def test_any_change_including_salt_replaces():
    res, _ = create({'salt': 'a'})
    assert res.update_requires_replacement({'salt': 'b'})
    assert res.update_requires_replacement({'salt': 'a', 'length': 10})
    assert not res.update_requires_replacement({'salt': 'a'})


@pytest.mark.parametrize('props,path', [
    ({'length': 0}, 'length'),
    ({'length': 513}, 'length'),
    ({'sequence': 'emoji'}, 'sequence'),
    ({'character_classes': [{'class': 'symbols'}]}, 'character_classes[0].class'),
    ({'character_sequences': [{'min': 1}]}, 'character_sequences[0].sequence'),
    ({'sequence': 'digits', 'character_classes': [{'class': 'digits'}]}, 'sequence'),
    ({'length': 2, 'character_classes': [{'class': 'digits', 'min': 2}],
      'character_sequences': [{'sequence': 'ab'}]}, 'length'),
])
def test_validation_errors(props, path):
    with pytest.raises(InvalidProperties) as info:
        RandomString('rand', props, FakeContext()).validate()
    assert "resource 'rand': property '%s'" % path in str(info.value)


def test_validation_skips_unknown_length():
    RandomString('rand', {'length': None, 'character_classes': [{'class': 'digits',
                                                                'min': 5}]},
                 FakeContext()).validate(partial=True)


def test_create_is_idempotent_and_value_generated_once():
    values = set()

    def make(ctx):
        return RandomString('res', {}, ctx)

    def count(ctx):
        values.add(ctx.data['value'])
        return len(set(ctx.physical_ids))

    assert_create_idempotent(make, count)
    # Each scenario generated one value and every re-run kept it.
    assert len(values) >= 2
