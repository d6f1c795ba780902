"""heat-taskflow-api as a subprocess: starts fast, serves the version documents and a stack
from examples/, logs each request, and stops with exit 0 on SIGTERM."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / 'examples'
SCRIPT = pathlib.Path(sys.executable).with_name('heat-taskflow-api')
# The service must answer within this many seconds of its start (the issue asks < 2 s;
# the margin is for a loaded test machine: the measured figure is printed).
START_LIMIT = 6.0


class _Loader(yaml.SafeLoader):
    """YAML without timestamps (heatclient's template_format does the same)."""


_Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp']
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def request(method, url, body=None, headers=None):
    """(status, headers, parsed JSON body or None); redirects are not followed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header('Content-Type', 'application/json')

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            status, hdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, hdrs, raw = err.code, err.headers, err.read()
    return status, hdrs, (json.loads(raw) if raw else None)


@pytest.fixture
def api_service(tmp_path):
    """(base URL, Popen, stderr path) of a heat-taskflow-api on a free loopback port."""
    if not SCRIPT.exists():
        pytest.skip('heat-taskflow-api is not installed next to %s' % sys.executable)
    port = free_port()
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\n[api]\nbind_port = %d\nthreads = 4\n'
                      % (tmp_path, port))
    stderr = tmp_path / 'api.log'
    env = dict(os.environ, HOME=str(tmp_path))
    started = time.monotonic()
    with open(stderr, 'wb') as err:
        proc = subprocess.Popen([str(SCRIPT), '--config-file', str(config)], stderr=err,
                                stdout=subprocess.DEVNULL, env=env)
    base = 'http://127.0.0.1:%d' % port
    try:
        while True:
            try:
                status, _, _ = request('GET', base + '/')
                break
            except (ConnectionError, urllib.error.URLError):
                if proc.poll() is not None or time.monotonic() - started > 30:
                    pytest.fail('heat-taskflow-api did not start: %s' % stderr.read_text())
                time.sleep(0.02)
        startup = time.monotonic() - started
        print('heat-taskflow-api answered %.2f s after its start' % startup)
        assert startup < START_LIMIT, stderr.read_text()
        yield base, proc, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serves_creates_and_stops_cleanly(api_service):
    base, proc, stderr = api_service
    status, _, doc = request('GET', base + '/')
    assert status == 300
    assert doc['versions'][0]['id'] == 'v1.0'
    status, _, doc = request('GET', base + '/v1')
    assert status == 200 and doc['version']['status'] == 'CURRENT'

    # As heatclient sends it: parsed, with heat_template_version kept a string.
    template = yaml.load((EXAMPLES / 'random_password.yaml').read_text(), Loader=_Loader)
    status, headers, doc = request('POST', base + '/v1/demo/stacks',
                                   {'stack_name': 'pw', 'template': template,
                                    'parameters': {'length': 12}})
    assert status == 201, doc
    stack_id = doc['stack']['id']
    assert headers['Location'] == '%s/v1/demo/stacks/pw/%s' % (base, stack_id)

    status, headers, _ = request('GET', base + '/v1/demo/stacks/pw')
    assert status == 302
    deadline = time.monotonic() + 60
    while True:
        status, _, doc = request('GET', headers['Location'])
        assert status == 200, doc
        if not doc['stack']['stack_status'].endswith('IN_PROGRESS'):
            break
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)
    assert doc['stack']['stack_status'] == 'CREATE_COMPLETE', doc
    assert doc['stack']['parameters']['length'] == '12'

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0, stderr.read_text()
    log = stderr.read_text()
    line = next(x for x in log.splitlines() if 'POST /v1/demo/stacks 201' in x)
    # method path status duration request-id
    assert line.split('heat_taskflow.api.access: ')[1].split(' ')[3].endswith('ms')
    assert ' req-' in line
