"""Job board backend: a real ZooKeeper ensemble through kazoo (``zookeeper://HOSTS/PATH``)."""

from kazoo import client as kazoo_client


def make_client(parsed, session_timeout):
    """An unstarted KazooClient for the hosts of a zookeeper:// URL."""
    hosts = parsed.netloc or '127.0.0.1:2181'
    return kazoo_client.KazooClient(hosts=hosts, timeout=float(session_timeout))
