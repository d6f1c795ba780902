"""Job board backend: zake's fake ZooKeeper (``zake://NAME``), shared per NAME in-process.

Every client of one NAME sees one FakeStorage, as several processes see one server; nothing
outside this process can see it, and it vanishes with the process. zake and kazoo are
imported on first use, not with the module (asking whether a board is in-process is cheap).
"""

import threading

from heat_taskflow.jobs import base

_STORAGES = {}
_LOCK = threading.Lock()


def storage(name):
    """The FakeStorage of a zake board name (created on first use)."""
    with _LOCK:
        found = _STORAGES.get(name)
        if found is None:
            from kazoo.handlers import threading as k_threading
            from zake import fake_storage

            found = fake_storage.FakeStorage(k_threading.SequentialThreadingHandler())
            _STORAGES[name] = found
        return found


def forget(name):
    """Drop the FakeStorage of a name (tests give each case a fresh one)."""
    with _LOCK:
        _STORAGES.pop(name, None)


class ZakeBackend(base.Backend):
    """Boards in this process's memory, one per zake:// name."""

    in_process = True

    @classmethod
    def make_client(cls, parsed_url, session_timeout):
        """An unstarted FakeClient on the shared storage of a zake:// URL's name."""
        from zake import fake_client

        name = parsed_url.netloc or parsed_url.path.strip('/') or 'default'
        return fake_client.FakeClient(storage=storage(name))
