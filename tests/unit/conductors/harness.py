"""Helpers for distributed-path tests: a private zake board, conductors, bounded waits."""

import contextlib
import time
import uuid

from heat_taskflow.conductors import conductor as conductor_mod
from heat_taskflow.engine import service as service_mod
from heat_taskflow.jobs import impl_zake

TIMEOUT = 60      # generous bound for anything to settle; never a speed assertion


def distributed_conf(conf, **conductor_overrides):
    """Make conf put new stacks on the distributed path on a zake board private to a test."""
    name = 'test-%s' % uuid.uuid4().hex[:12]
    conf.set_override('convergence_engine', True)
    conf.set_override('url', 'zake://%s' % name, group='jobboard')
    conf.set_override('wait_timeout', 0.02, group='conductor')
    conf.set_override('health_file', '', group='conductor')
    for key, value in conductor_overrides.items():
        conf.set_override(key, value, group='conductor')
    return name


@contextlib.contextmanager
def conductors(conf, database, count=2, **kwargs):
    """Start ``count`` conductors on conf's board; stop them all at the end."""
    started = [conductor_mod.Conductor(conf, database, **kwargs).start()
               for _ in range(count)]
    try:
        yield started
    finally:
        for cond in started:
            cond.stop(timeout=TIMEOUT)


def wait_for(predicate, timeout=TIMEOUT, poll=0.02, what='condition'):
    """Poll predicate until it is true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(poll)


def settle(service, name):
    """The stack view once its operation (and any rollback) has ended; fails the test if
    it has not ended within TIMEOUT."""
    return service.wait(name, poll=0.02, timeout=TIMEOUT)


def board_jobs(board, only_unclaimed=False):
    """Jobs on a Board."""
    return list(board.board.iterjobs(only_unclaimed=only_unclaimed, ensure_fresh=True))


def forget_board(name):
    """Drop a zake board's storage."""
    impl_zake.forget(name)


def make_service(conf, database, executors):
    """A StackService that posts only (the test runs the conductors)."""
    return service_mod.StackService(conf, database=database, executors=executors)


@contextlib.contextmanager
def zake_service(conf, database, workers=None, **conductor_overrides):
    """A posting-only StackService on a zake board private to the test, with an executor
    pool of its own; all closed at the end. The test starts the conductors."""
    from heat_taskflow.engine import legacy
    board = distributed_conf(conf, **conductor_overrides)
    executors = legacy.ExecutorPool(workers or conf.max_concurrent_resource_actions)
    service = make_service(conf, database, executors)
    try:
        yield service
    finally:
        service.close()
        forget_board(board)
        executors.shutdown()
