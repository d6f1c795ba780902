"""What every job board backend provides, and the connected Board callers hold.

A backend (``impl_*.py``, registered in the ``heat_taskflow.jobs.backends`` entry-point
namespace under its URL scheme) builds the ZooKeeper client TaskFlow's job board runs on;
``backends.fetch`` wraps the connected board and that client in a Board, which owns both.
"""

import abc


class JobBoardError(Exception):
    """The job board URL is unusable or the board cannot be reached."""


class BoardUnavailable(JobBoardError):
    """The job board failed for a while (connection lost, session expired, ZooKeeper
    down): the infrastructure's failure, never the job's nor the stack's. Whoever meets it
    retries later; a job that meets it gives its attempt back."""


# kazoo's errors that mean the connection or the session, not the request, went wrong
# (matched on the error's classes by name, so their subclasses count too).
_KAZOO_TRANSIENT = ('ConnectionLoss', 'ConnectionLossException', 'SessionExpiredError',
                    'OperationTimeoutError', 'ConnectionClosedError', 'ConnectionDropped',
                    'SessionMovedError', 'KazooTimeoutError', 'CancelledError',
                    'RetryFailedError')

# What TaskFlow's ZooKeeper job board says in a JobFailure when the connection failed:
# "not connected", "..., session expired", "..., operation timed out" (its client's handler
# timeout, which for zake is a plain IOError), "Failed to connect to zookeeper".
_TASKFLOW_TRANSIENT = ('not connected', 'connection', 'connect to', 'session', 'timed out')


# The kazoo client states (KazooState values) in which TaskFlow's board lists no jobs.
UNUSABLE_STATES = ('SUSPENDED', 'LOST')


def _kazoo_transient(exc):
    return any((cls.__module__ or '').startswith('kazoo') and cls.__name__ in _KAZOO_TRANSIENT
               for cls in type(exc).__mro__)


def is_transient(exc):
    """True when an error (or any error in its cause/context chain) is a job board outage:
    BoardUnavailable, a kazoo connection or session error (or a subclass of one), a
    TaskFlow JobFailure wrapping one ("Posting failure: ..."), or a TaskFlow JobFailure
    that says the board is not connected, the session expired or an operation timed out.
    Errors of the request itself (NotFound, a job already claimed, bad arguments) are
    not."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, BoardUnavailable):
            return True
        if _kazoo_transient(exc):
            return True
        module = type(exc).__module__ or ''
        if module.startswith('taskflow') and type(exc).__name__ == 'JobFailure':
            text = str(exc).lower()
            if any(words in text for words in _TASKFLOW_TRANSIENT):
                return True
        cause = getattr(exc, 'cause', None)      # TaskFlow's wrapped cause
        if cause is not None and cause is not exc and isinstance(cause, BaseException):
            if is_transient(cause):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


class Backend(abc.ABC):
    """A job board backend: how to reach the ZooKeeper (real or fake) a URL names."""

    #: True when the board lives only inside this process (nobody else can run its jobs,
    #: so whoever posts to it must also run a conductor).
    in_process = False

    @classmethod
    @abc.abstractmethod
    def make_client(cls, parsed_url, session_timeout):
        """An unstarted kazoo-compatible client for a parsed (urlsplit) board URL."""


class Board:
    """A connected TaskFlow job board and the ZooKeeper client it runs on (owned here)."""

    def __init__(self, url, board, client):
        self.url = url
        self.board = board
        self.client = client

    def connected(self):
        """True while the client has a live connection to ZooKeeper (not suspended, not
        lost) and the board knows it. TaskFlow's own ``board.connected`` stays False once
        a session was lost, even after its client reconnects with a new one; and its
        board lists no jobs until it has heard of the reconnection (its listener runs
        just after the client says connected): both must say so."""
        if not self.client.connected:
            return False
        heard = getattr(self.board, '_last_states', None)     # newest first
        return not heard or str(heard[0]) not in UNUSABLE_STATES

    def check(self):
        """Raise BoardUnavailable unless connected. TaskFlow's board lists no jobs at all
        while its connection is suspended or lost (an empty list, no error): a caller that
        reads the board must not take that for "no job"."""
        if not self.connected():
            raise BoardUnavailable('job board %s: not connected to ZooKeeper' % self.url)

    def close(self):
        """Close the board, then stop and close its client (the board does not own it)."""
        try:
            self.board.close()
        finally:
            # The board listens to its client's state and warns of a "lost" connection
            # when a client it does not own stops: this stop is expected.
            listener = getattr(self.board, '_state_change_listener', None)
            if listener is not None:
                self.client.remove_listener(listener)
            try:
                self.client.stop()
            finally:
                self.client.close()

    def __repr__(self):
        return '<Board %s>' % self.url
