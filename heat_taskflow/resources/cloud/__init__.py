"""The cloud the OpenStack resource plugins talk to: one client API, a driver per cloud.

``fetch(conf)`` returns the client of ``[cloud] driver`` for ``[cloud] url`` (one per
process and settings, shared by every plugin). Drivers are the CloudClient classes of the
``heat_taskflow.cloud_drivers`` entry point group (setup.cfg), by name. Plugins see only
``base.CloudClient`` and its exceptions, never a driver module.
"""

import importlib.metadata
import threading

import stevedore

from heat_taskflow.resources.cloud.base import (  # noqa: F401 - the public names
    BadRequest,
    CloudClient,
    CloudError,
    Conflict,
    NotFound,
    QuotaExceeded,
    TransientError,
)

NAMESPACE = 'heat_taskflow.cloud_drivers'

_lock = threading.Lock()
_clients = {}


def _settings(conf):
    group = conf.cloud
    return (group.driver, group.url.rstrip('/'), group.timeout, group.retries,
            group.retry_delay, group.retry_max_delay)


def driver_names():
    """The names of the installed cloud drivers, sorted."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=NAMESPACE)})


def _load_failed(manager, entry_point, exc):
    # A broken driver is a packaging bug: say which one rather than call it unknown.
    raise RuntimeError('cannot load cloud driver %s (%s): %s'
                       % (entry_point.name, entry_point.value, exc)) from exc


def driver_class(name):
    """The CloudClient class of a driver name; ValueError naming the installed ones."""
    names = driver_names()
    if name not in names:
        raise ValueError('unknown [cloud] driver "%s"; drivers: %s' % (name, ', '.join(names)))
    return stevedore.DriverManager(NAMESPACE, name, on_load_failure_callback=_load_failed).driver


def fetch(conf=None):
    """The CloudClient for the [cloud] options of ``conf`` (default: the global CONF)."""
    if conf is None:
        from heat_taskflow.conf import CONF as conf
    key = _settings(conf)
    with _lock:
        client = _clients.get(key)
        if client is None:
            driver, url, timeout, retries, delay, max_delay = key
            client = driver_class(driver)(url, timeout=timeout, retries=retries, retry_delay=delay,
                         retry_max_delay=max_delay)
            _clients[key] = client
    return client


def reset():
    """Forget the cached clients (tests, or after the options change)."""
    with _lock:
        _clients.clear()
