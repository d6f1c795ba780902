"""The ResourceContext a plugin sees: its stack, its stored data, and the nested-stack service."""

import time

from heat_taskflow.persistence import api as db
from heat_taskflow.resources import base

SIGNAL_PREFIX = 'signal:'


class StoredResourceContext(base.ResourceContext):
    """A ResourceContext backed by one stored resource row; every write is persisted at once."""

    def __init__(self, runtime, row, data=None):
        self._runtime = runtime
        self._row = row
        # What the row has stored, when the caller knows it (a row it has just created has
        # nothing, which saves the read); None: read on first data_get.
        self._data = None if data is None else dict(data)

    @property
    def stack_name(self):
        return self._runtime.stack.name

    @property
    def stack_id(self):
        return self._runtime.stack_id

    @property
    def project_id(self):
        return self._runtime.stack.project_id

    @property
    def resource_name(self):
        return self._row.name

    @property
    def deadline(self):
        # The runtime keeps a wall-clock deadline (it is shared across hosts); plugins
        # measure on this process's monotonic clock.
        if self._runtime.deadline is None:
            return None
        return time.monotonic() + (self._runtime.deadline - time.time())

    @property
    def nested(self):
        if self._runtime.nested is None:
            return None
        return self._runtime.nested.for_resource(self._row.name)

    def set_physical_id(self, physical_id):
        """Record the physical id before anything else can happen to it."""
        db.resource_update(self._runtime.database, self._row.id,
                           {'physical_resource_id': physical_id})
        self._row.physical_resource_id = physical_id

    def data_get(self, key):
        """A value this resource stored earlier (in this run or a crashed one), or None."""
        if self._data is None:
            self._data = db.resource_data_get(self._runtime.database, self._row.id)
        return self._data.get(key)

    def data_set(self, key, value):
        """Store a value for this resource, durably, before the plugin calls out."""
        db.resource_data_set(self._runtime.database, self._row.id, key, value)
        if self._data is not None:
            self._data[key] = value

    def signals(self, resource_name):
        """Signals received by a resource of this stack, oldest first."""
        row = db.resource_get_by_name(self._runtime.database, self._runtime.stack_id,
                                      resource_name)
        if row is None:
            return []
        return stored_signals(db.resource_data_get(self._runtime.database, row.id))


def stored_signals(data):
    """The signal payloads among a resource's stored data, in arrival order."""
    items = sorted((k, v) for k, v in data.items() if k.startswith(SIGNAL_PREFIX))
    return [v for _, v in items]
