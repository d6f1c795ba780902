"""heat-taskflow-conductor: runs until SIGTERM, then stops cleanly with exit code 0."""

import json
import signal
import subprocess
import sys

from tests.unit.conductors import harness


def test_sigterm_stops_the_daemon_cleanly(tmp_path):
    health = tmp_path / 'health.json'
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\n[database]\nconnection = sqlite:///%s\n'
                      '[jobboard]\nurl = zake://daemon\n[conductor]\nhealth_file = %s\n'
                      'health_interval = 0.1\n'
                      % (tmp_path, tmp_path / 'db.sqlite', health))
    proc = subprocess.Popen([sys.executable, '-m', 'heat_taskflow.cmd.conductor',
                             '--config-file', str(config)],
                            stderr=subprocess.PIPE, text=True)
    try:
        harness.wait_for(health.exists, what='the health file')
        record = json.loads(health.read_text())
        assert record['pid'] == proc.pid and record['state'] == 'running'
        first = record['heartbeat_unix']
        harness.wait_for(lambda: json.loads(health.read_text())['heartbeat_unix'] > first,
                         what='a heartbeat')
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=harness.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert 'SIGTERM: stopping' in err
    assert json.loads(health.read_text())['state'] == 'stopped'
    assert not list(tmp_path.glob('.health.json.*.tmp'))     # no temporary file left


def test_an_unknown_board_scheme_is_a_clean_start_up_failure(tmp_path):
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\n[database]\nconnection = sqlite:///%s\n'
                      '[jobboard]\nurl = nosuch://board\n' % (tmp_path, tmp_path / 'db.sqlite'))
    done = subprocess.run([sys.executable, '-m', 'heat_taskflow.cmd.conductor',
                           '--config-file', str(config)],
                          capture_output=True, text=True, timeout=harness.TIMEOUT)
    assert done.returncode == 2, done.stderr
    assert 'unknown scheme "nosuch"' in done.stderr
    assert 'Traceback' not in done.stderr
