import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.exceptions import (
    InvalidProperties,
    ResourceCheckFailed,
    ResourceFailure,
)
from heat_taskflow.resources.types.test_resource import EndlessTestResource, TestResource
from tests.unit.resources.fakes import FakeContext, assert_create_idempotent, run_to_end


def make(ctx=None, **props):
    ctx = ctx or FakeContext('test')
    return TestResource(ctx.resource_name, props, ctx), ctx


def test_create_stores_value_and_output():
    res, ctx = make(value='hello')
    run_to_end(res.handle_create, res.check_create_complete, ctx)
    assert res.get_attribute('output') == 'hello'
    assert res.physical_id.startswith('teststack-test-')
    assert res.get_reference_id() == res.physical_id
    assert TestResource('test', {}, ctx).get_attribute('output') == 'hello'


def test_default_value():
    res, ctx = make()
    res.handle_create()
    assert res.get_attribute('output') == 'test_string'


def test_wait_is_polled_not_slept():
    res, ctx = make(wait_secs=5)
    cookie = res.handle_create()
    assert res.check_create_complete(cookie) is False
    ctx.advance(4)
    assert res.check_create_complete(cookie) is False
    ctx.advance(1)
    assert res.check_create_complete(cookie) is True


def test_action_wait_secs_override_per_action():
    res, ctx = make(wait_secs=100, action_wait_secs={'create': 1, 'delete': 0})
    cookie = res.handle_create()
    ctx.advance(1)
    assert res.check_create_complete(cookie)
    assert res.check_delete_complete(res.handle_delete())
    # update falls back to wait_secs
    cookie = res.handle_update({'value': 'x', 'wait_secs': 100,
                                'action_wait_secs': {'create': 1, 'delete': 0}})
    ctx.advance(99)
    assert res.check_update_complete(cookie) is False


def test_infinite_wait_where_test_types_are_enabled():
    ctx = FakeContext('test')
    res = EndlessTestResource(ctx.resource_name, {'wait_secs': -1}, ctx)
    res.validate()
    cookie = res.handle_create()
    ctx.advance(10 ** 6)
    assert res.check_create_complete(cookie) is False


@pytest.mark.parametrize('props, path', [
    ({'wait_secs': -1}, ('wait_secs',)),
    ({'action_wait_secs': {'delete': -0.5}}, ('action_wait_secs', 'delete')),
])
def test_public_type_refuses_the_endless_wait(props, path):
    # The type every template may name: a negative (endless) wait is a test-only knob.
    res, _ = make(**props)
    with pytest.raises(InvalidProperties) as info:
        res.validate()
    assert info.value.path == path
    assert 'enable_test_resource_types' in str(info.value)


def test_public_and_test_registrations():
    assert registry.get_class('OS::Heat::TestResource', test_types=False) is TestResource
    assert registry.get_class('OS::Heat::TestResource', test_types=True) \
        is EndlessTestResource


def test_fail_fails_create_after_wait_but_not_delete():
    res, ctx = make(fail=True, wait_secs=2)
    cookie = res.handle_create()
    assert res.physical_id is None
    assert res.check_create_complete(cookie) is False
    ctx.advance(2)
    with pytest.raises(ResourceFailure, match='Test Resource failed test') as info:
        res.check_create_complete(cookie)
    assert info.value.action == 'CREATE'
    cookie = res.handle_delete()
    ctx.advance(2)
    assert res.check_delete_complete(cookie) is True


def test_update_in_place_and_replacement():
    res, ctx = make(value='a')
    res.handle_create()
    assert not res.update_requires_replacement({'value': 'b'})
    assert res.update_requires_replacement({'value': 'b', 'update_replace': True})
    # Only a change of value replaces; setting the knob alone is an in-place update.
    assert not res.update_requires_replacement({'value': 'a', 'update_replace': True})
    assert not res.update_requires_replacement({'value': 'b', 'update_replace': False})
    replacing, _ = make(value='a', update_replace=True)
    assert replacing.update_requires_replacement({'value': 'b', 'update_replace': True})
    assert not replacing.update_requires_replacement({'value': 'a', 'update_replace': True,
                                                      'wait_secs': 3})
    assert res.check_update_complete(res.handle_update({'value': 'b'}))
    assert res.get_attribute('output') == 'b'


def test_update_with_fail_keeps_old_value_and_fails():
    res, ctx = make(value='a')
    res.handle_create()
    cookie = res.handle_update({'value': 'b', 'fail': True})
    with pytest.raises(ResourceFailure):
        res.check_update_complete(cookie)
    assert ctx.data['value'] == 'a'


def test_check_detects_drift():
    res, ctx = make(value='a')
    res.handle_create()
    res.handle_check()
    ctx.data['value'] = 'tampered'
    with pytest.raises(ResourceCheckFailed, match="stored value 'tampered' differs"):
        res.handle_check()


def test_schema_errors():
    res, _ = make(wait_secs='soon')
    with pytest.raises(InvalidProperties, match="property 'wait_secs'"):
        res.validate()
    res, _ = make(action_wait_secs={'rebuild': 1})
    with pytest.raises(InvalidProperties, match="property 'action_wait_secs.rebuild'"):
        res.validate()


def test_accepts_heat_knobs():
    res, _ = make(client_name='nova', entity_name='servers', constraint_prop_secs=0)
    res.validate()


def test_create_is_idempotent():
    clean = assert_create_idempotent(lambda ctx: TestResource('res', {'value': 'v'}, ctx),
                                     lambda ctx: len(set(ctx.physical_ids)))
    assert clean.data['value'] == 'v'


def test_delete_twice_is_fine():
    res, ctx = make()
    res.handle_create()
    for _ in range(2):
        again = TestResource('test', {}, ctx, physical_id=res.physical_id)
        assert again.check_delete_complete(again.handle_delete())
