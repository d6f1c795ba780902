"""The cloud the OpenStack resource plugins talk to: one client API, a driver per cloud.

``fetch(conf)`` returns the client of ``[cloud] driver`` for ``[cloud] url`` (one per
process and settings, shared by every plugin). Plugins see only ``base.CloudClient`` and
its exceptions, never a driver module.
"""

import importlib
import threading

from heat_taskflow.resources.cloud.base import (  # noqa: F401 - the public names
    BadRequest,
    CloudClient,
    CloudError,
    Conflict,
    NotFound,
    QuotaExceeded,
    TransientError,
)

DRIVERS = {'simcloud': 'heat_taskflow.resources.cloud.simcloud:SimCloudClient'}

_lock = threading.Lock()
_clients = {}


def _settings(conf):
    group = conf.cloud
    return (group.driver, group.url.rstrip('/'), group.timeout, group.retries,
            group.retry_delay, group.retry_max_delay)


def fetch(conf=None):
    """The CloudClient for the [cloud] options of ``conf`` (default: the global CONF)."""
    if conf is None:
        from heat_taskflow.conf import CONF as conf
    key = _settings(conf)
    with _lock:
        client = _clients.get(key)
        if client is None:
            driver, url, timeout, retries, delay, max_delay = key
            if driver not in DRIVERS:
                raise ValueError('unknown [cloud] driver "%s"; drivers: %s'
                                 % (driver, ', '.join(sorted(DRIVERS))))
            module, _, name = DRIVERS[driver].partition(':')
            cls = getattr(importlib.import_module(module), name)
            client = cls(url, timeout=timeout, retries=retries, retry_delay=delay,
                         retry_max_delay=max_delay)
            _clients[key] = client
    return client


def reset():
    """Forget the cached clients (tests, or after the options change)."""
    with _lock:
        _clients.clear()
