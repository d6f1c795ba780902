"""A heat-taskflow-simcloud process for the tests that need one, and its admin API.

``running(where)`` starts the simulator on a free loopback port, its state and the
``clouds.yaml`` it writes (entries ``simcloud`` and ``simcloud-demo``) in ``where``, and yields
a ``SimCloud``; the plugin tests (tests/unit/resources) and the functional tests share it.
``Process`` is the process itself, for a caller that restarts it: ``restart()`` starts it again
on the port and over the database it had, so the cloud's state and its clients' clouds.yaml
survive. In-process servers for the simulator's own tests are tests/unit/simcloud/conftest.py's.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
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


class Process:
    """A simulator process (``command``, options ``extra``) with its database and clouds.yaml
    in the directory ``where``; ``start()`` returns its URL. ``popen_kw`` go to Popen (a
    ``preexec_fn`` that ties it to its parent, say)."""

    def __init__(self, where, *extra, command=COMMAND, **popen_kw):
        self.where = str(where)
        self.extra = [str(e) for e in extra]
        self.command = command
        self.popen_kw = popen_kw
        self.clouds_file = os.path.join(self.where, 'clouds.yaml')
        self.port = 0
        self.url = None
        self.proc = None

    def start(self):
        """Start it (on the port it had, after a first start on a free one) and wait until it
        serves; returns its URL."""
        self.proc = subprocess.Popen([*self.command, '--port', str(self.port),
                                      '--db', os.path.join(self.where, 'simcloud.sqlite'),
                                      '--clouds-yaml', self.clouds_file, *self.extra],
                                     stdout=subprocess.PIPE, text=True, **self.popen_kw)
        line = self.proc.stdout.readline()
        match = READY.match(line)
        if not match:
            self.stop(timeout=5)
            raise AssertionError('simcloud did not start: %r' % line)
        self.url = match.group(1)
        self.port = urllib.parse.urlsplit(self.url).port
        return self.url

    def stop(self, timeout=30):
        """SIGTERM, and wait; its exit code (None when it was not running). It must stop
        cleanly: one that does not within ``timeout`` s is killed, and TimeoutExpired raised."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()

    def restart(self, down_seconds=0.0):
        """Stop it, stay down ``down_seconds``, start it again (same port, same database)."""
        self.stop()
        time.sleep(down_seconds)
        return self.start()


@contextlib.contextmanager
def running(where, *extra, command=COMMAND, cls=SimCloud):
    """Start the simulator (``command``, options ``extra``) with its database and clouds.yaml
    in the directory ``where``; yields a ``cls`` (a SimCloud). It must stop cleanly on
    SIGTERM."""
    process = Process(where, *extra, command=command)
    url = process.start()
    try:
        yield cls(url, process.clouds_file)
    finally:
        assert process.stop() == 0, 'simcloud did not stop cleanly'
