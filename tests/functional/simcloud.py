"""A heat-taskflow-simcloud process for the functional tests."""

import contextlib
import re
import signal
import subprocess

from tests.functional import cli as cli_mod

READY = re.compile(r'simcloud ready at (http://127\.0\.0\.1:\d+)')


@contextlib.contextmanager
def running(db_path, build_time):
    """Start heat-taskflow-simcloud on a free loopback port with its state in db_path and
    servers and volumes taking build_time seconds; yields its URL. It must stop cleanly."""
    proc = subprocess.Popen([cli_mod.script('heat-taskflow-simcloud'), '--port', '0',
                             '--db', str(db_path), '--build-time', str(build_time)],
                            stdout=subprocess.PIPE, text=True)
    try:
        match = READY.match(proc.stdout.readline())
        assert match, 'simcloud did not start'
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
