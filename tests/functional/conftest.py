"""Fixtures for functional tests.

zookeeper  the ``host:port`` of a real ZooKeeper server started for this test session (one
           per pytest-xdist worker) on a free loopback port, stopped at the end; skips with
           the reason when java or Debian's zookeeper jar is missing.
"""

import pytest

from tests.functional import zookeeper as zk


@pytest.fixture(scope='session')
def zookeeper_server(tmp_path_factory):
    """The running ZooKeeperServer of this session (for tests that ask it four-letter words)."""
    reason = zk.missing()
    if reason:
        pytest.skip('no ZooKeeper server: %s' % reason)
    server = zk.ZooKeeperServer(tmp_path_factory.mktemp('zookeeper'))
    try:
        server.start()
    except zk.ZooKeeperError as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope='session')
def zookeeper(zookeeper_server):
    """``host:port`` of a real ZooKeeper server private to this test session."""
    return zookeeper_server.address
