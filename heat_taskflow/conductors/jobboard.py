"""The job board of the distributed path: one door, ``fetch(url, persistence)``.

The URL's scheme picks the backend module (``zookeeper://`` real ZooKeeper through kazoo,
``zake://`` the in-process fake), as TaskFlow picks its own backends; callers never import a
backend module. Every backend hands back a Board: TaskFlow's ZooKeeper job board on a client
the Board owns, so ``close()`` stops both.
"""

import importlib
import urllib.parse

# scheme -> module (in this package) whose make_client(parsed_url, conf) builds the client.
BACKENDS = {
    'zookeeper': 'heat_taskflow.conductors.impl_zookeeper',
    'zake': 'heat_taskflow.conductors.impl_zake',
}

DEFAULT_PATH = '/heat-taskflow'


class JobBoardError(Exception):
    """The job board URL is unusable or the board cannot be reached."""


class Board:
    """A connected TaskFlow job board and the ZooKeeper client it runs on (owned here)."""

    def __init__(self, url, board, client):
        self.url = url
        self.board = board
        self.client = client

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


def scheme(url):
    """The backend name a job board URL selects."""
    return urllib.parse.urlsplit(url).scheme


def in_process(url):
    """True when the board lives only inside this process (zake)."""
    return scheme(url) == 'zake'


def fetch(url, persistence, name='heat-taskflow', session_timeout=10.0, connect_timeout=10.0):
    """A connected Board for a job board URL, storing job logbooks in ``persistence``."""
    from taskflow.jobs import backends as tf_backends

    parsed = urllib.parse.urlsplit(url)
    module = BACKENDS.get(parsed.scheme)
    if module is None:
        raise JobBoardError('[jobboard] url "%s": unknown scheme "%s" (expected one of: %s)'
                            % (url, parsed.scheme, ', '.join(sorted(BACKENDS))))
    client = importlib.import_module(module).make_client(parsed, session_timeout)
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
            raise JobBoardError('[jobboard] url "%s": cannot connect: %s' % (url, err)) from err
    return Board(url, board, client)
