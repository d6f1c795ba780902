"""heat-taskflow-simcloud --clouds-yaml writes the passwords it holds 0600 (issue #14),
whatever the umask, and also over a stale file of another mode."""

import os
import stat

import yaml

from heat_taskflow.cmd import simcloud


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_clouds_yaml_is_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / 'sub' / 'clouds.yaml'
        simcloud.write_clouds_yaml(str(path), 'http://127.0.0.1:1')
        assert _mode(path) == 0o600
        assert 'password' in yaml.safe_load(path.read_text())['clouds']['simcloud']['auth']
        # over an existing world-readable file and a stale temporary one
        path.chmod(0o644)
        stale = tmp_path / 'sub' / 'clouds.yaml.tmp'
        stale.write_text('old')
        stale.chmod(0o666)
        simcloud.write_clouds_yaml(str(path), 'http://127.0.0.1:2')
        assert _mode(path) == 0o600
        assert '127.0.0.1:2' in path.read_text()
        assert not stale.exists()
    finally:
        os.umask(old)
