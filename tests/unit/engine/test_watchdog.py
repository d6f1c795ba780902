"""Stack timeouts enforced by a watchdog while a resource action hangs: the conductors'
watchdog on the distributed path, engine/watchdog.py in the process on the legacy path."""

import datetime
import threading
import time

import pytest
import yaml

from heat_taskflow.engine import distributed, legacy
from heat_taskflow.engine import watchdog as watchdog_mod
from heat_taskflow.persistence import api as db
from heat_taskflow.resources import registry
from heat_taskflow.resources.types import test_resource
from tests.unit.conductors import harness

REASON = 'resource actions did not finish within the stack timeout of 1 minute'


# What these tests check does not depend on the database.
sqlite_only = pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)


def tmpl(resources):
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources},
                          sort_keys=False)


def res(value, **extra):
    return dict({'type': 'Test::Hang', 'properties': {'value': value}}, **extra)


class Hang:
    """A plugin whose create of value 'hang' blocks in handle_create until released."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()
        hang = self

        class HangResource(test_resource.TestResource):
            type_name = 'Test::Hang'

            def handle_create(self):
                cookie = super().handle_create()
                if self.properties['value'] == 'hang':
                    hang.started.set()
                    hang.release.wait(harness.TIMEOUT)     # a plugin call that never returns
                return cookie

        self.cls = HangResource


@pytest.fixture
def hang(monkeypatch):
    hang = Hang()
    real = registry.get_class
    monkeypatch.setattr(registry, 'get_class',
                        lambda name, env=None, **kw: hang.cls if name == 'Test::Hang'
                        else real(name, env, **kw))
    try:
        yield hang
    finally:
        hang.release.set()


def stack_row(service, name):
    return db.stack_get(service.database, service._stack(name).id)


# -- distributed: the conductors' watchdog ------------------------------------------------

@pytest.fixture
def distributed_service(conf, database):
    with harness.zake_service(conf, database, watchdog_interval=0.1) as service:
        yield service


def expire(database, stack):
    """Move the deadline of the stack's current traversal (in its sync point) to the past."""
    while True:
        row = db.sync_point_get(database, stack.id, stack.current_traversal, True)
        data = dict(row.input_data, deadline=time.time() - 1)
        if db.sync_point_update_input(database, stack.id, stack.current_traversal, True,
                                      data, row.atomic_key):
            return


@pytest.fixture
def count_failures(monkeypatch):
    calls = []
    real = distributed.NodeDriver.traversal_failed

    def counting(self, stack_id, traversal_id, node_key, reason):
        calls.append((traversal_id, node_key))
        return real(self, stack_id, traversal_id, node_key, reason)

    monkeypatch.setattr(distributed.NodeDriver, 'traversal_failed', counting)
    return calls


@pytest.mark.parametrize('rollback', [False, True], ids=['no-rollback', 'rollback'])
def test_distributed_watchdog_fails_a_hung_traversal_once(distributed_service, conf, database,
                                                          hang, count_failures, rollback):
    service = distributed_service
    text = tmpl({'hang': res('hang'), 'after': res('after', depends_on='hang')})
    with harness.conductors(conf, database, count=2):
        try:
            view = service.create_stack('hung', text, 't.yaml', timeout_mins=1,
                                        disable_rollback=not rollback)
            assert view['stack_status'] == 'CREATE_IN_PROGRESS'
            assert hang.started.wait(harness.TIMEOUT)
            stack = stack_row(service, 'hung')
            traversal = stack.current_traversal
            expire(database, stack)
            # Settles while the plugin call is still blocked.
            final = harness.settle(service, 'hung')
            assert not hang.release.is_set()
            if rollback:
                assert final['stack_status'] == 'ROLLBACK_COMPLETE', final
                assert REASON in final['stack_status_reason']
                assert db.resource_list(database, stack.id) == []
            else:
                assert final['stack_status'] == 'CREATE_FAILED', final
                assert final['stack_status_reason'] == 'Create failed: ' + REASON
                rows = {r.name: r for r in db.resource_list(database, stack.id)}
                assert set(rows) == {'hang'}        # 'after' never started
                assert (rows['hang'].action, rows['hang'].status) == ('CREATE', 'IN_PROGRESS')
        finally:
            hang.release.set()
    # The conductors have stopped (their watchdogs too): the traversal was failed once,
    # by a watchdog; the released node found it over and did nothing more.
    failed = [key for t, key in count_failures if t == traversal]
    assert len(failed) == 1 and failed[0].startswith('watchdog:'), count_failures
    assert db.stack_get(database, stack.id).status == final['status']
    assert db.sync_point_get(database, stack.id, traversal, True) is None


def test_watchdog_pass_leaves_live_traversals_alone(distributed_service, conf, database,
                                                    hang):
    service = distributed_service
    text = tmpl({'hang': res('hang')})
    with harness.conductors(conf, database, count=1) as (cond,):
        try:
            service.create_stack('alive', text, 't.yaml', timeout_mins=1)
            assert hang.started.wait(harness.TIMEOUT)
            stack = stack_row(service, 'alive')
            assert cond.watchdog_pass() == []           # deadline a minute away
            assert stack_row(service, 'alive').status == 'IN_PROGRESS'
            expire(database, stack)
            # The thread or this call: whichever claims it first fails it, once.
            failed = cond.watchdog_pass()
            assert failed in ([], [(stack.id, stack.current_traversal)])
            final = harness.settle(service, 'alive')
            assert final['stack_status'] == 'ROLLBACK_COMPLETE', final
            assert cond.watchdog_pass() == []
        finally:
            hang.release.set()


# -- legacy: the in-process watchdog ------------------------------------------------------

@pytest.fixture
def legacy_service(conf, database, monkeypatch):
    monkeypatch.setattr(watchdog_mod, '_SLICE', 0.05)
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    try:
        yield harness.make_service(conf, database, executors)
    finally:
        executors.shutdown()


def flow_threads(traversal_id):
    return [t for t in threading.enumerate()
            if t.name == 'heat-taskflow-flow-%s' % traversal_id]


@sqlite_only
@pytest.mark.parametrize('rollback', [False, True], ids=['no-rollback', 'rollback'])
def test_legacy_watchdog_fails_a_hung_traversal(legacy_service, database, hang, rollback,
                                                monkeypatch):
    service = legacy_service
    built = {}
    build = service.engine.traversal_runtime

    def traversal_runtime(stack, *args, **kwargs):
        runtime = build(stack, *args, **kwargs)
        built.setdefault((stack.id, runtime.traversal_id), runtime)
        return runtime

    monkeypatch.setattr(service.engine, 'traversal_runtime', traversal_runtime)
    text = tmpl({'hang': res('hang'), 'after': res('after', depends_on='hang')})
    result = {}

    def create():
        result['view'] = service.create_stack('hung', text, 't.yaml', timeout_mins=1,
                                              disable_rollback=not rollback)

    caller = threading.Thread(target=create, daemon=True)
    caller.start()
    try:
        assert hang.started.wait(harness.TIMEOUT)
        stack = stack_row(service, 'hung')
        traversal = stack.current_traversal
        runtime = built[(stack.id, traversal)]
        runtime.deadline = time.time() - 1
        # The caller gets its answer although the plugin call still blocks.
        caller.join(harness.TIMEOUT)
        assert not caller.is_alive()
        assert not hang.release.is_set()
        view = result['view']
        if rollback:
            assert view['stack_status'] == 'ROLLBACK_COMPLETE', view
            assert REASON in view['stack_status_reason']
        else:
            assert view['stack_status'] == 'CREATE_FAILED', view
            assert view['stack_status_reason'] == 'Create failed: ' + REASON
        assert service.get_stack('hung')['stack_status'] == view['stack_status']
    finally:
        hang.release.set()
    # The abandoned flow ends once the plugin returns, starting nothing more.
    for thread in flow_threads(traversal):
        thread.join(harness.TIMEOUT)
        assert not thread.is_alive()
    assert 'after' not in {r.name for r in db.resource_list(database, stack.id)}
    assert ('after', 'CREATE_IN_PROGRESS') not in {
        (e['resource_name'], e['resource_status']) for e in service.list_events('hung')}


def test_run_flow_returns_and_raises_what_the_flow_does():
    class Runtime:
        stack_id = traversal_id = 'x'
        stack = None
        deadline = time.time() + 60

    assert watchdog_mod.run_flow(Runtime, lambda: 42) == 42
    with pytest.raises(ValueError, match='boom'):
        watchdog_mod.run_flow(Runtime, lambda: (_ for _ in ()).throw(ValueError('boom')))
    Runtime.deadline = None
    assert watchdog_mod.run_flow(Runtime, lambda: 'inline') == 'inline'
    assert watchdog_mod.timeout_reason(5).endswith('of 5 minutes')


def test_watchdog_fails_a_traversal_whose_poster_died_before_posting(conf, database, hang,
                                                                     monkeypatch):
    # The process that claimed the stack for a traversal died before it stored the sync
    # points: nothing would ever end the traversal.
    monkeypatch.setattr(distributed.DistributedRunner, 'start', lambda self, rt, graph: None)
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    board = harness.distributed_conf(conf, watchdog_interval=3600)   # passes run by hand
    service = harness.make_service(conf, database, executors)
    try:
        with harness.conductors(conf, database, count=1) as (cond,):
            view = service.create_stack('orphan', tmpl({'a': res('a')}), 't.yaml',
                                        timeout_mins=1)
            assert view['stack_status'] == 'CREATE_IN_PROGRESS'
            assert cond.watchdog_pass() == []          # claimed just now
            stack = stack_row(service, 'orphan')
            # A stack timeout (and the grace) after the claim:
            old = (stack.updated_at or stack.created_at) - datetime.timedelta(
                minutes=1, seconds=cond._stuck_grace() + 1)
            assert db.stack_update(database, stack.id, {'updated_at': old})
            assert cond.watchdog_pass() == [(stack.id, stack.current_traversal)]
            final = service.get_stack('orphan')
    finally:
        service.close()
        harness.forget_board(board)
        executors.shutdown()
    assert final['stack_status'] == 'ROLLBACK_COMPLETE', final
    assert REASON + '; none of them started' in final['stack_status_reason']
