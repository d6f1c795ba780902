"""The conductor's health file is written without following a planted symlink (issue #14)."""

import json
import os

from heat_taskflow.conductors import conductor as conductor_mod


class _Stub:
    def __init__(self, path):
        self.health_file = str(path)

    def health(self, state):
        return {'state': state, 'pid': os.getpid()}


def test_a_symlink_at_the_old_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('precious\n')
    health = tmp_path / 'run' / 'health.json'
    health.parent.mkdir()
    # The name the conductor used to write through: planted by another local user.
    os.symlink(victim, '%s.%d.tmp' % (health, os.getpid()))
    conductor_mod.Conductor._write_health(_Stub(health), 'running')
    assert victim.read_text() == 'precious\n'
    assert json.loads(health.read_text())['state'] == 'running'
    assert not health.is_symlink()


def test_a_symlink_at_the_health_path_is_replaced_not_followed(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('precious\n')
    health = tmp_path / 'health.json'
    os.symlink(victim, health)
    conductor_mod.Conductor._write_health(_Stub(health), 'stopped')
    assert victim.read_text() == 'precious\n'
    assert json.loads(health.read_text())['state'] == 'stopped'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['health.json', 'victim']
