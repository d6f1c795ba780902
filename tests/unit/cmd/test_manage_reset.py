"""Tests for `heat-taskflow-manage reset-stack-status`."""

import io

import pytest

from heat_taskflow.cmd import manage
from heat_taskflow.persistence import api
from heat_taskflow.persistence.database import Database


@pytest.fixture
def setup(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'heat.sqlite')
    conf = tmp_path / 'heat-taskflow.conf'
    conf.write_text('[database]\nconnection = %s\n' % url)
    db = Database(url)
    db.sync()
    raw = api.raw_template_create(db, template={'text': '{}'})
    parent = api.stack_create(db, id='p' * 8, name='stuck', project_id='default',
                              action='CREATE', status='IN_PROGRESS', current_traversal='t1',
                              raw_template_id=raw.id, convergence=False)
    child = api.stack_create(db, id='c' * 8, name='stuck-child', project_id='default',
                             action='CREATE', status='IN_PROGRESS', current_traversal='t2',
                             raw_template_id=raw.id, convergence=False, owner_id=parent.id)
    busy = api.resource_create(db, stack_id=parent.id, name='web', type='OS::Heat::None',
                               action='CREATE', status='IN_PROGRESS', engine_id='host:1')
    done = api.resource_create(db, stack_id=parent.id, name='db', type='OS::Heat::None',
                               action='CREATE', status='COMPLETE')
    nested = api.resource_create(db, stack_id=child.id, name='n', type='OS::Heat::None',
                                 action='CREATE', status='IN_PROGRESS')
    api.stack_create(db, id='q' * 8, name='fine', project_id='default', action='CREATE',
                     status='COMPLETE', raw_template_id=raw.id, convergence=False)
    yield conf, db, {'parent': parent, 'child': child, 'busy': busy, 'done': done,
                     'nested': nested}
    db.dispose()


def run(conf, *args):
    out, err = io.StringIO(), io.StringIO()
    code = manage.ManageApp(stdout=out, stderr=err).run(
        ['--config-file', str(conf), 'reset-stack-status', *args])
    return code, out.getvalue(), err.getvalue()


def test_without_yes_it_only_prints_the_plan(setup):
    conf, db, rows = setup
    code, out, _ = run(conf, 'stuck')
    assert code == 0
    assert 'Would reset' in out
    assert 'stack stuck (pppppppp): CREATE_IN_PROGRESS -> CREATE_FAILED' in out
    assert 'stack stuck-child' in out
    assert 'resource web' in out and 'resource n ' in out
    assert 'resource db' not in out
    assert api.stack_get(db, rows['parent'].id).status == 'IN_PROGRESS'
    assert api.resource_get(db, rows['busy'].id).status == 'IN_PROGRESS'


def test_with_yes_the_family_and_busy_resources_go_failed_with_new_traversals(setup):
    conf, db, rows = setup
    code, out, _ = run(conf, 'stuck', '--yes')
    assert code == 0, out
    assert '2 stack(s) reset' in out
    parent = api.stack_get(db, rows['parent'].id)
    child = api.stack_get(db, rows['child'].id)
    assert (parent.status, child.status) == ('FAILED', 'FAILED')
    assert 'reset by operator' in parent.status_reason
    # Each stack records its own event of the reset.
    for stack in (parent, child):
        own = [(e.resource_name, e.physical_resource_id, e.resource_type, e.resource_action,
                e.resource_status, e.resource_status_reason)
               for e in api.event_list(db, stack.id)]
        assert own == [(stack.name, stack.id, 'OS::Heat::Stack', stack.action, 'FAILED',
                        stack.status_reason)]
    assert parent.current_traversal != 't1' and child.current_traversal != 't2'
    busy = api.resource_get(db, rows['busy'].id)
    assert (busy.status, busy.engine_id) == ('FAILED', None)
    assert api.resource_get(db, rows['nested'].id).status == 'FAILED'
    assert api.resource_get(db, rows['done'].id).status == 'COMPLETE'


def test_a_stack_not_in_progress_is_refused(setup):
    conf, db, _ = setup
    code, _, err = run(conf, 'fine', '--yes')
    assert code == 1
    assert 'not in progress' in err
    assert api.stack_get_by_name(db, 'fine', 'default').status == 'COMPLETE'


def test_a_missing_stack_is_a_usage_error(setup):
    conf, _, _ = setup
    code, _, err = run(conf, 'nope')
    assert code == 2
    assert 'not found' in err


def test_an_id_finds_its_stack_before_a_stack_named_with_that_id(setup):
    conf, db, rows = setup
    raw = api.raw_template_create(db, template={'text': '{}'})
    api.stack_create(db, id='i' * 8, name=rows['parent'].id, project_id='default',
                     action='CREATE', status='IN_PROGRESS', current_traversal='t3',
                     raw_template_id=raw.id, convergence=False)
    code, out, _ = run(conf, rows['parent'].id)
    assert code == 0
    assert 'stack stuck (pppppppp)' in out
    assert 'iiiiiiii' not in out
