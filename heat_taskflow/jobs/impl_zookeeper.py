"""Job board backend: a real ZooKeeper ensemble through kazoo (``zookeeper://HOSTS/PATH``).

kazoo is imported when a client is made, not with the module: every command asks the
backend whether its board is in-process, and most never connect (legacy stacks, reads).
"""

from heat_taskflow.jobs import base


class ZooKeeperBackend(base.Backend):
    """Boards on the ZooKeeper hosts a zookeeper:// URL names (default 127.0.0.1:2181)."""

    @classmethod
    def make_client(cls, parsed_url, session_timeout):
        """An unstarted KazooClient for the hosts of a zookeeper:// URL."""
        from kazoo import client as kazoo_client

        hosts = parsed_url.netloc or '127.0.0.1:2181'
        return kazoo_client.KazooClient(hosts=hosts, timeout=float(session_timeout))
