import multiprocessing
import os
import time

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.exceptions import (
    InvalidProperties,
    ResourceFailure,
    ResourceTypeNotFound,
)
from heat_taskflow.resources.types import test_ledger
from heat_taskflow.resources.types.test_ledger import TestLedger, read_ledger
from tests.unit.resources.fakes import FakeContext, assert_create_idempotent, run_to_end


@pytest.fixture
def ledger(tmp_path):
    return str(tmp_path / 'ledger.jsonl')


def make(ledger, ctx=None, **props):
    ctx = ctx or FakeContext('res')
    return TestLedger(ctx.resource_name, dict(props, ledger=ledger), ctx), ctx


def events(ledger, event=None):
    return [(line['event'], line['action'], line['value']) for line in read_ledger(ledger)
            if event is None or line['event'] == event]


def test_registered_as_test_only_type():
    assert registry.get_class('OS::Heat::TestLedger', None) is TestLedger
    assert 'OS::Heat::TestLedger' not in registry.classes()
    assert 'OS::Heat::TestLedger' in registry.classes(test_types=True)
    with pytest.raises(ResourceTypeNotFound):
        registry.get_class('OS::Heat::TestLedger', test_types=False)


@pytest.mark.parametrize('harm', ['file removed', 'directory removed', 'read-only'])
def test_delete_finishes_when_the_ledger_is_gone_or_unwritable(tmp_path, harm):
    ledger = tmp_path / 'sub' / 'ledger.jsonl'
    ledger.parent.mkdir()
    res, ctx = make(str(ledger), value='a')
    run_to_end(res.handle_create, res.check_create_complete, ctx)
    if harm == 'file removed':
        ledger.unlink()
    elif harm == 'directory removed':
        ledger.unlink()
        ledger.parent.rmdir()
    else:
        ledger.chmod(0o400)
    if harm == 'read-only' and os.access(ledger, os.W_OK):
        pytest.skip('running as root: a read-only file is still writable')
    run_to_end(res.handle_delete, res.check_delete_complete, ctx)
    assert harm == 'read-only' or not ledger.exists()    # never created again by a delete


def test_create_writes_one_line_and_sets_physical_id(ledger):
    res, ctx = make(ledger, value='hello')
    run_to_end(res.handle_create, res.check_create_complete, ctx)
    [line] = read_ledger(ledger)
    assert line['event'] == line['action'] == 'create'
    assert (line['resource'], line['stack'], line['value']) == ('res', 'teststack', 'hello')
    assert line['token'] == res.physical_id == ctx.physical_ids[-1]
    assert res.physical_id.startswith('teststack-res-')
    assert line['pid'] == os.getpid()
    assert res.get_attribute('output') == 'hello'
    assert TestLedger('res', {'ledger': ledger}, ctx).get_attribute('output') == 'hello'


def test_create_is_idempotent_across_crashes(ledger):
    def count_physical(ctx):
        token = ctx.data.get('physical_resource_name')
        return sum(1 for line in read_ledger(ledger)
                   if line['event'] == 'create' and line['token'] == token)

    assert_create_idempotent(lambda ctx: make(ledger, ctx, value='v')[0], count_physical)
    # Every re-run that found its creation done said so with an adopt line.
    assert events(ledger, 'adopt')


def test_crash_after_token_before_ledger_creates_on_rerun(ledger):
    # The token is recorded, then the process dies before the ledger line is written.
    ctx = FakeContext('res', crash_after_sets=1)
    res, _ = make(ledger, ctx)
    with pytest.raises(Exception, match='crashed'):
        res.handle_create()
    assert read_ledger(ledger) == []
    ctx.crash_after_sets = None
    again, _ = make(ledger, ctx)
    run_to_end(again.handle_create, again.check_create_complete, ctx)
    assert events(ledger) == [('create', 'create', 'ledger')]
    assert read_ledger(ledger)[0]['token'] == ctx.data['physical_resource_name']


def test_rerun_after_creation_adopts(ledger):
    ctx = FakeContext('res')
    first, _ = make(ledger, ctx)
    first.handle_create()
    second, _ = make(ledger, ctx)
    second.handle_create()
    assert events(ledger) == [('create', 'create', 'ledger'), ('adopt', 'create', 'ledger')]
    assert first.physical_id == second.physical_id


def test_two_resources_of_one_ledger_create_one_line_each(ledger):
    for name in ('a', 'b'):
        res, ctx = make(ledger, FakeContext(name))
        res.handle_create()
    assert [line['resource'] for line in read_ledger(ledger)] == ['a', 'b']
    assert len({line['token'] for line in read_ledger(ledger)}) == 2


def test_create_wait_is_polled_not_slept(ledger):
    res, ctx = make(ledger, create_wait_secs=5)
    cookie = res.handle_create()
    assert len(read_ledger(ledger)) == 1        # created at once, then waits
    assert res.check_create_complete(cookie) is False
    ctx.advance(4.9)
    assert res.check_create_complete(cookie) is False
    ctx.advance(0.1)
    assert res.check_create_complete(cookie) is True


def test_fail_fails_create_after_wait_without_creating(ledger):
    res, ctx = make(ledger, fail=True, create_wait_secs=2)
    cookie = res.handle_create()
    assert res.check_create_complete(cookie) is False
    ctx.advance(2)
    with pytest.raises(ResourceFailure, match='Test Ledger failed res') as info:
        res.check_create_complete(cookie)
    assert info.value.action == 'CREATE'
    assert read_ledger(ledger) == []
    assert res.physical_id is None
    # Deleting what was never created succeeds and writes nothing.
    assert res.check_delete_complete(res.handle_delete())
    assert read_ledger(ledger) == []


def test_update_in_place_writes_one_update_line(ledger):
    res, ctx = make(ledger, value='a')
    res.handle_create()
    new = {'ledger': ledger, 'value': 'b', 'update_wait_secs': 3}
    assert not res.update_requires_replacement(new)
    cookie = res.handle_update(new)
    assert res.check_update_complete(cookie) is False
    ctx.advance(3)
    assert res.check_update_complete(cookie) is True
    assert res.get_attribute('output') == 'b'
    # A re-run of the same update (a fresh instance on the old properties) adopts.
    again, _ = make(ledger, ctx, value='a')
    again.physical_id = res.physical_id
    again.handle_update(new)
    assert events(ledger) == [('create', 'create', 'a'), ('update', 'update', 'b'),
                              ('adopt', 'update', 'b')]


def test_update_without_value_change_writes_nothing(ledger):
    res, ctx = make(ledger, value='a')
    res.handle_create()
    res.handle_update({'ledger': ledger, 'value': 'a', 'create_wait_secs': 1})
    assert events(ledger) == [('create', 'create', 'a')]


def test_update_replace_and_ledger_change_require_replacement(ledger, tmp_path):
    res, ctx = make(ledger, value='a')
    assert res.update_requires_replacement({'ledger': ledger, 'value': 'b',
                                            'update_replace': True})
    assert not res.update_requires_replacement({'ledger': ledger, 'value': 'a',
                                                'update_replace': True})
    assert res.update_requires_replacement({'ledger': str(tmp_path / 'other'), 'value': 'a'})


def test_fail_fails_update_without_writing(ledger):
    res, ctx = make(ledger, value='a')
    res.handle_create()
    cookie = res.handle_update({'ledger': ledger, 'value': 'b', 'fail': True})
    with pytest.raises(ResourceFailure) as info:
        res.check_update_complete(cookie)
    assert info.value.action == 'UPDATE'
    assert events(ledger) == [('create', 'create', 'a')]


def test_delete_writes_one_line_and_rerun_adopts(ledger):
    res, ctx = make(ledger, value='a', delete_wait_secs=2)
    res.handle_create()
    cookie = res.handle_delete()
    assert res.check_delete_complete(cookie) is False
    ctx.advance(2)
    assert res.check_delete_complete(cookie) is True
    again = TestLedger('res', {'ledger': ledger}, ctx, physical_id=res.physical_id)
    assert again.check_delete_complete(again.handle_delete())
    assert events(ledger) == [('create', 'create', 'a'), ('delete', 'delete', 'a'),
                              ('adopt', 'delete', 'a')]
    assert read_ledger(ledger)[1]['token'] == res.physical_id


def test_delete_after_crash_before_creation_writes_nothing(ledger):
    ctx = FakeContext('res', crash_after_sets=1)
    res, _ = make(ledger, ctx)
    with pytest.raises(Exception, match='crashed'):
        res.handle_create()
    gone = TestLedger('res', {'ledger': ledger}, ctx)
    assert gone.check_delete_complete(gone.handle_delete())
    assert read_ledger(ledger) == []


def test_delete_of_never_started_create_is_immediate(ledger):
    res, ctx = make(ledger)
    assert res.handle_delete() is None
    assert res.check_delete_complete(None)
    assert read_ledger(ledger) == []


def test_retain_policy_leaves_the_ledger_alone(ledger):
    ctx = FakeContext('res')
    res = TestLedger('res', {'ledger': ledger}, ctx, deletion_policy='Retain')
    res.handle_create()
    res.check_delete_complete(res.handle_delete())
    assert events(ledger) == [('create', 'create', 'ledger')]


def test_relative_ledger_path_is_invalid():
    res, _ = make('ledger.jsonl')
    with pytest.raises(InvalidProperties, match='must be an absolute path'):
        res.validate()


def test_ledger_is_required():
    with pytest.raises(InvalidProperties, match='ledger'):
        TestLedger('res', {}, FakeContext('res')).validate()


def test_read_ledger_of_missing_file_is_empty(tmp_path):
    assert read_ledger(str(tmp_path / 'none')) == []


def _create_many(ledger, data, prefix, count):
    """In a child process: create ``count`` resources, each twice on shared data (re-runs)."""
    for i in range(count):
        ctx = FakeContext('%s%d' % (prefix, i), data=data.setdefault(i, {}))
        for _ in range(2):
            TestLedger(ctx.resource_name, {'ledger': ledger}, ctx).handle_create()


def _race(ledger, token, barrier):
    """In a child process: one run of a create whose token is already recorded, slow to
    decide (reading the ledger takes 0.2 s), so that runs overlap unless they lock."""
    read = test_ledger.read_ledger

    def slow_read(path):
        lines = read(path)
        time.sleep(0.2)
        return lines

    test_ledger.read_ledger = slow_read
    ctx = FakeContext('shared', data={'physical_resource_name': token})
    barrier.wait()
    TestLedger('shared', {'ledger': ledger}, ctx).handle_create()


def test_concurrent_processes_never_interleave_or_duplicate(ledger):
    mp = multiprocessing.get_context('fork')
    children = [mp.Process(target=_create_many, args=(ledger, {}, 'p%d-' % n, 50))
                for n in range(4)]
    barrier = mp.Barrier(4)
    racers = [mp.Process(target=_race, args=(ledger, 'the-token', barrier)) for _ in range(4)]
    for child in children + racers:
        child.start()
    for child in children + racers:
        child.join(60)
        assert child.exitcode == 0
    lines = read_ledger(ledger)                  # every line parses: none interleaved
    creates = [line['resource'] for line in lines if line['event'] == 'create']
    assert len(creates) == len(set(creates)) == 4 * 50 + 1
    # Four overlapping runs of one create: one creation, three adoptions.
    shared = [line['event'] for line in lines if line['token'] == 'the-token']
    assert sorted(shared) == ['adopt', 'adopt', 'adopt', 'create']

