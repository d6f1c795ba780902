"""heat-taskflow-simcloud as a process: ready line, free port, SIGTERM, state kept."""

import json
import re
import signal
import subprocess
import sys
import urllib.request

READY = re.compile(r'simcloud ready at (http://127\.0\.0\.1:\d+) \(db (.+)\)')


def start(db_path, *args):
    proc = subprocess.Popen([sys.executable, '-m', 'heat_taskflow.cmd.simcloud', '--port', '0',
                             '--db', db_path, *args], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = READY.match(line)
    assert match, line
    return proc, match.group(1)


def call(url, method='GET', body=None, headers=None):
    """``(payload, response headers)`` of one JSON request."""
    request = urllib.request.Request(url, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers=dict({'Content-Type': 'application/json'},
                                                  **(headers or {})))
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return (json.loads(raw) if raw else None), response.headers


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return proc.returncode, out


def test_serves_on_a_free_port_stops_on_sigterm_and_keeps_its_state(tmp_path):
    db_path = str(tmp_path / 'cloud.sqlite')
    proc, url = start(db_path, '--failure-rate', '0', '--latency', '0')
    try:
        assert call(url + '/healthz')[0] == {'status': 'ok'}
        _, headers = call(url + '/identity/v3/auth/tokens', 'POST', {'auth': {'identity': {
            'methods': ['password'], 'password': {'user': {
                'name': 'admin', 'domain': {'id': 'default'}, 'password': 'password'}}}}})
        token = headers['X-Subject-Token']
    finally:
        code, out = stop(proc)
    assert code == 0 and 'simcloud stopped' in out
    proc, url = start(db_path)
    try:
        # The token signing key is kept in the database: a token outlives a restart.
        body, _ = call(url + '/identity/v3/auth/tokens',
                       headers={'X-Auth-Token': token, 'X-Subject-Token': token})
        assert body['token']['user']['name'] == 'admin'
    finally:
        stop(proc)


def test_command_line_defaults_become_the_behaviour_defaults(tmp_path):
    proc, url = start(str(tmp_path / 'c.sqlite'), '--build-time', '7', '--failure-status',
                      '500')
    try:
        faults = call(url + '/admin/faults')[0]
    finally:
        stop(proc)
    assert faults['defaults']['build_time'] == 7 and faults['defaults']['failure_status'] == 500


def test_bad_options_are_usage_errors(tmp_path):
    result = subprocess.run([sys.executable, '-m', 'heat_taskflow.cmd.simcloud',
                             '--failure-rate', '3'], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and 'between 0 and 1' in result.stderr
