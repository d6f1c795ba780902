"""Stack timeouts enforced by a watchdog, not only when the next resource action runs.

Every traversal has a deadline (``OperationRuntime.deadline``, a ``time.time()`` value).
A resource action polling its plugin gives up at the deadline (flows/actions.py), and no
action starts after it (flows/tasks.py); but an action whose plugin call never returns
would keep the stack IN_PROGRESS for ever. So:

- on the legacy path, ``run_flow`` runs each TaskFlow engine of a traversal in a thread of
  its own and waits for it only until the deadline. At the deadline it raises
  ``TraversalTimeout`` in the calling thread, which fails the stack and rolls it back as
  any failure does; the flow's thread is left to finish the action it is stuck in (it
  starts no other action: they all find the deadline passed);
- on the distributed path, each conductor runs a watchdog thread (conductors/conductor.py)
  that fails the traversals past their deadline, once across all conductors.

Both say why in the same words (``timeout_reason``).
"""

import logging
import threading
import time

LOG = logging.getLogger(__name__)

# Longest single wait of run_flow: the deadline is a wall-clock time (and may be moved), so
# it is compared with time.time() again after each slice, not trusted to one long wait.
_SLICE = 1.0


class TraversalTimeout(Exception):
    """The stack operation's timeout passed while resource actions were still running."""


def timeout_reason(minutes):
    """Why a traversal was failed at its deadline."""
    if minutes is None:
        return 'resource actions did not finish within the stack timeout'
    return ('resource actions did not finish within the stack timeout of %s minute%s'
            % (minutes, '' if minutes == 1 else 's'))


def run_flow(runtime, run, timeout_mins=None):
    """Call run() (a TaskFlow engine's run) in a thread of its own and return what it
    returns, or raise what it raises; raise TraversalTimeout when the runtime's deadline
    passes first (the thread is then left to end by itself)."""
    if runtime.deadline is None:
        return run()
    outcome = {}
    done = threading.Event()

    def target():
        try:
            outcome['value'] = run()
        except BaseException as err:  # noqa: BLE001 - handed to the waiting caller
            outcome['error'] = err
        finally:
            done.set()
            if outcome.get('abandoned'):
                LOG.info('stack %s traversal %s: the flow abandoned at its deadline has '
                         'ended (%s)', runtime.stack_id, runtime.traversal_id,
                         outcome.get('error') or 'its actions finished')

    thread = threading.Thread(target=target, daemon=True,
                              name='heat-taskflow-flow-%s' % runtime.traversal_id)
    thread.start()
    while not done.is_set():
        remaining = runtime.deadline - time.time()
        if remaining <= 0:
            break
        done.wait(min(remaining, _SLICE))
    if not done.is_set():
        outcome['abandoned'] = True
        if timeout_mins is None:
            timeout_mins = getattr(runtime.stack, 'timeout', None)
        reason = timeout_reason(timeout_mins)
        LOG.warning('stack %s traversal %s: %s; failing it (the actions still running are '
                    'left to end)', runtime.stack_id, runtime.traversal_id, reason)
        raise TraversalTimeout(reason)
    if 'error' in outcome:
        raise outcome['error']
    return outcome.get('value')
