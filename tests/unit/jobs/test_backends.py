"""jobs/backends.py: one fetch() choosing the backend (a stevedore entry point) by URL scheme."""

import subprocess
import sys
import uuid

import pytest

from heat_taskflow.jobs import backends as jobboard
from heat_taskflow.jobs import base, impl_zake, impl_zookeeper


def test_unknown_scheme_names_the_url_and_the_choices():
    with pytest.raises(jobboard.JobBoardError, match='redis.*zake, zookeeper'):
        jobboard.fetch('redis://127.0.0.1/x', persistence=None)


def test_zake_boards_of_one_name_share_jobs_and_close_their_clients():
    url = 'zake://%s' % uuid.uuid4().hex
    one = jobboard.fetch(url, persistence=None)
    two = jobboard.fetch(url, persistence=None)
    other = jobboard.fetch('zake://%s' % uuid.uuid4().hex, persistence=None)
    try:
        one.board.post('job-1', details={'node': 'converge:a'})
        seen = list(two.board.iterjobs(ensure_fresh=True))
        assert [j.details['node'] for j in seen] == ['converge:a']
        assert list(other.board.iterjobs(ensure_fresh=True)) == []
        assert jobboard.in_process(url) and not jobboard.in_process('zookeeper://h:1/p')
    finally:
        for board in (one, two, other):
            board.close()
        impl_zake.forget(url[len('zake://'):])
    assert not one.client.connected and not one.board.connected


def test_backends_are_the_entry_points_of_their_scheme():
    # setup.cfg's heat_taskflow.jobs.backends namespace, not a table in the code.
    assert jobboard.backend('zake://x') is impl_zake.ZakeBackend
    assert jobboard.backend('zookeeper://h:1/p') is impl_zookeeper.ZooKeeperBackend
    assert issubclass(impl_zake.ZakeBackend, base.Backend)
    assert impl_zake.ZakeBackend.in_process and not impl_zookeeper.ZooKeeperBackend.in_process


def test_asking_whether_a_board_is_in_process_connects_nothing_and_imports_no_client():
    # Every command asks (conductors/local.py); most never touch a job board.
    code = ('import sys\n'
            'from heat_taskflow.jobs import backends\n'
            'assert backends.in_process("zake://x")\n'
            'assert not backends.in_process("zookeeper://h:1/p")\n'
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("kazoo", "zake")))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == '[]'
