"""conductors/jobboard.py: one fetch() choosing the backend by URL scheme."""

import uuid

import pytest

from heat_taskflow.conductors import impl_zake, jobboard


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
