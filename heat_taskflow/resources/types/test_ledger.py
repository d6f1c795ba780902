"""OS::Heat::TestLedger: a test resource whose physical actions are lines in a ledger file.

The ledger (a text file named by the ``ledger`` property, shared by every process that runs
resources) gets one JSON line per physical action, so a test can count what really happened
however many conductors ran, died or re-ran an action:

- ``create``: a physical creation, exactly once per resource incarnation (its token);
- ``update``: the value was changed in place (once per new value);
- ``delete``: the physical deletion, once per token;
- ``adopt``: a re-run found its action already done and adopted it (not a physical action;
  its ``pid`` shows which process took the action over).

Each line carries ``event, action, resource, stack, token, value, pid, time``. Lines are
written with one ``write`` on an ``O_APPEND`` descriptor under an exclusive ``flock``, taken
around "look in the ledger, then write", so concurrent processes (and two overlapping runs of
one action) never duplicate a physical action. Waits are polled, never slept.
"""

import contextlib
import fcntl
import json
import logging
import os
import time

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.polled_wait import PolledWait

LOG = logging.getLogger(__name__)

EVENTS = (CREATE, UPDATE, DELETE, ADOPT) = ('create', 'update', 'delete', 'adopt')


def read_ledger(path):
    """Every line of a ledger as a dict, oldest first (empty when the file does not exist)."""
    try:
        with open(path, encoding='utf-8') as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def _locked(path, create=True):
    """An O_APPEND descriptor on the ledger, held under an exclusive flock (``create``:
    create the file when missing; else FileNotFoundError)."""
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)    # releases the lock


class TestLedger(PolledWait, base.Resource):
    """Stores a string; records each physical create, update and delete in a ledger file."""

    __test__ = False  # not a pytest test class, despite its name

    type_name = 'OS::Heat::TestLedger'

    properties_schema = {
        'ledger': Schema(Schema.STRING, 'Absolute path of the ledger file (created when '
                                        'missing); changing it replaces the resource.',
                         required=True),
        'value': Schema(Schema.STRING, 'The string to store.', default='ledger',
                        update_allowed=True),
        'update_replace': Schema(Schema.BOOLEAN, 'Replace the resource, rather than update '
                                                 'it in place, when its value changes while '
                                                 'this is true.',
                                 default=False, update_allowed=True),
        'create_wait_secs': Schema(Schema.NUMBER, 'Seconds a create takes (polled).',
                                   default=0, update_allowed=True),
        'update_wait_secs': Schema(Schema.NUMBER, 'Seconds an update takes (polled).',
                                   default=0, update_allowed=True),
        'delete_wait_secs': Schema(Schema.NUMBER, 'Seconds a delete takes (polled).',
                                   default=0, update_allowed=True),
        'fail': Schema(Schema.BOOLEAN, 'Fail create and update (after the wait, without '
                                       'touching the ledger) when true.',
                       default=False, update_allowed=True),
    }

    attributes_schema = {
        'output': attributes.Schema('The string that was stored.', attributes.Schema.STRING),
    }

    def validate(self, partial=False):
        """Check the properties; the ledger must be an absolute path (conductors' cwd vary)."""
        super().validate(partial=partial)
        ledger = self.properties['ledger']
        if ledger is not None and not os.path.isabs(ledger):
            raise self.invalid('ledger', 'must be an absolute path, not "%s"' % ledger)

    # -- the ledger --------------------------------------------------------------------

    def _line(self, event, action, token, value):
        return json.dumps({'event': event, 'action': action, 'resource': self.name,
                           'stack': self.ctx.stack_name if self.ctx is not None else None,
                           'token': token, 'value': value, 'pid': os.getpid(),
                           'time': time.time()}, sort_keys=True) + '\n'

    def _record(self, action, token, value, decide, create=True):
        """Write the event ``decide(lines of this token)`` names (None: write nothing)."""
        path = self.properties['ledger']
        with _locked(path, create=create) as fd:
            event = decide([line for line in read_ledger(path) if line['token'] == token])
            if event is not None:
                os.write(fd, self._line(event, action, token, value).encode('utf-8'))
        return event

    @staticmethod
    def _decide_create(lines):
        return ADOPT if any(line['event'] == CREATE for line in lines) else CREATE

    @staticmethod
    def _decide_update(value):
        def decide(lines):
            values = [line['value'] for line in lines if line['event'] in (CREATE, UPDATE)]
            return ADOPT if values and values[-1] == value else UPDATE
        return decide

    @staticmethod
    def _decide_delete(lines):
        events = {line['event'] for line in lines}
        if DELETE in events:
            return ADOPT
        return DELETE if CREATE in events else None     # None: never created, nothing to do

    # -- actions -----------------------------------------------------------------------

    failure_label = 'Test Ledger'

    def wait_secs(self, action):
        """The ``<action>_wait_secs`` property."""
        return self.properties['%s_wait_secs' % action]

    def handle_create(self):
        """Record the token, then create (one ledger line), or adopt what a crashed run made."""
        if not self.properties['fail']:
            token = self.physical_resource_name()        # recorded before anything exists
            value = self.properties['value']
            self.data_set('value', value)
            self._record(CREATE, token, value, self._decide_create)
            self.set_physical_id(token)
        return self._cookie('create')

    def check_create_complete(self, cookie):
        """True once the wait has passed; fails then when ``fail`` is set."""
        return self._check(cookie)

    def update_requires_replacement(self, new_properties):
        """Replace when the value changes while the new update_replace is true."""
        new = self.make_properties(new_properties)
        if 'value' in self.properties.diff(new) and new['update_replace']:
            return True
        return super().update_requires_replacement(new)

    def handle_update(self, new_properties, prop_diff):
        """Change the value in place: one ``update`` line per new value (a re-run adopts)."""
        if 'value' in prop_diff and not new_properties['fail']:
            token = self.physical_id or self.data_get('physical_resource_name')
            value = new_properties['value']
            self.data_set('value', value)
            if token is not None:
                self._record(UPDATE, token, value, self._decide_update(value))
        return self._cookie('update')

    def check_update_complete(self, cookie):
        """True once the wait has passed; fails then when ``fail`` is set."""
        return self._check(cookie)

    def handle_delete(self):
        """Delete once (one ``delete`` line); gone already, or never created, is fine.

        A delete always finishes: a ledger that is gone or cannot be written (removed,
        its directory gone, its permissions changed) has nothing left to record, so the
        delete succeeds with a warning rather than fail every retry.
        """
        token = self.physical_id or self.data_get('physical_resource_name')
        if token is None:
            return None                                   # create never started
        try:
            self._record(DELETE, token, self.data_get('value'), self._decide_delete,
                         create=False)
        except (OSError, ValueError) as err:    # ValueError: a line that is not JSON
            LOG.warning('%s: ledger %s not written on delete: %s', self.name,
                        self.properties['ledger'], err)
        return self._cookie('delete')

    def check_delete_complete(self, cookie):
        """True once the wait has passed."""
        return cookie is None or self._check(cookie)

    def resolve_attribute(self, name):
        """``output``: the stored value."""
        if name == 'output':
            return self.data_get('value')
        return None
