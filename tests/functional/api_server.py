"""Run the real ``heat-taskflow-api`` service in a subprocess, and the real clients against it.

``ApiServer`` writes a configuration file in a directory of the caller's (state directory,
database URL, ``[api] bind_port`` = a free loopback port, ``auth_strategy = noauth``, and
whatever else the caller adds: a job board URL, a shorter heartbeat), creates the schema with
``heat-taskflow-manage db sync``, starts ``heat-taskflow-api --config-file FILE`` from the
virtualenv's bin directory in its own process group, and waits until ``GET /`` answers
(``startup_s`` records how long that took). ``stop()`` sends SIGTERM and asserts the service
exits 0 within ``STOP_TIMEOUT`` seconds; ``kill()`` sends SIGKILL to the whole process group
(the master and its workers, as a crash of the host would); ``start()`` again starts a new
service on the same configuration. The service's output goes to ``log_path``; ``log()`` reads
it, and every failure message of this module carries its tail.

Fixtures (import the ones a test module needs into it):

api_server         a function-scoped service on a fresh SQLite database, legacy path
api_server_module  the same, shared by the tests of one module

``Openstack`` runs python-openstackclient in a subprocess exactly as a user types it
(``openstack --os-auth-type none --os-endpoint URL ...``); ``heat_client(server)`` is a
python-heatclient ``Client('1', endpoint=URL, token=...)``.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.functional import zookeeper as zk

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / 'examples'
BIN = Path(sys.executable).parent
API = BIN / 'heat-taskflow-api'
MANAGE = BIN / 'heat-taskflow-manage'
OPENSTACK = BIN / 'openstack'

START_TIMEOUT = 30.0     # seconds: a guard against a service that never answers
STOP_TIMEOUT = 10.0      # seconds: SIGTERM must end the service within this (asserted)
CLIENT_TIMEOUT = 180     # seconds: a guard against a hung client command
LOG_TAIL = 60            # lines of the service's log quoted in failure messages


class ApiServerError(AssertionError):
    """The service did not start, or did not stop as it must."""


def missing():
    """Why heat-taskflow-api cannot be run here (not installed), or None."""
    if not API.exists():
        return ('%s is not installed (pip install -e . after the api service landed)'
                % API)
    return None


def config_text(sections):
    """The text of an ini file from {section: {key: value}} (None values are left out)."""
    out = []
    for section, values in sections.items():
        out.append('[%s]' % section)
        out.extend('%s = %s' % (key, value) for key, value in values.items()
                   if value is not None)
        out.append('')
    return '\n'.join(out)


class ApiServer:
    """One heat-taskflow-api service on 127.0.0.1 with its configuration under ``workdir``.

    ``db_url`` defaults to a SQLite file in ``workdir``; ``project`` is the project named in
    the endpoint; ``extra`` is {section: {key: value}} merged over the defaults.
    """

    host = '127.0.0.1'

    def __init__(self, workdir, db_url=None, project=None, extra=None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = self.dir / 'state'
        self.state_dir.mkdir(exist_ok=True)
        self.db_url = db_url or 'sqlite:///%s' % (self.dir / 'heat-taskflow.sqlite')
        self.project = project or 'p-%s' % uuid.uuid4().hex[:8]
        self.port = zk.free_port(self.host)
        sections = {
            'DEFAULT': {'state_dir': self.state_dir},
            'database': {'connection': self.db_url},
            'api': {'bind_host': self.host, 'bind_port': self.port,
                    'auth_strategy': 'noauth'},
        }
        for section, values in (extra or {}).items():
            sections.setdefault(section, {}).update(values)
        self.config_path = self.dir / 'heat-taskflow-api.conf'
        self.config_path.write_text(config_text(sections))
        self.log_path = self.dir / 'heat-taskflow-api.log'
        self.env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(self.state_dir),
                        PYTHONUNBUFFERED='1')
        self.process = None
        self.startup_s = None
        self.starts = []          # startup_s of every start, in order
        self._log_file = None
        self._synced = False

    # -- addresses

    @property
    def base_url(self):
        return 'http://%s:%d' % (self.host, self.port)

    @property
    def endpoint(self):
        """Heat's endpoint: http://127.0.0.1:PORT/v1/PROJECT."""
        return self.endpoint_for(self.project)

    def endpoint_for(self, project):
        return '%s/v1/%s' % (self.base_url, project)

    # -- log

    def log(self):
        """Everything the service wrote so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def log_tail(self, lines=LOG_TAIL):
        tail = self.log().splitlines()[-lines:]
        return '--- heat-taskflow-api log (%s, last %d lines) ---\n%s' % (
            self.log_path, len(tail), '\n'.join(tail))

    def __repr__(self):
        state = 'not started' if self.process is None else (
            'pid %d, exit %s' % (self.process.pid, self.process.poll()))
        return '<heat-taskflow-api %s (%s)>\n%s' % (self.base_url, state, self.log_tail())

    # -- life cycle

    def sync(self):
        """Create the schema (heat-taskflow-manage db sync), once."""
        if self._synced:
            return
        proc = subprocess.run([str(MANAGE), '--config-file', str(self.config_path), 'db',
                               'sync'], env=self.env, capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
        if proc.returncode != 0:
            raise ApiServerError('db sync exited %d:\n%s%s' % (proc.returncode, proc.stdout,
                                                                proc.stderr))
        self._synced = True

    def start(self, timeout=START_TIMEOUT):
        """Start the service and wait until GET / answers; returns the seconds it took."""
        assert self.process is None or self.process.poll() is not None, 'already running'
        self.sync()
        self._log_file = open(self.log_path, 'a')
        self._log_file.write('=== start %s ===\n' % time.strftime('%H:%M:%S'))
        self._log_file.flush()
        t0 = time.monotonic()
        self.process = subprocess.Popen(
            [str(API), '--config-file', str(self.config_path)], cwd=str(self.dir),
            env=self.env, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.process.poll() is not None:
                raise ApiServerError('heat-taskflow-api exited %d before answering\n%s'
                                     % (self.process.returncode, self.log_tail()))
            if self.answers():
                break
            if time.monotonic() - t0 > timeout:
                self.kill()
                raise ApiServerError('heat-taskflow-api did not answer GET / within %.0f s\n%s'
                                     % (timeout, self.log_tail()))
            time.sleep(0.05)
        self.startup_s = time.monotonic() - t0
        self.starts.append(self.startup_s)
        return self.startup_s

    def answers(self):
        """True when GET / gets an HTTP answer (any status: Heat's is 300)."""
        try:
            with urllib.request.urlopen(self.base_url + '/', timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=STOP_TIMEOUT, sig=signal.SIGTERM, group=False):
        """SIGTERM (or ``sig``; to the whole process group when ``group``, as a terminal's
        Ctrl-C); assert the service exits 0 within ``timeout`` seconds."""
        if self.process is None:
            return
        if self.process.poll() is None:
            if group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ApiServerError('heat-taskflow-api did not exit within %.0f s of %s%s'
                                     '\n%s' % (timeout, sig.name, ' (to its group)' if group
                                                else '', self.log_tail())) from None
        code = self.process.returncode
        self._close_log()
        self._reap_group()
        if code != 0:
            raise ApiServerError('heat-taskflow-api exited %s on %s (expected 0)\n%s'
                                 % (code, sig.name, self.log_tail()))

    def kill(self):
        """SIGKILL the whole process group (master and workers) at once, as a crash."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=STOP_TIMEOUT)
        self._close_log()
        self.process = None

    def _group_alive(self):
        """Pids of the service's process group still running (zombies do not count)."""
        pgid = self.process.pid
        alive = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(')') + 2:].split()
            if int(fields[2]) == pgid and fields[0] not in ('Z', 'X'):
                alive.append(int(entry))
        return alive

    def _reap_group(self):
        """After the master exited: no worker of its group may outlive it (for long)."""
        deadline = time.monotonic() + 2.0
        while self._group_alive():
            if time.monotonic() > deadline:
                left = self._group_alive()
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                raise ApiServerError('workers %s of heat-taskflow-api outlived its master\n%s'
                                     % (left, self.log_tail()))
            time.sleep(0.05)

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- plain HTTP, for what no client asks

    def http(self, method, path, body=None, headers=None):
        """(status, headers, parsed JSON or text) of one request to base_url + path."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=dict({'Content-Type': 'application/json'},
                                                      **(headers or {})))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, hdrs, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            status, hdrs, raw = err.code, err.headers, err.read()
        text = raw.decode('utf-8', 'replace')
        if 'json' in (hdrs.get('Content-Type') or ''):
            try:
                return status, hdrs, json.loads(text)
            except ValueError:
                pass
        return status, hdrs, text


def running(workdir, **kwargs):
    """Start an ApiServer; returns it (the caller stops it)."""
    server = ApiServer(workdir, **kwargs)
    server.start()
    return server


def _serve(workdir, **kwargs):
    reason = missing()
    if reason:
        pytest.fail(reason)      # the service is this branch's subject: absent is a failure
    server = running(workdir, **kwargs)
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            # Shown by pytest only when the test failed (captured teardown output).
            print(server.log_tail(200))


@pytest.fixture
def api_server(tmp_path):
    """A heat-taskflow-api service of this test on SQLite, legacy path, noauth."""
    yield from _serve(tmp_path / 'api')


@pytest.fixture(scope='module')
def api_server_module(tmp_path_factory):
    """A heat-taskflow-api service shared by the tests of one module."""
    yield from _serve(tmp_path_factory.mktemp('api'))


# -- python-openstackclient, in a subprocess ---------------------------------------------------

class Result:
    """A finished client command: argv, exit code, stdout, stderr."""

    def __init__(self, argv, returncode, stdout, stderr, server=None):
        self.argv, self.returncode = argv, returncode
        self.stdout, self.stderr = stdout, stderr
        self.server = server

    def __repr__(self):
        text = '<%s exited %s\n--- stdout ---\n%s\n--- stderr ---\n%s>' % (
            ' '.join(self.argv), self.returncode, self.stdout, self.stderr)
        if self.server is not None:
            text += '\n' + self.server.log_tail()
        return text

    @property
    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError('stdout is not JSON (%s): %r' % (exc, self)) from None

    @property
    def value(self):
        return self.stdout.strip()


class Openstack:
    """``openstack --os-auth-type none --os-endpoint ENDPOINT ARGS``, as a user types it.

    Runs from the repository (so ``-t examples/X.yaml`` is the path a user types) with no
    OS_* variable of the caller's environment leaking in.
    """

    def __init__(self, server, endpoint=None, cwd=REPO):
        self.server = server
        self.endpoint = endpoint or server.endpoint
        self.cwd = str(cwd)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        self.env['PYTHONUNBUFFERED'] = '1'

    def argv(self, args):
        return [str(OPENSTACK), '--os-auth-type', 'none', '--os-endpoint', self.endpoint] + [
            str(a) for a in args]

    def __call__(self, *args, expect=0, timeout=CLIENT_TIMEOUT):
        """Run the command; assert its exit code unless expect is None (then any)."""
        argv = self.argv(args)
        proc = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr, self.server)
        if expect is not None:
            assert result.returncode == expect, result
        return result

    def json(self, *args, expect=0):
        return self(*args, '-f', 'json', expect=expect).json

    def value(self, *args, column, expect=0):
        return self(*args, '-f', 'value', '-c', column, expect=expect).value

    def popen(self, *args):
        argv = self.argv(args)
        return argv, subprocess.Popen(argv, cwd=self.cwd, env=self.env, text=True,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)

    def finish(self, started, expect=0):
        argv, proc = started
        try:
            stdout, stderr = proc.communicate(timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        result = Result(argv, proc.returncode, stdout, stderr, self.server)
        if expect is not None:
            assert result.returncode == expect, result
        return result


# -- python-heatclient, as a library -----------------------------------------------------------

def heat_client(server, project=None, token='any'):
    """heatclient.client.Client('1', endpoint=..., token=...) on the server's endpoint."""
    from heatclient import client as heat_client_mod

    endpoint = server.endpoint if project is None else server.endpoint_for(project)
    return heat_client_mod.Client('1', endpoint=endpoint, token=token)


def wait_for_status(get, want, timeout=120.0, pause=0.2, server=None):
    """Poll ``get()`` (a stack dict or object with stack_status) until its status is one of
    ``want`` or it ends in another final state; returns the last status."""
    want = {want} if isinstance(want, str) else set(want)
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        stack = get()
        status = stack['stack_status'] if isinstance(stack, dict) else stack.stack_status
        if status in want:
            return status
        if not status.endswith('IN_PROGRESS'):
            break
        time.sleep(pause)
    raise AssertionError('stack ended %s, wanted %s%s' % (
        status, sorted(want), '' if server is None else '\n' + server.log_tail()))


def wait_gone(hc, name, timeout=120.0, pause=0.2, server=None):
    """Poll heatclient's stacks.get(name) until it is a 404 (how delete --wait ends); the
    stack may only be DELETE_IN_PROGRESS or DELETE_COMPLETE meanwhile."""
    from heatclient import exc

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stack = hc.stacks.get(name, resolve_outputs=False)
        except exc.HTTPNotFound:
            return
        assert stack.stack_status in ('DELETE_IN_PROGRESS', 'DELETE_COMPLETE'), (
            stack.stack_status, stack.stack_status_reason)
        time.sleep(pause)
    raise AssertionError('stack %s is still there after %.0f s%s' % (
        name, timeout, '' if server is None else '\n' + server.log_tail()))
