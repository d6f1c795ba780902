"""A stack service with a conductor of its own, for a job board only this process sees.

A ``zake://`` board lives in this process's memory: no daemon elsewhere can claim its jobs,
so whoever posts to it must run them too. ``stack_service(conf)`` is what the command line
and other in-process users build: a plain StackService for a shared board, or a
LocalStackService, which starts a conductor with its first post and, on close, waits for the
stacks it posted to settle before stopping it (their jobs die with the process). It lives
here, above the engine, because it is the conductor that depends on the engine.
"""

import threading
import time

from heat_taskflow.common import polling, states
from heat_taskflow.conductors import conductor as conductor_mod
from heat_taskflow.engine import service as service_mod
from heat_taskflow.jobs import backends as jobboards
from heat_taskflow.persistence import api as db

# Seconds between looks at the posted stacks while close() waits for them to settle.
SETTLE_POLL = 0.2


def stack_service(conf, **kwargs):
    """The StackService for conf: one running its own conductor when the board is
    in-process ([jobboard] url zake://...), else one that only posts. A url of an unknown
    scheme gets the latter: legacy stacks need no board, and a distributed operation is
    refused, before anything is stored, by the service's own check of the board."""
    try:
        in_process = jobboards.in_process(conf.jobboard.url)
    except jobboards.JobBoardError:
        in_process = False
    if in_process:
        return LocalStackService(conf, **kwargs)
    return service_mod.StackService(conf, **kwargs)


class LocalStackService(service_mod.StackService):
    """A StackService that runs the jobs it posts in a conductor of its own."""

    def __init__(self, conf, **kwargs):
        super().__init__(conf, **kwargs)
        self._conductor = None
        self._lock = threading.Lock()
        self._posted = set()

    def before_post(self, stack_id):
        """Start the conductor with the first post; remember the stack to settle it."""
        self._posted.add(stack_id)
        with self._lock:
            if self._conductor is None:
                self._conductor = conductor_mod.Conductor(self.conf, self.database,
                                                          health_file='').start()

    def close(self, timeout=None, poll=SETTLE_POLL):
        """Wait until the stacks this service posted work for have settled, stop the
        conductor, then close the service (StackService.close). A background service
        (the API's) waits at most timeout seconds ([DEFAULT] shutdown_timeout): the
        board dies with the process, so what it did not run is for "stack resume"."""
        if self._root is not None:
            return self._root.close(timeout)
        if self._conductor is not None:
            deadline = None
            if self.background or timeout is not None:
                deadline = time.monotonic() + (self.conf.shutdown_timeout
                                               if timeout is None else timeout)
            try:
                polling.wait_until(lambda: not any(self._busy(stack_id)
                                                   for stack_id in list(self._posted)),
                                   poll, deadline=deadline)
            except polling.TimedOut:
                pass
            self._conductor.stop()
            self._conductor = None
        return super().close(timeout)

    def _busy(self, stack_id):
        stack = db.stack_get(self.database, stack_id)
        return stack is not None and stack.status == states.IN_PROGRESS
