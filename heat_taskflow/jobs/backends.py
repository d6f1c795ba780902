"""The job board door: ``fetch(url, persistence)`` returns a connected Board.

The URL's scheme names the backend, an entry point in the ``heat_taskflow.jobs.backends``
namespace (``zookeeper://HOSTS/PATH`` a real ZooKeeper ensemble through kazoo, ``zake://NAME``
the in-process fake); a new backend is a module with a ``base.Backend`` subclass and one
line in setup.cfg. Every backend's client carries TaskFlow's ZooKeeper job board.
"""

import functools
import urllib.parse

import stevedore

from heat_taskflow.jobs.base import Board, BoardUnavailable, JobBoardError, is_transient

NAMESPACE = 'heat_taskflow.jobs.backends'
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
    BoardUnavailable when the server cannot be reached now, JobBoardError when the URL is
    unusable."""
    from taskflow.jobs import backends as tf_backends

    parsed = urllib.parse.urlsplit(url)
    client = backend(url).make_client(parsed, session_timeout)
    path = parsed.path.rstrip('/') or DEFAULT_PATH
    # ZooKeeper 3.5+ refuses the 'envi' four-letter word TaskFlow's version check sends.
    conf = {'board': 'zookeeper', 'path': path, 'check_compatible': False}
    # No notifications: nothing listens, and their thread pool costs ~1 s at close.
    board = tf_backends.fetch(name, conf, client=client, persistence=persistence,
                              emit_notifications=False)
    try:
        board.connect(timeout=connect_timeout)
    except Exception as err:
        try:
            client.stop()
            client.close()
        finally:
            # ZooKeeper down or unreachable is an outage (retry later); a bad URL is not.
            error = BoardUnavailable if is_transient(err) else JobBoardError
            raise error('[jobboard] url "%s": cannot connect: %s' % (url, err)) from err
    return Board(url, board, client)
