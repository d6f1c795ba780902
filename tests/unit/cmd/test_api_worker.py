"""Tests for heat_taskflow.cmd.api.ThreadWorker: the two signals of one Ctrl-C.

A terminal's Ctrl-C sends SIGINT to the whole process group, and gunicorn's master answers
its own with SIGQUIT to each worker a few milliseconds later: a worker handles two quick
shutdowns. Each case runs in a subprocess (signal handlers live in a main thread, and a
worker that hangs must not hang pytest), with the worker's real signal handlers.
"""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import os, signal, sys
    from gunicorn import config
    from heat_taskflow.cmd import api

    worker = api.ThreadWorker(1, os.getppid(), [], None, 30, config.Config(), None)
    worker.tpool = worker.get_thread_pool()     # what gthread's init_process does
    worker.PIPE = os.pipe()
    for fd in worker.PIPE:
        os.set_blocking(fd, False)
    worker.init_signals()
    both = {signal.SIGINT, signal.SIGQUIT}

    def ctrl_c_with_pool_lock_held():
        # The main thread holds the request pool's lock (gthread submits each request
        # from it; the first handler's pool shutdown held it when the flake hung) when
        # the Ctrl-C is handled.
        with worker.tpool._shutdown_lock:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGQUIT)

    def both_pending_while_unwinding():
        # Both signals arrive before the worker runs again (a loaded host): the second is
        # handled while the first one's SystemExit unwinds through gunicorn's "finally",
        # which calls the worker_exit hook (arbiter.spawn_worker): it must run to its end.
        signal.pthread_sigmask(signal.SIG_BLOCK, both)
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGQUIT)
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, both)
            print('no SystemExit')
        finally:
            steps = 0
            for _ in range(100000):
                steps += 1
            print('finally ran to its end', flush=True)

    try:
        {case}()
    except SystemExit as exc:
        print('SystemExit', exc.code, flush=True)
''')


@pytest.mark.parametrize('case', ['ctrl_c_with_pool_lock_held', 'both_pending_while_unwinding'])
def test_ctrl_c_ends_the_worker_once(case):
    proc = subprocess.run([sys.executable, '-c', SCRIPT.replace('{case}', case)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc
    lines = proc.stdout.splitlines()
    expected = ['SystemExit 0']
    if case == 'both_pending_while_unwinding':
        expected.insert(0, 'finally ran to its end')
    assert lines == expected, proc
    assert 'Traceback' not in proc.stderr and 'ignored' not in proc.stderr, proc.stderr


def test_worker_exit_hook_makes_a_later_signal_harmless():
    """The SIGTERM path: a SIGINT or SIGQUIT during the worker_exit hook (Ctrl-C after a
    SIGTERM) is ignored, so that the engine service is closed to its end."""
    from heat_taskflow.cmd import api

    class App:
        service = None

    worker = api.ThreadWorker.__new__(api.ThreadWorker)
    worker.app = App()
    api._worker_exit(None, worker)
    assert worker.stopping
    worker.handle_quit(2, None)       # returns: no SystemExit
