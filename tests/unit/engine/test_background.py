"""A background service (the API's): top-level legacy operations run on the engine's own
threads and return at once; close() and resume_orphans()."""

import time

import pytest
import yaml

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import legacy
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.engine import service as service_mod
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import models
from heat_taskflow.template import TemplateError
from tests.unit.conductors import harness
from tests.unit.engine.helpers import res, sqlite_only, tmpl
from tests.unit.engine.test_resume import chain, dead_create, make_stale

pytestmark = sqlite_only

SLOW = 0.8


def slow(value, secs=SLOW):
    return res(value, wait_secs=secs)


@pytest.fixture
def bg(conf, database):
    conf.set_override('legacy_heartbeat_interval', 0.2)
    executors = legacy.ExecutorPool(4)
    service = service_mod.StackService(conf, database=database, executors=executors,
                                       background=True)
    try:
        yield service
    finally:
        service.close(timeout=30)
        executors.shutdown()


def settle(service, name):
    return harness.settle(service, name)


def holder(service, stack_id):
    return resume_mod.parse_holder(db.stack_get(service.database, stack_id).engine_id)[0]


def test_a_create_returns_at_once_and_runs_held_by_this_process(bg):
    started = time.monotonic()
    view = bg.create_stack('quick', tmpl({'a': slow('one'), 'b': slow('two')}), 't.yaml')
    assert time.monotonic() - started < SLOW
    assert view['stack_status'] == 'CREATE_IN_PROGRESS'
    assert holder(bg, view['id']) == bg.engine.engine_id
    done = settle(bg, 'quick')
    assert done['stack_status'] == 'CREATE_COMPLETE', done['stack_status_reason']
    # The hold ends right after the end is written.
    harness.wait_for(lambda: holder(bg, view['id']) is None, what='the hold released')
    assert bg.list_events('quick', limit=1, sort_dir='desc')[0]['resource_status'] == \
        'CREATE_COMPLETE'
    # Update, check and delete return at once too.
    for call, args, final in ((bg.update_stack, (tmpl({'a': slow('three')}), 't.yaml'),
                               'UPDATE_COMPLETE'),
                              (bg.check_stack, (), 'CHECK_COMPLETE'),
                              (bg.delete_stack, (), 'DELETE_COMPLETE')):
        started = time.monotonic()
        view = call('quick', *args)
        assert view['stack_status'].endswith('_IN_PROGRESS')
        assert time.monotonic() - started < SLOW
        stack_id = view['id']
        harness.wait_for(lambda sid=stack_id: db.stack_get(bg.database, sid).status !=
                         'IN_PROGRESS', what='the operation ends')
        row = db.stack_get(bg.database, stack_id)
        assert '%s_%s' % (row.action, row.status) == final, row.status_reason


def test_a_refused_create_stores_nothing(bg):
    with pytest.raises(TemplateError):
        bg.create_stack('bad', 'heat_template_version: 2018-08-31\nresources: [', 't.yaml')
    with pytest.raises(TemplateError):
        bg.create_stack('bad', tmpl({'a': {'type': 'OS::No::Such'}}), 't.yaml')
    with bg.database.session() as session:
        assert session.query(models.Stack).count() == 0
        assert session.query(models.RawTemplate).count() == 0
        assert session.query(models.Event).count() == 0


def test_a_nested_stack_runs_inside_its_parents_background_traversal(bg):
    text = tmpl({'n': {'type': 'OS::Heat::Stack', 'properties': {
        'template': yaml.safe_dump({'heat_template_version': '2018-08-31',
                                    'resources': {'inner': slow('deep')}})}}})
    view = bg.create_stack('top', text, 't.yaml')
    assert view['stack_status'] == 'CREATE_IN_PROGRESS'
    done = settle(bg, 'top')
    assert done['stack_status'] == 'CREATE_COMPLETE', done['stack_status_reason']
    child = db.stack_list(bg.database, None, owner_id=view['id'])[0]
    assert (child.action, child.status, child.engine_id) == ('CREATE', 'COMPLETE', None)


def test_cancel_with_rollback_returns_at_once(bg):
    bg.create_stack('undo', tmpl({'a': slow('one', 1.5), 'b': res('b')}), 't.yaml')
    harness.wait_for(lambda: any(r.name == 'a' for r in db.resource_list(
        bg.database, bg._stack('undo').id)), what='a creating')
    view = bg.cancel_stack('undo')
    assert view['stack_status'] == 'ROLLBACK_IN_PROGRESS'
    done = settle(bg, 'undo')
    assert done['stack_status'] == 'ROLLBACK_COMPLETE', done['stack_status_reason']


def test_close_waits_a_bounded_time_then_leaves_the_stack_for_a_resume(bg):
    view = bg.create_stack('long', tmpl({'a': slow('one', 2.5)}), 't.yaml')
    started = time.monotonic()
    assert bg.close(timeout=0.3) == [view['id']]
    assert time.monotonic() - started < 1.5
    # No more operations are taken, and nothing of a refused one is stored.
    with pytest.raises(exc.ServiceUnavailable):
        bg.create_stack('late', tmpl({'a': res('x')}), 't.yaml')
    with pytest.raises(exc.ServiceUnavailable):
        bg.scoped('other').delete_stack(view['id'])
    assert db.stack_get_by_name(bg.database, 'late', 'default') is None
    # The heartbeat has stopped: the stack goes stale, and a resume would take it.
    beat = db.stack_get(bg.database, view['id']).heartbeat_at
    time.sleep(3 * 0.2 + 0.2)
    assert db.stack_get(bg.database, view['id']).heartbeat_at == beat
    stack = db.stack_get(bg.database, view['id'])
    assert stack.status == 'IN_PROGRESS'
    assert resume_mod.legacy_liveness(stack, 0.2)[0] is True
    # (This process lives on, so the traversal left running ends by itself.)
    harness.wait_for(lambda: db.stack_get(bg.database, view['id']).status == 'COMPLETE',
                     timeout=10, what='the abandoned traversal ends')


def test_resume_orphans_resumes_interrupted_stacks_in_the_background(bg, service,
                                                                    monkeypatch, tmp_path):
    dead = dead_create(service.scoped('p1'), monkeypatch, 'orphan', chain(tmp_path / 'l'))
    alive = bg.create_stack('alive', tmpl({'a': slow('one', 1.5)}), 't.yaml')
    assert bg.resume_orphans() == []                # fresh heartbeats: nothing to resume
    make_stale(bg.database, dead.id)
    started = time.monotonic()
    assert bg.resume_orphans() == [dead.id]
    assert time.monotonic() - started < 1.0
    harness.wait_for(lambda: db.stack_get(bg.database, dead.id).status != 'IN_PROGRESS',
                     what='the orphan resumed')
    row = db.stack_get(bg.database, dead.id)
    assert (row.action, row.status) == ('CREATE', 'COMPLETE'), row.status_reason
    assert settle(bg, 'alive')['stack_status'] == 'CREATE_COMPLETE'
    assert alive['id'] not in bg.resume_orphans()


def test_the_api_builds_its_service_through_conductors_local(conf, database):
    from heat_taskflow.conductors import local

    executors = legacy.ExecutorPool(2)
    service = local.stack_service(conf, database=database, executors=executors,
                                  background=True)
    try:
        assert isinstance(service, local.LocalStackService) and service.background
        view = service.scoped('p1').create_stack('api', tmpl({'a': slow('one')}), 't.yaml')
        assert view['stack_status'] == 'CREATE_IN_PROGRESS'
        assert settle(service.scoped('p1'), 'api')['stack_status'] == 'CREATE_COMPLETE'
    finally:
        service.close(timeout=5)
        executors.shutdown()
