"""Tests for heat_taskflow.common.polling: wait_until and backoff."""

import threading
import time

import pytest

from heat_taskflow.common import polling


def answers(*values):
    """A predicate answering values in turn, recording each call."""
    calls = []
    it = iter(values)

    def predicate():
        calls.append(time.monotonic())
        return next(it)

    predicate.calls = calls
    return predicate


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(time, 'sleep', slept.append)
    return slept


def test_returns_the_first_true_answer_sleeping_between_looks(sleeps):
    predicate = answers(None, 0, {'done': 1})
    assert polling.wait_until(predicate, 2.0) == {'done': 1}
    assert len(predicate.calls) == 3 and sleeps == [2.0, 2.0]


def test_a_true_first_answer_never_sleeps(sleeps):
    assert polling.wait_until(answers(True), 5.0) is True
    assert sleeps == []


def test_predicate_errors_propagate_unchanged(sleeps):
    def boom():
        raise KeyError('gone')

    with pytest.raises(KeyError, match='gone'):
        polling.wait_until(boom, 1.0)
    assert sleeps == []


def test_deadline_on_a_given_clock(sleeps):
    now = [100.0]
    predicate = answers(False, False, False, True)

    def clock():
        now[0] += 1
        return now[0]

    with pytest.raises(polling.TimedOut):
        polling.wait_until(predicate, 0.5, deadline=102.5, clock=clock)
    # Looked at 101 and 102 (then slept), gave up after the look at 103.
    assert len(predicate.calls) == 3 and sleeps == [0.5, 0.5]


def test_timed_out_callable(sleeps):
    left = [2]

    def timed_out():
        left[0] -= 1
        return left[0] < 0

    with pytest.raises(polling.TimedOut):
        polling.wait_until(lambda: False, 0.1, timed_out=timed_out)
    assert sleeps == [0.1, 0.1]


def test_stop_event_ends_the_wait_and_cuts_the_sleep_short():
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(polling.Stopped):
        polling.wait_until(lambda: False, 30.0, deadline=time.monotonic() + 60,
                           stop_event=stop)
    assert time.monotonic() - started < 10
    assert issubclass(polling.Stopped, polling.WaitAborted)
    assert issubclass(polling.TimedOut, polling.WaitAborted)


def test_a_set_stop_event_still_allows_one_look():
    stop = threading.Event()
    stop.set()
    assert polling.wait_until(lambda: 'ready', 1.0, stop_event=stop) == 'ready'
    with pytest.raises(polling.Stopped):
        polling.wait_until(lambda: False, 1.0, stop_event=stop)


def test_backoff_doubles_up_to_its_maximum():
    wait = polling.backoff(0.005, 0.5)
    assert [wait.delay(n, 0.0) for n in range(1, 9)] == [
        0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.5]
    assert wait.delay(100000, 0.0) == 0.5     # no overflow after a long wait


def test_backoff_with_a_fraction_of_the_time_waited():
    wait = polling.backoff(0.005, 0.5, fraction=0.1)
    assert wait.delay(1, 0.0) == 0.005         # never below start
    assert wait.delay(5, 0.3) == pytest.approx(0.03)
    assert wait.delay(20, 100.0) == 0.5


def test_backoff_in_a_wait(sleeps):
    polling.wait_until(answers(False, False, False, True), polling.backoff(1.0, 3.0))
    assert sleeps == [1.0, 2.0, 3.0]
