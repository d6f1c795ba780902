"""The job board door: ``fetch(url, persistence)`` returns a connected Board.

The URL's scheme names the backend, an entry point in the ``heat_taskflow.jobs.backends``
namespace (``zookeeper://HOSTS/PATH`` a real ZooKeeper ensemble through kazoo, ``zake://NAME``
the in-process fake); a new backend is a module with a ``base.Backend`` subclass and one
line in setup.cfg. Every backend's client carries TaskFlow's ZooKeeper job board.
"""

import functools
import logging
import time
import urllib.parse

import stevedore

from heat_taskflow.jobs.base import Board, BoardUnavailable, JobBoardError, is_transient

LOG = logging.getLogger(__name__)

NAMESPACE = 'heat_taskflow.jobs.backends'
# Seconds between two tries to set up a board whose connection was lost meanwhile.
CONNECT_RETRY_PAUSE = 0.5
DEFAULT_PATH = '/heat-taskflow'

__all__ = ['Board', 'BoardUnavailable', 'JobBoardError', 'fetch', 'in_process',
           'is_transient', 'scheme']


def scheme(url):
    """The backend name a job board URL selects."""
    return urllib.parse.urlsplit(url).scheme


@functools.lru_cache(maxsize=None)
def _backends():
    manager = stevedore.ExtensionManager(NAMESPACE, invoke_on_load=False)
    return {ext.name: ext.plugin for ext in manager}


def backend(url):
    """The Backend class a job board URL selects; JobBoardError names the known schemes."""
    found = _backends().get(scheme(url))
    if found is None:
        raise JobBoardError('[jobboard] url "%s": unknown scheme "%s" (expected one of: %s)'
                            % (url, scheme(url), ', '.join(sorted(_backends()))))
    return found


def in_process(url):
    """True when the board a URL names lives only inside this process (zake)."""
    return backend(url).in_process


def fetch(url, persistence, name='heat-taskflow', session_timeout=10.0, connect_timeout=10.0):
    """A connected Board for a job board URL, storing job logbooks in ``persistence``;
    BoardUnavailable when the server cannot be reached within ``connect_timeout`` seconds,
    JobBoardError when the URL is unusable.

    A connection lost while the board sets itself up (ZooKeeper restarting just then) is
    tried again, with a fresh client, until ``connect_timeout`` has passed: a command that
    can wait for the board must not be refused by an outage shorter than that."""
    from taskflow.jobs import backends as tf_backends

    parsed = urllib.parse.urlsplit(url)
    path = parsed.path.rstrip('/') or DEFAULT_PATH
    # ZooKeeper 3.5+ refuses the 'envi' four-letter word TaskFlow's version check sends.
    conf = {'board': 'zookeeper', 'path': path, 'check_compatible': False}
    deadline = time.monotonic() + connect_timeout
    while True:
        client = backend(url).make_client(parsed, session_timeout)
        # No notifications: nothing listens, and their thread pool costs ~1 s at close.
        board = tf_backends.fetch(name, conf, client=client, persistence=persistence,
                                  emit_notifications=False)
        try:
            board.connect(timeout=max(0.1, deadline - time.monotonic()))
            return Board(url, board, client)
        except Exception as err:
            try:
                client.stop()
                client.close()
            except Exception:  # noqa: BLE001 - the connect's error is the one to report
                pass
            # ZooKeeper down or unreachable is an outage (retry later); a bad URL is not.
            transient = is_transient(err)
            if transient and time.monotonic() + CONNECT_RETRY_PAUSE < deadline:
                LOG.info('[jobboard] url "%s": connecting again: %s', url, err)
                time.sleep(CONNECT_RETRY_PAUSE)
                continue
            error = BoardUnavailable if transient else JobBoardError
            raise error('[jobboard] url "%s": cannot connect: %s' % (url, err)) from err
