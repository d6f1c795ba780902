"""The continuous observer: conductors look at finished stacks for drift, now and then.

Off unless ``[observer] interval`` (seconds) is set. Each conductor then runs one observer
thread; every ``interval`` seconds it takes up to ``[observer] max_stacks_per_pass``
stacks that are due and, for each:

- asks the plugin of every current resource to check the real resource
  (``actions.drift``). Nothing about the stack or its resources changes: no traversal,
  no action or status; only each drifted resource gets an event ``CHECK_DRIFTED`` with
  the plugin's reason;
- if drift was found and the stack has ``auto_converge`` (``stack create/update
  --auto-converge``), starts ``stack update --existing --converge`` on it, which replaces
  what drifted; an operation started meanwhile wins (the update's compare-and-swap).

Observed stacks: live, top-level, COMPLETE stacks of the distributed path (the legacy path
has no conductors; its stacks are not observed). Conductors share the work without
observing a stack twice in one interval: a stack's last observation (when, by whom) is a
sync point row of the stack under a fixed traversal id (``TRAVERSAL``), and a conductor
observes a stack only after it won the compare-and-swap that moves that time forward.

Everything it asks of the engine goes through the conductor's StackEngine's public methods:
``traversal_runtime`` for the runtime its checks use, ``update`` for the converge.
"""

import logging
import threading
import time
import uuid

from heat_taskflow.common import states
from heat_taskflow.engine import exceptions as exc
from heat_taskflow.engine import operations as ops
from heat_taskflow.flows import actions
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import exceptions as db_exc

LOG = logging.getLogger(__name__)

# The traversal id under which a stack's last observation is kept in the sync point table
# (never the id of a real traversal: those are random uuid4s).
TRAVERSAL = str(uuid.uuid5(uuid.UUID('5c4d0a5e-7b44-4bb4-9a57-0e8f3f7f2d11'), 'observer'))

# The event a drifted resource gets (its row is not changed).
DRIFT_ACTION = states.CHECK
DRIFT_STATUS = states.DRIFTED


def last_observation(database, stack_id):
    """What the observers last recorded of a stack: {'observed_at': seconds since the
    epoch, 'observed_by': the conductor, 'drift': [{'resource_name', 'reason'}] of the
    resources drifted then (by name, the rows still current)}; None if never observed."""
    row = db.sync_point_get(database, stack_id, TRAVERSAL, False)
    if row is None:
        return None
    data = dict(row.input_data or {})
    names = {str(r.id): r.name for r in db.resource_list(database, stack_id,
                                                           current_only=True)}
    drift = [{'resource_name': names[row_id], 'reason': reason}
             for row_id, reason in (data.get('drift') or {}).items() if row_id in names]
    return {'observed_at': data.get('observed_at'), 'observed_by': data.get('by'),
            'drift': sorted(drift, key=lambda d: d['resource_name'])}


class Observer:
    """One conductor's observer thread."""

    def __init__(self, conf, database, engine, name, stopping=None):
        self.conf = conf
        self.database = database
        self.engine = engine              # the conductor's StackEngine (distributed path)
        self.name = name
        self.interval = conf.observer.interval
        self.max_stacks = conf.observer.max_stacks_per_pass
        self._stopping = stopping or threading.Event()
        self._thread = None

    def start(self):
        """Start the thread (returns self)."""
        self._thread = threading.Thread(target=self._loop, name=self.name + '-observer',
                                        daemon=True)
        self._thread.start()
        LOG.info('%s: observing distributed stacks every %.1f s', self.name, self.interval)
        return self

    def join(self, timeout=None):
        """Wait for the thread to end (it ends once ``stopping`` is set)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self):
        while not self._stopping.wait(self.interval):
            try:
                self.run_pass()
            except Exception:  # noqa: BLE001 - logged; the next pass tries again
                LOG.exception('%s: observer pass failed', self.name)

    def run_pass(self):
        """Observe the stacks due now (up to max_stacks); returns {stack id: drift}."""
        seen = {}
        for stack in _candidates(self.database):
            if len(seen) >= self.max_stacks or self._stopping.is_set():
                break
            claim = self._claim(stack)
            if claim is None:
                continue
            try:
                seen[stack.id] = self.observe(stack, claim)
            except Exception:  # noqa: BLE001 - one broken stack must not stop the others
                LOG.exception('%s: observing stack %s (%s) failed', self.name, stack.name,
                              stack.id)
        return seen

    def _claim(self, stack):
        """Move the stack's last observation to now, if it is due. Returns the claim
        (the observation record as we wrote it, with its atomic key), or None."""
        now = time.time()
        row = db.sync_point_get(self.database, stack.id, TRAVERSAL, False)
        if row is None:
            data = {'observed_at': now, 'by': self.name, 'drift': {}}
            try:
                db.sync_point_create(self.database, stack.id, TRAVERSAL, False, stack.id,
                                     input_data=data)
            except (db_exc.SyncPointExists, db_exc.StackNotFound):
                return None         # another conductor got there first, or it is gone
            return {'data': data, 'atomic_key': 0}
        data = dict(row.input_data or {})
        if now - (data.get('observed_at') or 0) < self.interval:
            return None
        data.update(observed_at=now, by=self.name)
        if not db.sync_point_update_input(self.database, stack.id, TRAVERSAL, False, data,
                                          row.atomic_key):
            return None
        return {'data': data, 'atomic_key': row.atomic_key + 1}

    def _swap_drift(self, stack, change):
        """Apply change(drift dict) -> new dict or None (no write) to the stack's observation
        record by compare-and-swap, retrying on a lost race; returns whether it wrote."""
        while True:
            row = db.sync_point_get(self.database, stack.id, TRAVERSAL, False)
            if row is None:
                return False
            data = dict(row.input_data or {})
            new = change(dict(data.get('drift') or {}))
            if new is None:
                return False
            data['drift'] = new
            if db.sync_point_update_input(self.database, stack.id, TRAVERSAL, False, data,
                                          row.atomic_key):
                return True

    def _note_drift(self, stack, row_id, reason):
        """Record one drift; True for the one observer that records it first (which then
        writes its event), False when it is already known - even if another conductor
        observes the stack at the same moment."""

        def change(drift):
            if drift.get(row_id) == reason:
                return None
            drift[row_id] = reason
            return drift

        return self._swap_drift(stack, change)

    def _remember(self, stack, drift):
        # Forget drift that is gone (repaired, or the row replaced).
        self._swap_drift(stack, lambda known: drift if known != drift else None)

    def observe(self, stack, claim=None):
        """Check every current resource of a stack; record drift as events and, with
        auto_converge, start a converging update. Returns {resource name: reason}.

        A drift already recorded at the previous observation (same resource row, same
        reason) gets no second event."""
        runtime = self.engine.traversal_runtime(stack, states.CHECK, None,
                                                self.engine.deadline(stack, states.CHECK))
        drifted, drift = {}, {}
        for row in db.resource_list(self.database, stack.id, current_only=True):
            if self._stopping.is_set():
                return drifted
            if row.status != states.COMPLETE:
                continue        # failed or marked unhealthy: not news, and converge fixes it
            reason = actions.drift(runtime, row)
            if reason is None:
                continue
            drifted[row.name] = reason
            drift[str(row.id)] = reason
            if claim is not None and not self._note_drift(stack, str(row.id), reason):
                continue
            db.event_create(self.database, stack.id, resource_name=row.name,
                            physical_resource_id=row.physical_resource_id,
                            resource_type=row.type, resource_action=DRIFT_ACTION,
                            resource_status=DRIFT_STATUS,
                            resource_status_reason='drift seen by the observer: %s' % reason)
        if claim is not None:
            self._remember(stack, drift)
        if not drifted:
            LOG.debug('%s: stack %s: no drift', self.name, stack.name)
            return drifted
        LOG.info('%s: stack %s (%s): drift in %s', self.name, stack.name, stack.id,
                 ', '.join(sorted(drifted)))
        if stack.auto_converge:
            self._converge(stack)
        return drifted

    def _converge(self, stack):
        """``stack update --existing --converge``, unless the stack moved on meanwhile."""
        current = db.stack_get(self.database, stack.id)
        if (current is None or current.deleted_at is not None
                or current.current_traversal != stack.current_traversal
                or current.status != states.COMPLETE):
            LOG.info('%s: stack %s changed while observed: not converging it', self.name,
                     stack.name)
            return None
        try:
            raw = db.raw_template_get(self.database, stack.raw_template_id)
            updated = self.engine.update(current, ops.Source.from_raw(raw), converge=True)
        except exc.ActionInProgress as err:
            LOG.info('%s: stack %s: not converging: %s', self.name, stack.name, err)
            return None
        LOG.info('%s: stack %s: auto-converge started (%s_%s)', self.name, stack.name,
                 updated.action, updated.status)
        return updated


def _candidates(database):
    """Live top-level COMPLETE stacks of the distributed path, oldest first (those not due
    are skipped by the claim, so every due stack gets its turn)."""
    return [stack for stack in db.stack_list(database, None, convergence=True,
                                             status=states.COMPLETE)
            if stack.action != states.DELETE]
