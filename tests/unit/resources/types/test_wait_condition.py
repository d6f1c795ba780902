import json

import pytest

from heat_taskflow.resources.exceptions import InvalidProperties, ResourceFailure
from heat_taskflow.resources.types.wait_condition import WaitCondition
from heat_taskflow.resources.types.wait_condition_handle import (
    WaitConditionHandle,
    normalise_signals,
)
from tests.unit.resources.fakes import FakeContext


@pytest.fixture
def ctx():
    return FakeContext('wait', signals={})


def handle(ctx):
    h = WaitConditionHandle('handle', {}, ctx)
    h.handle_create()
    return h


def condition(ctx, **props):
    props.setdefault('timeout', 60)
    props.setdefault('handle', handle(ctx).get_reference_id())
    return WaitCondition('wait', props, ctx)


def signal(ctx, **data):
    ctx.signal_store.setdefault('handle', []).append(data)


def test_handle_reference_is_its_name(ctx):
    h = handle(ctx)
    assert h.get_reference_id() == 'handle'
    assert json.loads(h.get_attribute('signal'))['resource_name'] == 'handle'
    assert h.get_attribute('token') is None
    with pytest.raises(InvalidProperties):
        WaitConditionHandle('h', {'signal_transport': 'PIGEON'}, ctx).validate()
    assert WaitConditionHandle('h', {}, ctx).update_requires_replacement(
        {'signal_transport': 'HEAT_SIGNAL'})


def test_waits_for_count_success_signals(ctx):
    wc = condition(ctx, count=2)
    cookie = wc.handle_create()
    assert wc.check_create_complete(cookie) is False
    signal(ctx, status='SUCCESS', data='one')
    assert wc.check_create_complete(cookie) is False
    signal(ctx, data='two', id='second')
    assert wc.check_create_complete(cookie) is True
    assert json.loads(wc.get_attribute('data')) == {'1': 'one', 'second': 'two'}
    assert handle(ctx).get_status() == ['SUCCESS', 'SUCCESS']


def test_failure_signal_fails(ctx):
    wc = condition(ctx)
    cookie = wc.handle_create()
    signal(ctx, status='FAILURE', reason='disk full')
    with pytest.raises(ResourceFailure, match='WaitCondition failed: disk full'):
        wc.check_create_complete(cookie)


def test_timeout_fails_with_clear_reason(ctx):
    wc = condition(ctx, timeout=10, count=3)
    cookie = wc.handle_create()
    signal(ctx)
    ctx.advance(10)
    assert wc.check_create_complete(cookie) is False
    ctx.advance(1)
    with pytest.raises(ResourceFailure) as info:
        wc.check_create_complete(cookie)
    assert 'timed out after 10s: 1 of 3 success signals received on handle "handle"' in str(
        info.value)
    assert info.value.action == 'CREATE'


def test_update_count_waits_again(ctx):
    wc = condition(ctx, count=1)
    signal(ctx)
    assert wc.check_create_complete(wc.handle_create())
    assert not wc.update_requires_replacement({'handle': 'handle', 'timeout': 60, 'count': 2})
    assert wc.update_requires_replacement({'handle': 'handle', 'timeout': 30})
    cookie = wc.handle_update({'handle': 'handle', 'timeout': 60, 'count': 2})
    assert wc.check_update_complete(cookie) is False
    signal(ctx)
    assert wc.check_update_complete(cookie) is True


def test_rerun_after_crash_sees_signals_already_received(ctx):
    signal(ctx)
    wc = condition(ctx)
    assert WaitCondition('wait', dict(wc.properties.data), ctx).check_create_complete(
        wc.handle_create())


@pytest.mark.parametrize('props,path', [
    ({'timeout': 0}, 'timeout'),
    ({'timeout': 50000}, 'timeout'),
    ({'count': 0}, 'count'),
])
def test_schema(ctx, props, path):
    with pytest.raises(InvalidProperties, match="property '%s'" % path):
        condition(ctx, **props).validate()
    with pytest.raises(InvalidProperties, match="property 'handle'"):
        WaitCondition('wait', {'timeout': 5}, ctx).validate()


def test_normalise_signals_defaults():
    assert normalise_signals([{}, 'raw']) == [
        {'status': 'SUCCESS', 'data': None, 'reason': 'Signal 1 received', 'id': '1'},
        {'status': 'SUCCESS', 'data': 'raw', 'reason': 'Signal 2 received', 'id': '2'},
    ]
