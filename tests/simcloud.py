"""A heat-taskflow-simcloud process for the tests that need one, and its admin API.

``running(where)`` starts the simulator on a free loopback port, its state and the
``clouds.yaml`` it writes (entries ``simcloud`` and ``simcloud-demo``) in ``where``, and yields
a ``SimCloud``; the plugin tests (tests/unit/resources) and the functional tests share it.
In-process servers for the simulator's own tests are tests/unit/simcloud/conftest.py's.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse

READY = re.compile(r'simcloud ready at (http://127\.0\.0\.1:\d+)')
COMMAND = (sys.executable, '-m', 'heat_taskflow.cmd.simcloud')


class SimCloud:
    """A running simulator: its URL, its clouds.yaml, and its admin API (no token)."""

    def __init__(self, url, clouds_file):
        self.url = url
        self.clouds_file = str(clouds_file)
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port

    def admin(self, method, path, body=None):
        """A call to /admin/PATH (audit, faults, quotas, calls, drift); the JSON answer.
        An error status raises AssertionError with the answer."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, '/admin/' + path.lstrip('/'), body=data,
                         headers={'Content-Type': 'application/json'})
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        payload = json.loads(raw) if raw else None
        assert response.status < 400, '%s /admin/%s: %s %s' % (method, path, response.status,
                                                               payload)
        return payload

    def faults(self, **ops):
        """Set behaviour of operations: ``faults(**{'servers.create': {...}})``."""
        return self.admin('PUT', 'faults', ops)


@contextlib.contextmanager
def running(where, *extra, command=COMMAND, cls=SimCloud):
    """Start the simulator (``command``, options ``extra``) with its database and clouds.yaml
    in the directory ``where``; yields a ``cls`` (a SimCloud). It must stop cleanly on
    SIGTERM."""
    clouds_file = os.path.join(str(where), 'clouds.yaml')
    proc = subprocess.Popen([*command, '--port', '0',
                             '--db', os.path.join(str(where), 'simcloud.sqlite'),
                             '--clouds-yaml', clouds_file, *extra],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = READY.match(line)
        assert match, 'simcloud did not start: %r' % line
        yield cls(match.group(1), clouds_file)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=30) == 0, 'simcloud did not stop cleanly'
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
