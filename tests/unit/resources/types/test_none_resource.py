from heat_taskflow.resources.types.none_resource import NoneResource
from tests.unit.resources.fakes import FakeContext, assert_create_idempotent


def test_accepts_any_properties_and_attributes():
    res = NoneResource('stub', {'image': 'x', 'networks': [{'port': 1}]}, FakeContext())
    res.validate()
    assert res.has_attribute('first_address')
    assert res.get_attribute('first_address') is None


def test_create_sets_an_id_and_never_replaces():
    ctx = FakeContext('stub')
    res = NoneResource('stub', {'a': 1}, ctx)
    assert res.handle_create() is None
    assert res.physical_id is not None and ctx.physical_ids == [res.physical_id]
    assert res.update_requires_replacement({'a': 2, 'b': 3}) is False


def test_create_is_idempotent():
    assert_create_idempotent(lambda ctx: NoneResource('res', {}, ctx),
                             lambda ctx: len(set(ctx.physical_ids)))
