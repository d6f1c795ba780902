"""A traversal's start survives a job board outage (docs/chaos.md, rule 2): its first posts
are retried while the board is unavailable, and when that runs out the stack stays
IN_PROGRESS for the conductors' lost-post sweep instead of failing."""

import time

import pytest
import yaml
from kazoo import exceptions as kazoo_exc
from taskflow import exceptions as tf_exc

from heat_taskflow.engine import distributed
from heat_taskflow.flows import sync_points
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness
from tests.unit.engine.helpers import outputs, res, sqlite_only, tmpl

pytestmark = sqlite_only


def session_expired():
    """What TaskFlow's board raises when ZooKeeper's session expired during a post."""
    return tf_exc.JobFailure('Posting failure: Session expired',
                             cause=kazoo_exc.SessionExpiredError())


def board_unavailable():
    """What a poster that classifies the outage itself raises."""
    return jobboards.BoardUnavailable('job board unavailable: connection lost')


OUTAGES = pytest.mark.parametrize('outage', [session_expired, board_unavailable],
                                  ids=['kazoo', 'BoardUnavailable'])


class FlakyPoster:
    """Wraps DistributedRunner.post: the posts of the stacks `victim(stack_name)` picks fail
    with an outage `failures` times per stack (None: always, until `heal()`)."""

    def __init__(self, monkeypatch, outage, failures=1, victim=lambda name: True):
        self.outage = outage
        self.failures = failures
        self.victim = victim
        self.failed = {}        # stack name: posts that failed
        self.healed = False
        real = distributed.DistributedRunner.post
        poster = self

        def post(runner, stack_id, traversal_id, node_keys, stack_name):
            if poster.breaks(stack_name):
                poster.failed[stack_name] = poster.failed.get(stack_name, 0) + 1
                raise poster.outage()
            return real(runner, stack_id, traversal_id, node_keys, stack_name)

        monkeypatch.setattr(distributed.DistributedRunner, 'post', post)

    def breaks(self, stack_name):
        if self.healed or not self.victim(stack_name):
            return False
        return self.failures is None or self.failed.get(stack_name, 0) < self.failures

    def heal(self):
        self.healed = True


@pytest.fixture
def service(conf, database):
    # Watchdog passes (and so sweeps) only when a test runs one.
    with harness.zake_service(conf, database, watchdog_interval=3600) as service:
        yield service


def stack_row(service, name):
    return db.stack_get(service.database, service._stack(name).id)


@OUTAGES
def test_a_first_post_that_fails_transiently_is_retried(service, conf, database,
                                                        monkeypatch, outage):
    flaky = FlakyPoster(monkeypatch, outage, failures=1)
    text = tmpl({'a': res('a'), 'b': dict(res('b'), depends_on='a')},
                outputs={'b': {'value': {'get_attr': ['b', 'output']}}})
    with harness.conductors(conf, database, count=1):
        view = service.create_stack('flaky', text, 't.yaml')
        final = harness.settle(service, view['id'])
    assert flaky.failed == {'flaky': 1}
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert outputs(service.get_stack('flaky')) == {'b': 'b'}


def nested_template():
    child = {'heat_template_version': '2018-08-31',
             'resources': {'inner': res('deep')},
             'outputs': {'v': {'value': {'get_attr': ['inner', 'output']}}}}
    return tmpl({'n': {'type': 'OS::Heat::Stack',
                       'properties': {'template': yaml.safe_dump(child)}},
                 'g': {'type': 'OS::Heat::ResourceGroup',
                       'properties': {'count': 2, 'resource_def': res('member')}}},
                outputs={'v': {'value': {'get_attr': ['n', 'outputs', 'v']}}})


@OUTAGES
def test_a_nested_stack_whose_first_post_fails_fails_neither_child_nor_parent(
        service, conf, database, monkeypatch, outage):
    # The case: a parent's delete starts its children's deletes while the board's
    # session has expired; each child (and the parent with it) ended DELETE_FAILED
    # "Posting failure ..., session expired". Every child's first post fails here, on a
    # conductor (where a child's operation starts), for the create and for the delete.
    flaky = FlakyPoster(monkeypatch, outage, failures=1,
                        victim=lambda name: name != 'parent')
    with harness.conductors(conf, database, count=2):
        view = service.create_stack('parent', nested_template(), 't.yaml')
        created = harness.settle(service, view['id'])
        assert created['stack_status'] == 'CREATE_COMPLETE', created['stack_status_reason']
        assert outputs(service.get_stack('parent')) == {'v': 'deep'}
        children = [s for s in db.stack_list(database, None, include_nested=True)
                    if s.owner_id is not None]
        assert len(children) == 2          # the nested stack and the group's
        assert all(s.status == 'COMPLETE' for s in children)
        assert set(flaky.failed) == {s.name for s in children}
        flaky.failed.clear()               # the deletes' first posts fail in turn
        deleted = harness.settle(service, service.delete_stack('parent')['id'])
    assert deleted['stack_status'] == 'DELETE_COMPLETE', deleted['stack_status_reason']
    assert set(flaky.failed) == {s.name for s in children}
    for child in children:
        row = db.stack_get(database, child.id)
        assert row is None or (row.action, row.status) == ('DELETE', 'COMPLETE'), row


@OUTAGES
def test_an_outage_past_post_retry_timeout_leaves_the_stack_to_the_sweep(
        service, conf, database, monkeypatch, outage):
    conf.set_override('post_retry_timeout', 1.0, group='jobboard')
    flaky = FlakyPoster(monkeypatch, outage, failures=None)
    text = tmpl({'a': res('a'), 'b': res('b')})
    with harness.conductors(conf, database, count=1) as (cond,):
        view = service.create_stack('outage', text, 't.yaml')
        # Not failed: the stack waits, its sync points say which nodes need a job.
        assert view['stack_status'] == 'CREATE_IN_PROGRESS', view['stack_status_reason']
        assert flaky.failed['outage'] > 1                     # retried
        stack = stack_row(service, 'outage')
        assert sync_points.pending(database, stack.id, stack.current_traversal) == [
            'converge:a', 'converge:b']
        assert cond.runner.jobs_on_board(stack.current_traversal) == set()
        flaky.heal()
        later = time.time() + cond.sweeper.grace() + 1
        assert cond.sweeper.sweep(now=later) == []            # first sighting
        assert sorted(k for _, _, k in cond.sweeper.sweep(now=later)) == [
            'converge:a', 'converge:b']
        final = harness.settle(service, view['id'])
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']


def test_a_start_error_other_than_an_outage_still_fails_the_stack(service, conf, database,
                                                                   monkeypatch):
    def broken():
        return ValueError('not the board')

    FlakyPoster(monkeypatch, broken, failures=None)
    with harness.conductors(conf, database, count=1):
        view = service.create_stack('broken', tmpl({'a': res('a')}), 't.yaml',
                                    disable_rollback=True)
    assert view['stack_status'] == 'CREATE_FAILED', view
    assert 'not the board' in view['stack_status_reason']
