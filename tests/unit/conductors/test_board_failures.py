"""A job board failure is never a job's failure (docs/chaos.md, rule 1).

The faults are injected deterministically: every zake client the jobs backend makes is a
FaultyClient, which raises a chosen kazoo error at a chosen call (a job's post), or drops
its connection (with or without telling its listeners yet, as kazoo tells them later from
its event thread). Time-based back-offs run on a clock the test advances by hand.
"""

import threading

import pytest
from kazoo import exceptions as k_exc
from kazoo.protocol import states as k_states
from taskflow import exceptions as tf_exc
from zake import fake_client

from heat_taskflow.conductors import conductor as conductor_mod
from heat_taskflow.engine import distributed
from heat_taskflow.flows import node_flow, sync_points
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.jobs import base as jobs
from heat_taskflow.jobs import impl_zake
from heat_taskflow.persistence import api as db
from tests.unit.conductors import harness
from tests.unit.engine.helpers import res, sqlite_only, tmpl

CHAIN = tmpl({'a': res('1'), 'b': res({'get_attr': ['a', 'output']})})


class FaultyClient(fake_client.FakeClient):
    """A zake client that fails on demand: ``fail_post(exc)`` makes the next job post on
    the board raise exc; ``drop(notify)`` makes it not connected (its listeners told at
    once, or not yet) while its requests still get served, as kazoo serves the requests
    it queued while suspended once it reconnects within the session; ``restore()``
    connects again. State changes reach listeners synchronously (kazoo's own event thread
    would make the test's order a race)."""

    def __init__(self, *args, faults=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._faults = [] if faults is None else faults      # may be shared by clients
        self.injected = []
        self.down = False
        self._fault_lock = threading.Lock()

    @property
    def connected(self):
        return self._connected and not self.down

    def fail_post(self, exc):
        """The next post not claimed by an earlier fail_post raises exc (None: succeeds)."""
        with self._fault_lock:
            self._faults.append(exc)

    def create(self, path, *args, **kwargs):
        # TaskFlow posts a job as a sequential node <board path>/job.
        if path.endswith('/job'):
            with self._fault_lock:
                exc = self._faults.pop(0) if self._faults else None     # None: no fault
            if exc is not None:
                self.injected.append(exc)
                raise exc
        return super().create(path, *args, **kwargs)

    def drop(self, notify=True):
        self.down = True
        if notify:
            self._fire_state_change(k_states.KazooState.SUSPENDED)

    def restore(self):
        self.down = False
        self._fire_state_change(k_states.KazooState.CONNECTED)

    def _fire_state_change(self, state):
        with self._listeners_lock:
            listeners = list(self._listeners)
        for func in listeners:
            func(state)


class Made(list):
    """The clients made, and faults of posts every one of them shares (``fail_post``: the
    next post through any of them fails, whichever session a conductor posts with)."""

    def __init__(self):
        super().__init__()
        self.faults = []

    def fail_post(self, exc):
        self.faults.append(exc)

    def injected(self):
        return [exc for client in self for exc in client.injected]


@pytest.fixture
def clients(monkeypatch):
    """Every client the zake backend makes from now on: a FaultyClient, recorded here."""
    made = Made()

    def make_client(cls, parsed_url, session_timeout):
        name = parsed_url.netloc or parsed_url.path.strip('/') or 'default'
        client = FaultyClient(storage=impl_zake.storage(name), faults=made.faults)
        made.append(client)
        return client

    monkeypatch.setattr(impl_zake.ZakeBackend, 'make_client', classmethod(make_client))
    return made


@pytest.fixture
def dist(conf, database, clients):
    """(conf, service, clients) on a private zake board; the test starts its conductors.
    The service's own poster is connected first: clients made after are the test's."""
    with harness.zake_service(conf, database, workers=2, retry_backoff=0.01,
                              board_backoff=0.01) as service:
        service.distributed.board().client._faults = []     # the test's faults: not here
        yield conf, service, clients


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Passes:
    """Counts the TaskFlow conductor's looks at the board and its claims (per job)."""

    def __init__(self, monkeypatch):
        self.looks = 0
        self.claims = []
        self._lock = threading.Lock()
        iterjobs = conductor_mod._UnclaimedJobs.iterjobs
        claim = getattr(conductor_mod._UnclaimedJobs, 'claim',
                        lambda self, job, who: self._board.claim(job, who))
        passes = self

        def counting_iterjobs(self, *args, **kwargs):
            with passes._lock:
                passes.looks += 1
            return iterjobs(self, *args, **kwargs)

        def counting_claim(self, job, who):
            with passes._lock:
                passes.claims.append(job.details.get('node'))
            return claim(self, job, who)

        monkeypatch.setattr(conductor_mod._UnclaimedJobs, 'iterjobs', counting_iterjobs)
        monkeypatch.setattr(conductor_mod._UnclaimedJobs, 'claim', counting_claim,
                            raising=False)

    def wait_more(self, count=3):
        """Wait until the conductor has looked at the board count more times."""
        start = self.looks
        harness.wait_for(lambda: self.looks >= start + count, what='conductor passes')


def attempts_seen(monkeypatch):
    """Record the attempt number every claim of a node's job counts."""
    seen = []
    begin = sync_points.begin_attempt

    def recording(database, traversal_id, node_key):
        state = begin(database, traversal_id, node_key)
        if state is not None:
            seen.append((node_key, state['attempts']))
        return state

    monkeypatch.setattr(sync_points, 'begin_attempt', recording)
    return seen


# -- classification -------------------------------------------------------------------

def test_is_transient_knows_the_outages_taskflow_and_kazoo_report():
    class Dropped(k_exc.ConnectionLoss):
        pass

    def wrapped(message, cause):
        try:
            tf_exc.raise_with_cause(tf_exc.JobFailure, message, cause=cause)
        except tf_exc.JobFailure as err:
            return err

    # zake's handler timeout is a plain IOError: the message says what it was.
    timed_out = wrapped('Posting failure: x, operation timed out', IOError('slow'))
    assert jobs.is_transient(timed_out)
    assert jobs.is_transient(wrapped('Posting failure: x, internal error', Dropped()))
    assert jobs.is_transient(wrapped('Posting failure: x, session expired',
                                     k_exc.SessionExpiredError()))
    assert jobs.is_transient(wrapped('Failed to connect to zookeeper', IOError()))
    from kazoo.retry import RetryFailedError
    assert jobs.is_transient(RetryFailedError('too many retries'))
    assert jobs.is_transient(Dropped())
    assert jobs.is_transient(jobs.BoardUnavailable('down'))
    # The request's own errors are not outages.
    assert not jobs.is_transient(wrapped('Posting failure: x, unknown job',
                                         k_exc.NoNodeError()))
    assert not jobs.is_transient(tf_exc.UnclaimableJob('Job x already claimed'))
    assert not jobs.is_transient(k_exc.BadArgumentsError())
    assert not jobs.is_transient(RuntimeError('database went away'))


def test_a_board_that_cannot_connect_now_is_unavailable_not_misconfigured(monkeypatch):
    class Down(FaultyClient):
        def start(self, timeout=None):
            raise self.handler.timeout_exception('Connection time-out')

    monkeypatch.setattr(impl_zake.ZakeBackend, 'make_client',
                        classmethod(lambda cls, url, timeout: Down()))
    with pytest.raises(jobs.BoardUnavailable, match='cannot connect'):
        jobboards.fetch('zake://down', persistence=None, connect_timeout=0.3)


def test_a_connection_lost_while_the_board_sets_up_is_tried_again(monkeypatch):
    # ZooKeeper restarting just as a command line connects: the first client's setup meets
    # ConnectionLoss; the command must not be refused while its connect_timeout lasts.
    made = []

    class LosesItOnce(FaultyClient):
        def ensure_path(self, path, *args, **kwargs):
            if len(made) == 1:
                raise k_exc.ConnectionLoss()
            return super().ensure_path(path, *args, **kwargs)

    def make_client(cls, url, timeout):
        made.append(LosesItOnce(storage=impl_zake.storage('flaky-setup')))
        return made[-1]

    monkeypatch.setattr(impl_zake.ZakeBackend, 'make_client', classmethod(make_client))
    board = jobboards.fetch('zake://flaky-setup', persistence=None, connect_timeout=30)
    try:
        assert len(made) == 2 and board.client is made[1]
        assert not made[0].connected                    # the first one was let go
    finally:
        board.close()
        impl_zake.forget('flaky-setup')


# -- the runner -----------------------------------------------------------------------

@sqlite_only
def test_the_runner_reports_an_unreadable_board_as_unavailable_not_empty(dist, database):
    conf, service, clients = dist
    stack = service.create_stack('read', tmpl({'a': res('1')}), 't.yaml')
    traversal = db.stack_get(database, stack['id']).current_traversal
    runner = service.distributed
    assert runner.jobs_on_board(traversal) == {'converge:a'}
    # A suspended connection: TaskFlow lists no job at all, which must not read as "none"
    # (post_missing would post every node again; running() would free every resource).
    runner.board().client.drop()
    with pytest.raises(jobs.BoardUnavailable):
        runner.jobs_on_board(traversal)
    with pytest.raises(jobs.BoardUnavailable):
        runner.running_jobs(stack['id'])
    with pytest.raises(jobs.BoardUnavailable):
        runner.post(stack['id'], traversal, ['converge:a'], 'read')
    runner.board().client.restore()
    assert runner.jobs_on_board(traversal) == {'converge:a'}
    # Reconnected, but the board has not heard of it yet (kazoo sets its client live, then
    # tells the listeners): it still lists nothing, which must not read as "none" either.
    runner.board().board._state_change_listener(k_states.KazooState.LOST)
    with pytest.raises(jobs.BoardUnavailable):
        runner.jobs_on_board(traversal)
    runner.board().board._state_change_listener(k_states.KazooState.CONNECTED)
    assert runner.jobs_on_board(traversal) == {'converge:a'}


@sqlite_only
@pytest.mark.parametrize('error', [k_exc.SessionExpiredError, k_exc.ConnectionLoss])
def test_a_post_that_fails_on_the_board_raises_board_unavailable(dist, database, error):
    conf, service, clients = dist
    stack = service.create_stack('post', tmpl({'a': res('1')}), 't.yaml')
    traversal = db.stack_get(database, stack['id']).current_traversal
    runner = service.distributed
    runner.board().client.fail_post(None)
    runner.board().client.fail_post(error())
    with pytest.raises(jobs.BoardUnavailable) as raised:
        runner.post(stack['id'], traversal, ['converge:a', 'converge:b', 'converge:c'],
                    'post')
    assert isinstance(raised.value.__cause__, tf_exc.JobFailure)     # "Posting failure"
    assert raised.value.posted == ['converge:a']


def test_propagate_turns_a_board_outage_into_board_retry_and_other_errors_not():
    class Services(node_flow.NodeServices):
        database = None

        def __init__(self, error):
            self.error = error

        def runtime(self, *args):
            raise self.error

        post = post_missing = traversal_completed = traversal_failed = runtime

    task = node_flow.PropagateTask('s', 't', 'converge:a')
    task._propagate = lambda outcome, services: services.post('s', 't', ['converge:b'])
    with pytest.raises(node_flow.BoardRetry):
        task.execute({'result': node_flow.RAN}, Services(jobs.BoardUnavailable('down')))
    with pytest.raises(node_flow.NodeRetry) as raised:
        task.execute({'result': node_flow.RAN}, Services(RuntimeError('db down')))
    assert not isinstance(raised.value, node_flow.BoardRetry)


# -- one session per conductor --------------------------------------------------------

@sqlite_only
def test_a_conductor_posts_through_the_session_it_claims_with(dist, database):
    conf, service, clients = dist
    before = len(clients)
    with harness.conductors(conf, database, count=1) as (conductor,):
        assert len(clients) == before + 1
        assert conductor.runner.board() is conductor._board
        service.create_stack('one', CHAIN, 't.yaml')      # a's job posts b's
        final = harness.settle(service, 'one')
        assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
        assert len(clients) == before + 1, 'the conductor opened a second session'
        own = clients[before]
    # Stopped: its one client is closed, once (the runner only let go of it).
    assert not own.connected


# -- a node whose post fails ----------------------------------------------------------

@sqlite_only
@pytest.mark.parametrize('error', [k_exc.SessionExpiredError, k_exc.ConnectionLoss])
def test_a_node_whose_post_fails_keeps_its_attempt_and_completes(dist, database,
                                                                  monkeypatch, error):
    # One attempt allowed: counting the board's failure against the job would exhaust it
    # ("the job of converge:a did not finish in 1 attempts") and fail the stack.
    conf, service, clients = dist
    conf.set_override('max_attempts', 1, group='conductor')
    seen = attempts_seen(monkeypatch)
    with harness.conductors(conf, database, count=1):
        clients.fail_post(error())          # the conductor's post of b (after a) fails once
        service.create_stack('flaky', CHAIN, 't.yaml')
        final = harness.settle(service, 'flaky')
    assert len(clients.injected()) == 1                    # the fault did fire
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert seen.count(('converge:a', 1)) == 2 and ('converge:a', 2) not in seen
    assert seen.count(('converge:b', 1)) == 1


@sqlite_only
def test_a_board_failure_while_propagating_holds_off_claims(dist, database):
    conf, service, clients = dist
    conf.set_override('board_backoff', 1.0, group='conductor')
    clock = Clock()
    with harness.conductors(conf, database, count=1, clock=clock) as (conductor,):
        conductor._board.client.fail_post(k_exc.SessionExpiredError())
        service.create_stack('held', CHAIN, 't.yaml')
        harness.wait_for(lambda: not conductor.board_backoff.ready(),
                         what='the board failure to start a back-off')
        assert not conductor.may_claim()
        clock.now += 1.0
        assert conductor.may_claim()
        final = harness.settle(service, 'held')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']


# -- no claims while the board is unhealthy -------------------------------------------

@sqlite_only
def test_a_conductor_claims_nothing_while_its_client_is_not_connected(dist, database,
                                                                     monkeypatch):
    conf, service, clients = dist
    passes = Passes(monkeypatch)
    with harness.conductors(conf, database, count=1) as (conductor,):
        # Disconnected, and its listeners not told yet (kazoo tells them later, from its
        # event thread): TaskFlow's board still lists the jobs it knows.
        conductor._board.client.drop(notify=False)
        service.create_stack('offline', tmpl({'a': res('1')}), 't.yaml')
        harness.wait_for(lambda: harness.board_jobs(service.distributed.board()),
                         what='the job on the board')
        passes.wait_more()
        assert passes.claims == []
        assert not conductor.may_claim()
        conductor._board.client.restore()
        final = harness.settle(service, 'offline')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert passes.claims == ['converge:a']


def test_board_trouble_backs_off_claims_doubling_then_quiet_resets(conf):
    clock = Clock()
    conf.set_override('board_backoff', 0.5, group='conductor')
    conductor = conductor_mod.Conductor(conf, database=_NoDatabase(), clock=clock)
    conductor._board = _Connected()
    assert conductor.may_claim()
    delays = []
    for _ in range(6):
        delays.append(conductor.board_backoff.failed())
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]         # doubling, up to 10x
    assert not conductor.may_claim()
    clock.now += 4.9
    assert not conductor.may_claim()
    clock.now += 0.1
    assert conductor.may_claim()
    # The client's state: suspended or lost holds claims off; reconnected waits again.
    conductor._on_client_state(k_states.KazooState.SUSPENDED)
    clock.now += 5.0
    conductor._on_client_state(k_states.KazooState.CONNECTED)
    assert not conductor.may_claim()
    clock.now += 5.0
    assert conductor.may_claim()
    # A quiet period (the longest delay without a failure) starts again from the first.
    clock.now += 5.0
    assert conductor.board_backoff.failed() == 0.5
    conductor._board.up = False
    clock.now += 100
    assert not conductor.may_claim()                      # not connected


# -- a job handed back ----------------------------------------------------------------

@sqlite_only
def test_a_job_handed_back_is_not_claimed_again_here_within_its_backoff(dist, database,
                                                                       monkeypatch):
    conf, service, clients = dist
    conf.set_override('retry_backoff', 2.0, group='conductor')
    clock = Clock()
    passes = Passes(monkeypatch)
    propagate = node_flow.PropagateTask._propagate
    broken = []

    def once_broken(self, outcome, services):
        if not broken:
            broken.append(self.node_key)
            raise RuntimeError('database went away')
        return propagate(self, outcome, services)

    monkeypatch.setattr(node_flow.PropagateTask, '_propagate', once_broken)
    with harness.conductors(conf, database, count=1, clock=clock) as (conductor,):
        handed_back = threading.Event()
        conductor._conductor.notifier.register('job_abandoned',
                                               lambda *args, **kwargs: handed_back.set())
        service.create_stack('back', tmpl({'a': res('1')}), 't.yaml')
        harness.wait_for(handed_back.is_set, what='the job handed back')
        passes.wait_more()
        assert passes.claims == ['converge:a']            # not claimed again yet
        clock.now += 2.0
        final = harness.settle(service, 'back')
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    assert passes.claims == ['converge:a', 'converge:a']


def test_the_job_backoff_doubles_per_hand_back_and_skips_only_that_job(conf):
    clock = Clock()
    conf.set_override('retry_backoff', 1.0, group='conductor')
    conductor = conductor_mod.Conductor(conf, database=_NoDatabase(), clock=clock)
    one, two = _Job('one'), _Job('two')
    board = conductor_mod._UnclaimedJobs(_ListBoard([one, two]),
                                         not_before=conductor._job_ready)
    assert list(board.iterjobs()) == [one, two]
    assert conductor._handed_back(one) == 1.0
    assert list(board.iterjobs()) == [two]
    clock.now += 1.0
    assert list(board.iterjobs()) == [one, two]
    assert conductor._handed_back(one) == 2.0               # handed back again: doubled
    clock.now += 1.9
    assert list(board.iterjobs()) == [two]
    clock.now += 0.1
    assert list(board.iterjobs()) == [one, two]


def test_dispatch_gives_the_attempt_back_only_for_a_board_failure(conf, monkeypatch):
    given_back = []
    monkeypatch.setattr(sync_points, 'begin_attempt',
                        lambda database, t, key: {'done': False, 'attempts': 1})
    monkeypatch.setattr(sync_points, 'give_back_attempt',
                        lambda database, t, key: given_back.append(key))
    conductor = conductor_mod.Conductor(conf, database=_NoDatabase(), clock=Clock())
    job = _Job('j', {'node': 'converge:a', 'stack_id': 's', 'traversal_id': 't'})

    class Failure:
        exception_str = 'Posting failure: j, session expired'

    assert not conductor._dispatch(job, lambda job: conductor_mod.JobRun(False, None))
    assert given_back == []
    assert not conductor._dispatch(job, lambda job: conductor_mod.JobRun(False, Failure()))
    assert given_back == ['converge:a']
    assert not conductor.board_backoff.ready()
    assert conductor._dispatch(job, lambda job: conductor_mod.JobRun(True, None))
    assert given_back == ['converge:a']


# -- small fakes for the tests above that need no board -------------------------------

class _NoDatabase:
    def taskflow_backend(self):
        return None


class _Connected:
    up = True

    def connected(self):
        return self.up


class _Job:
    def __init__(self, uuid, details=None):
        self.uuid = uuid
        self.details = details or {}

    def __repr__(self):
        return '<Job %s>' % self.uuid


class _ListBoard:
    def __init__(self, found):
        self.found = found

    def iterjobs(self, only_unclaimed=False, ensure_fresh=False):
        return iter(self.found)


@sqlite_only
def test_the_runner_closes_only_a_board_it_owns(conf, database, clients):
    name = harness.distributed_conf(conf)
    runner = distributed.DistributedRunner(conf, database)
    own = runner.board()
    lent = jobboards.fetch(conf.jobboard.url, None)
    try:
        runner.attach(lent)
        assert not own.client.connected        # its own poster session is gone
        assert runner.board() is lent
        runner.close()
        assert lent.client.connected           # its owner closes it
    finally:
        lent.close()
        harness.forget_board(name)


def test_a_zookeeper_client_tries_to_reconnect_at_least_every_second():
    # kazoo's default reconnection backs off up to an hour between tries: a command line
    # started during a ZooKeeper outage of half a minute then waited past its
    # connect_timeout for a server that had long been back (the chaos storm's "Failed
    # connecting to Zookeeper within the connection retry policy").
    import urllib.parse

    from heat_taskflow.jobs import impl_zookeeper

    client = impl_zookeeper.ZooKeeperBackend.make_client(
        urllib.parse.urlsplit('zookeeper://127.0.0.1:1/heat-taskflow'), 5.0)
    retry = client._conn_retry
    assert retry.max_tries == -1                # for ever: connect_timeout bounds a caller
    assert retry.max_delay <= 1.0
