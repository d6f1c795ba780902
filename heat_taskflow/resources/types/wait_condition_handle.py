"""OS::Heat::WaitConditionHandle: where signals for a WaitCondition arrive.

Signals reach a handle through the engine (an operator's ``signal`` command stores them with
the resource); a WaitCondition reads them with ``ctx.signals(handle name)``. The handle's
reference id is therefore its resource name. Every signal_transport value is accepted for
template compatibility; all of them are delivered the same way here.
"""

import json

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.template import constraints as constr

STATUSES = (SUCCESS, FAILURE) = ('SUCCESS', 'FAILURE')
TRANSPORTS = ('CFN_SIGNAL', 'TEMP_URL_SIGNAL', 'HEAT_SIGNAL', 'NO_SIGNAL', 'ZAQAR_SIGNAL',
              'TOKEN_SIGNAL')


def normalise_signals(signals):
    """Signals as Heat stores them: each with status, data, reason and a unique id.

    Missing fields default as in Heat (SUCCESS, None, "Signal N received", N); a signal that
    is not a map counts as a success carrying that value as its data.
    """
    out = []
    for number, signal in enumerate(signals, 1):
        signal = dict(signal) if isinstance(signal, dict) else {'data': signal}
        signal.setdefault('status', SUCCESS)
        signal.setdefault('data', None)
        signal.setdefault('reason', 'Signal %d received' % number)
        signal['id'] = str(signal.get('id', number))
        out.append(signal)
    return out


class WaitConditionHandle(base.Resource):
    """Receives signals (``{"status": "SUCCESS"|"FAILURE", "data", "reason", "id"}``)."""

    type_name = 'OS::Heat::WaitConditionHandle'
    takes_signals = True        # the engine stores signals only for types that take them

    properties_schema = {
        'signal_transport': Schema(Schema.STRING, 'How the client will signal the wait '
                                   'condition (all are delivered through the engine).',
                                   default='TOKEN_SIGNAL',
                                   constraints=[constr.AllowedValues(TRANSPORTS)]),
    }

    attributes_schema = {
        'token': attributes.Schema('Token for signalling; None here (signals go through '
                                   'the engine).', attributes.Schema.STRING),
        'endpoint': attributes.Schema('Endpoint for signalling; None here.',
                                      attributes.Schema.STRING),
        'curl_cli': attributes.Schema('curl command prefix for signalling; None here.',
                                      attributes.Schema.STRING),
        'signal': attributes.Schema('JSON map of what a client needs to signal this '
                                    'handle.', attributes.Schema.STRING),
    }

    def handle_create(self):
        """The handle is its name: nothing to create beyond the id."""
        self.set_physical_id(self.name)

    def resolve_attribute(self, name):
        """``signal`` names the stack and resource to signal; the others are None."""
        if name == 'signal' and self.physical_id is not None:
            ctx = self.ctx
            return json.dumps({'stack_name': getattr(ctx, 'stack_name', None),
                               'stack_id': getattr(ctx, 'stack_id', None),
                               'resource_name': self.name}, sort_keys=True)
        return None

    def get_status(self):
        """The statuses of the signals received so far, oldest first."""
        return [s['status'] for s in normalise_signals(self.ctx.signals(self.name))]
