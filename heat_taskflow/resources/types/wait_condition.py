"""OS::Heat::WaitCondition: waits for ``count`` SUCCESS signals on a WaitConditionHandle.

Polled: check_*_complete reads the handle's signals through ``ctx.signals``; a FAILURE signal
fails the resource at once, and so does the timeout passing.
"""

import json

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.wait_condition_handle import SUCCESS, normalise_signals
from heat_taskflow.template import constraints as constr


class WaitCondition(base.Resource):
    """Completes when the handle has received enough success signals."""

    type_name = 'OS::Heat::WaitCondition'

    properties_schema = {
        'handle': Schema(Schema.STRING, 'A reference to the wait condition handle used to '
                         'signal this wait condition.', required=True),
        'timeout': Schema(Schema.NUMBER, 'The number of seconds to wait for the correct '
                          'number of signals to arrive.', required=True,
                          constraints=[constr.Range(1, 43200)]),
        'count': Schema(Schema.INTEGER, 'The number of success signals that must be received '
                        'before the stack creation process continues.', default=1,
                        update_allowed=True, constraints=[constr.Range(min=1)]),
    }

    attributes_schema = {
        'data': attributes.Schema('JSON string containing data associated with wait '
                                  'condition signals sent to the handle.',
                                  attributes.Schema.STRING),
    }

    def _signals(self):
        return normalise_signals(self.ctx.signals(self.properties['handle']))

    def _start(self, action):
        return {'action': action, 'started': self.now(),
                'timeout': float(self.properties['timeout'])}

    def _wait(self, cookie):
        signals = self._signals()
        failures = [s for s in signals if s['status'] != SUCCESS]
        if failures:
            raise ResourceFailure(self.name, 'WaitCondition failed: %s' % '; '.join(
                str(s['reason']) for s in failures), cookie['action'])
        count = self.properties['count']
        if len(signals) >= count:
            return True
        waited = self.now() - cookie['started']
        if waited > cookie['timeout']:
            raise ResourceFailure(self.name, 'WaitCondition timed out after %gs: %d of %d '
                                  'success signals received on handle "%s"'
                                  % (cookie['timeout'], len(signals), count,
                                     self.properties['handle']), cookie['action'])
        return False

    def handle_create(self):
        """Start waiting (nothing is created, so a re-run just waits again)."""
        return self._start(base.CREATE)

    def check_create_complete(self, cookie):
        """True once ``count`` success signals are in; raises on failure or timeout."""
        return self._wait(cookie)

    def handle_update(self, new_properties, prop_diff):
        """A new count: wait again for it."""
        return self._start(base.UPDATE)

    def check_update_complete(self, cookie):
        """As for create, with the new count."""
        return self._wait(cookie)

    def resolve_attribute(self, name):
        """``data``: JSON of ``{signal id: signal data}``."""
        if name == 'data':
            return json.dumps({s['id']: s['data'] for s in self._signals()}, sort_keys=True)
        return None
