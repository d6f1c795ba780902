"""Waiting for a condition: the one poll loop of the project, on tenacity.

``wait_until(predicate, interval)`` calls ``predicate()`` until it returns a true value, and
returns that value. Between two calls it sleeps ``interval`` seconds: a number, or a wait
strategy such as ``backoff(start, maximum)``. The predicate is called first, before any
sleep; an exception it raises ends the wait and propagates unchanged. After each false
answer it gives up, in this order:

- when ``stop_event`` (a threading.Event) is set: raises ``Stopped`` (a set event also cuts
  the sleep short);
- when ``clock()`` is past ``deadline`` (a value of ``clock``, time.monotonic by default;
  pass ``clock=time.time`` for a stored wall-clock deadline), or when ``timed_out()``
  answers True (a callable that owns the deadline, such as OperationRuntime.timed_out):
  raises ``TimedOut``.

A caller that must check something of its own between two looks does it in the predicate.
"""

import time

import tenacity

# 2 ** 64 steps of a backoff are far past any maximum: never compute a larger power.
_MAX_DOUBLINGS = 64


class WaitAborted(Exception):
    """The wait ended before the predicate held."""


class TimedOut(WaitAborted):
    """The deadline passed before the predicate held."""


class Stopped(WaitAborted):
    """The stop event was set before the predicate held."""


class backoff(tenacity.wait.wait_base):
    """A wait of ``start`` seconds, doubled after each look up to ``maximum``; with
    ``fraction``, also never more than that fraction of the time waited so far (but not
    less than ``start``), so a condition that holds after t seconds is seen by about
    (1 + fraction) t."""

    def __init__(self, start, maximum, fraction=None):
        self.start = start
        self.maximum = maximum
        self.fraction = fraction

    def __call__(self, retry_state):
        doublings = min(retry_state.attempt_number - 1, _MAX_DOUBLINGS)
        delay = min(self.start * 2 ** doublings, self.maximum)
        if self.fraction is not None:
            waited = retry_state.seconds_since_start or 0.0
            delay = min(delay, max(self.start, waited * self.fraction))
        return delay


def _sleep(seconds):
    # Looked up at each call, so that a test that replaces time.sleep is obeyed.
    time.sleep(seconds)


def wait_until(predicate, interval, deadline=None, stop_event=None, clock=time.monotonic,
               timed_out=None):
    """Call ``predicate()`` until it returns a true value and return that value, sleeping
    ``interval`` between calls; TimedOut once ``deadline`` passes (or ``timed_out()``),
    Stopped once ``stop_event`` is set (see the module docstring)."""
    wait = interval if callable(interval) else tenacity.wait_fixed(interval)

    def give_up(retry_state):
        if stop_event is not None and stop_event.is_set():
            return True
        if timed_out is not None and timed_out():
            return True
        return deadline is not None and clock() > deadline

    def aborted(retry_state):
        if stop_event is not None and stop_event.is_set():
            raise Stopped('stopped after %d looks' % retry_state.attempt_number)
        raise TimedOut('deadline passed after %d looks' % retry_state.attempt_number)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: not result),
        wait=wait, stop=give_up, retry_error_callback=aborted,
        sleep=stop_event.wait if stop_event is not None else _sleep)
    return retrying(predicate)
