"""heat-taskflow-api stops on Ctrl-C whatever the order its worker sees the two signals in.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group; gunicorn's master
answers its own with SIGQUIT to each worker. On a loaded host the worker may not run between
the two: both are pending when it does. The worker must still close its engine service (the
worker_exit hook) and exit, however long the legacy operation running in it would go on.
Freezing the worker (SIGSTOP) until the master's SIGQUIT is pending makes that order certain.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

BOUND = 60.0        # seconds: a guard against hangs, never a measurement

WAIT_CONDITION = {
    'heat_template_version': '2018-08-31',
    'resources': {
        'handle': {'type': 'OS::Heat::WaitConditionHandle'},
        'ready': {'type': 'OS::Heat::WaitCondition',
                  'properties': {'handle': {'get_resource': 'handle'}, 'count': 1,
                                 'timeout': 600}},
    },
}


def proc_status(pid):
    """The fields of /proc/PID/status."""
    with open('/proc/%d/status' % pid) as f:
        return dict((key, value.strip()) for key, value in
                    (line.split(':', 1) for line in f if ':' in line))


def pending_signals(pid):
    """The signals sent to the process pid and not yet delivered."""
    fields = proc_status(pid)
    mask = int(fields['ShdPnd'], 16) | int(fields['SigPnd'], 16)
    return {n for n in range(1, 65) if mask & (1 << (n - 1))}


def wait_until(predicate, what, server):
    deadline = time.monotonic() + BOUND
    while not predicate():
        assert time.monotonic() < deadline, ('no %s' % what, server)
        time.sleep(0.02)


def test_ctrl_c_with_both_signals_pending_on_a_busy_worker(tmp_path):
    # shutdown_timeout: the worker waits that long for the wait condition (which waits for
    # a signal that never comes), then leaves it to be resumed.
    server = api.running(tmp_path / 'api', extra={'DEFAULT': {'shutdown_timeout': 1}})
    try:
        status, _, doc = server.http('POST', '/v1/%s/stacks' % server.project,
                                     {'stack_name': 'wc', 'template': WAIT_CONDITION})
        assert status == 201, (doc, server)
        stack_id = doc['stack']['id']
        deadline = time.monotonic() + BOUND
        while True:         # the wait condition is waiting once its handle exists
            status, _, doc = server.http('GET', '/v1/%s/stacks/wc/%s/resources/handle'
                                         % (server.project, stack_id))
            if status == 200 and doc['resource']['resource_status'] == 'CREATE_COMPLETE':
                break
            assert time.monotonic() < deadline, (status, doc, server)
            time.sleep(0.2)

        (worker,) = [pid for pid in server._group_alive() if pid != server.process.pid]
        os.kill(worker, signal.SIGSTOP)
        # Every thread stopped: none can take the SIGINT before the SIGQUIT is there too.
        wait_until(lambda: proc_status(worker)['State'].startswith('T'), 'stop', server)
        t0 = time.monotonic()
        os.killpg(server.process.pid, signal.SIGINT)        # the terminal's Ctrl-C
        wait_until(lambda: pending_signals(worker) >= {signal.SIGINT, signal.SIGQUIT},
                   "master's SIGQUIT", server)
        os.kill(worker, signal.SIGCONT)
        try:
            server.process.wait(timeout=api.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError('heat-taskflow-api did not exit within %.0f s of Ctrl-C\n%s'
                                 % (api.STOP_TIMEOUT, server.log_tail())) from None
        print('stopped by Ctrl-C in %.1f s' % (time.monotonic() - t0))
        server.stop()       # gone already: asserts exit 0, no worker left
        log = server.log()
        assert ('engine service closed; leaving 1 legacy operation(s) still running to be '
                'resumed: %s' % stack_id) in log, server.log_tail()
    finally:
        if server.running():
            server.kill()
