"""The conductors' lost-post sweep (conductors/sweeper.py): the nodes a traversal should have
a job for and the board does not hold are posted again, once, by one conductor."""

import threading
import time

import pytest

from heat_taskflow.engine import distributed
from heat_taskflow.flows import sync_points
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness
from tests.unit.engine.helpers import res, sqlite_only, tmpl

pytestmark = sqlite_only


@pytest.fixture
def service(conf, database):
    # Watchdog passes (and so sweeps) only when a test runs one.
    with harness.zake_service(conf, database, watchdog_interval=3600) as service:
        yield service


class Died(BaseException):
    """The poster's process died (a SystemExit; not an error anyone handles)."""


@pytest.fixture
def dies_before_posting(service, monkeypatch):
    """The service's process dies between storing a traversal's sync points and posting
    its first jobs: create_stack raises Died, leaving the stack IN_PROGRESS."""

    def post(stack_id, traversal_id, node_keys, stack_name):
        raise Died()

    monkeypatch.setattr(service.distributed, 'post', post)

    def create(name, text):
        with pytest.raises(Died):
            service.create_stack(name, text, 't.yaml')
        stack = db.stack_get(service.database, service._stack(name).id)
        assert stack.status == 'IN_PROGRESS'
        assert sync_points.pending(service.database, stack.id, stack.current_traversal)
        return stack

    return create


@pytest.fixture
def counted_posts(monkeypatch):
    """[(traversal id, node key)] of every post of any DistributedRunner from now on."""
    posts = []
    real = distributed.DistributedRunner.post

    def post(runner, stack_id, traversal_id, node_keys, stack_name):
        posts.extend((traversal_id, key) for key in node_keys)
        return real(runner, stack_id, traversal_id, node_keys, stack_name)

    monkeypatch.setattr(distributed.DistributedRunner, 'post', post)
    return posts


def later(cond):
    """A sweep's now once every traversal of the test is older than the grace."""
    return time.time() + cond.sweeper.grace() + 1


def test_the_sweep_posts_the_roots_a_dead_poster_left_after_two_passes(
        service, conf, database, dies_before_posting):
    stack = dies_before_posting('orphan', tmpl({'a': res('a'), 'b': res('b')}))
    traversal = stack.current_traversal
    with harness.conductors(conf, database, count=1) as (cond,):
        # A traversal younger than the grace may still be posting: left alone.
        assert cond.sweeper.sweep() == []
        assert cond.sweeper.sweep() == []
        assert cond.runner.jobs_on_board(traversal) == set()
        now = later(cond)
        assert cond.sweeper.sweep(now=now) == []            # lost once: maybe posting
        posted = cond.sweeper.sweep(now=now)                # lost twice: posted
        assert sorted(posted) == [(stack.id, traversal, 'converge:a'),
                                  (stack.id, traversal, 'converge:b')]
        final = harness.settle(service, stack.id)
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']


def test_the_conductors_watchdog_sweeps(service, conf, database, dies_before_posting):
    # No pass by hand: the conductors' watchdog threads sweep (the grace is about 1 s).
    conf.set_override('post_retry_timeout', 0, group='jobboard')
    conf.set_override('session_timeout', 1, group='jobboard')
    conf.set_override('watchdog_interval', 0.05, group='conductor')
    stack = dies_before_posting('orphan', tmpl({'a': res('a'), 'b': res('b')}))
    with harness.conductors(conf, database, count=2):
        final = harness.settle(service, stack.id)
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']


def test_a_node_with_a_job_is_not_posted_again(service, conf, database, counted_posts):
    with harness.conductors(conf, database, count=1) as (cond,):
        # No conductor claims (it is stopped), so the job of 'a' stays on the board.
        cond.stop(timeout=harness.TIMEOUT)
        view = service.create_stack('held', tmpl({'a': res('a')}), 't.yaml')
        stack = db.stack_get(database, view['id'])
        assert cond.runner.jobs_on_board(stack.current_traversal) == {'converge:a'}
        before = list(counted_posts)
        now = later(cond)
        assert cond.sweeper.sweep(now=now) == []
        assert cond.sweeper.sweep(now=now) == []
        assert counted_posts == before


def test_two_conductors_sweeping_at_once_post_a_lost_node_once(
        service, conf, database, dies_before_posting, counted_posts, monkeypatch):
    stack = dies_before_posting('orphan', tmpl({'a': res('a')}))
    traversal = stack.current_traversal
    with harness.conductors(conf, database, count=2) as (one, two):
        now = later(one)
        assert one.sweeper.sweep(now=now) == [] and two.sweeper.sweep(now=now) == []
        # Both read the board (the node has no job there) before either claims it.
        both_read = threading.Barrier(2, timeout=harness.TIMEOUT)
        for cond in (one, two):
            read = cond.runner.nodes_on_board

            def nodes_on_board(read=read):
                found = read()
                both_read.wait()
                return found

            monkeypatch.setattr(cond.runner, 'nodes_on_board', nodes_on_board)
        results = {}
        threads = [threading.Thread(target=lambda c=c: results.update(
            {c.name: c.sweeper.sweep(now=now)})) for c in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(harness.TIMEOUT)
        assert sorted(len(r) for r in results.values()) == [0, 1], results
        final = harness.settle(service, stack.id)
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert counted_posts.count((traversal, 'converge:a')) == 1, counted_posts


def test_a_claimed_repost_that_is_lost_again_is_found_again(
        service, conf, database, dies_before_posting, monkeypatch):
    stack = dies_before_posting('orphan', tmpl({'a': res('a')}))
    with harness.conductors(conf, database, count=1) as (cond,):
        real = cond.runner.post
        monkeypatch.setattr(cond.runner, 'post', lambda *args: None)   # lost again
        now = later(cond)
        cond.sweeper.sweep(now=now)
        assert len(cond.sweeper.sweep(now=now)) == 1           # claimed generation 0
        monkeypatch.setattr(cond.runner, 'post', real)
        assert cond.sweeper.sweep(now=now) == []               # generation 1, first seen
        assert len(cond.sweeper.sweep(now=now)) == 1
        final = harness.settle(service, stack.id)
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']


def test_the_board_is_read_once_per_pass(service, conf, database, dies_before_posting,
                                         monkeypatch):
    stacks = [dies_before_posting('orphan%d' % i, tmpl({'a': res('a')})) for i in range(3)]
    with harness.conductors(conf, database, count=1) as (cond,):
        reads = []
        read = cond.runner.nodes_on_board
        monkeypatch.setattr(cond.runner, 'nodes_on_board',
                            lambda: reads.append(1) or read())
        now = later(cond)
        cond.sweeper.sweep(now=now)
        assert len(reads) == 1
        assert len(cond.sweeper.sweep(now=now)) == len(stacks)
        assert len(reads) == 2
        for stack in stacks:
            final = harness.settle(service, stack.id)
            assert final['stack_status'] == 'CREATE_COMPLETE', final


def test_claim_repost_is_won_once_per_generation(service, conf, database,
                                                 dies_before_posting):
    stack = dies_before_posting('orphan', tmpl({'a': res('a')}))
    traversal = stack.current_traversal
    assert sync_points.pending_reposts(database, stack.id, traversal) == {'converge:a': 0}
    assert sync_points.claim_repost(database, traversal, 'converge:a', 0)
    assert not sync_points.claim_repost(database, traversal, 'converge:a', 0)
    assert sync_points.pending_reposts(database, stack.id, traversal) == {'converge:a': 1}
    sync_points.mark_done(database, traversal, 'converge:a')
    assert not sync_points.claim_repost(database, traversal, 'converge:a', 1)
    assert not sync_points.claim_repost(database, 'no-such-traversal', 'converge:a', 0)


def test_a_sweep_and_a_re_run_finding_one_lost_node_at_once_post_it_once(
        service, conf, database, dies_before_posting, counted_posts, monkeypatch):
    # A node re-run (MAYBE_LOST) or a stack resume re-posts through post_missing; a sweep
    # found the same node lost at the same moment. Both read its repost generation and
    # the board before either claims: the claim on the sync point lets one of them post.
    stack = dies_before_posting('orphan', tmpl({'a': res('a')}))
    traversal = stack.current_traversal
    with harness.conductors(conf, database, count=1) as (cond,):
        cond.stop(timeout=harness.TIMEOUT)      # nothing claims: the posts stay countable
        now = later(cond)
        assert cond.sweeper.sweep(now=now) == []                # first sighting
        stale = sync_points.pending_reposts(database, stack.id, traversal)
        assert cond.sweeper.sweep(now=now) == [(stack.id, traversal, 'converge:a')]
        # The re-run read the generation before the sweep claimed, and the board before
        # the sweep's job landed on it.
        monkeypatch.setattr(sync_points, 'pending_reposts', lambda *args: dict(stale))
        monkeypatch.setattr(cond.runner, 'jobs_on_board', lambda traversal_id: set())
        assert cond.runner.post_missing(stack.id, traversal, ['converge:a'], 'orphan') == []
    assert counted_posts.count((traversal, 'converge:a')) == 1, counted_posts
