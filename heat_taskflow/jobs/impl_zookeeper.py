"""Job board backend: a real ZooKeeper ensemble through kazoo (``zookeeper://HOSTS/PATH``).

kazoo is imported when a client is made, not with the module: every command asks the
backend whether its board is in-process, and most never connect (legacy stacks, reads).
"""

from heat_taskflow.jobs import base

# Seconds between two tries to reach a ZooKeeper that does not answer, at most.
RECONNECT_MAX_DELAY = 1.0


class ZooKeeperBackend(base.Backend):
    """Boards on the ZooKeeper hosts a zookeeper:// URL names (default 127.0.0.1:2181)."""

    @classmethod
    def make_client(cls, parsed_url, session_timeout):
        """An unstarted KazooClient for the hosts of a zookeeper:// URL."""
        from kazoo import client as kazoo_client

        hosts = parsed_url.netloc or '127.0.0.1:2181'
        # kazoo's own reconnection backs off exponentially up to an hour between tries: a
        # client that lost its server for half a minute then waited a minute more after
        # the server was back (a command line refused at its connect_timeout, a conductor
        # idle). Try again for ever, at most RECONNECT_MAX_DELAY seconds apart.
        return kazoo_client.KazooClient(
            hosts=hosts, timeout=float(session_timeout),
            connection_retry={'max_tries': -1, 'delay': 0.1, 'backoff': 2,
                              'max_delay': RECONNECT_MAX_DELAY})
