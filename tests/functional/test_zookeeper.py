"""The private ZooKeeper server the functional tests run on, and tools/ensure-zookeeper."""

import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

from tests.functional import zookeeper as zk

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENSURE = ROOT / 'tools' / 'ensure-zookeeper'

pytestmark = pytest.mark.functional


@pytest.fixture
def kazoo_client(zookeeper):
    from kazoo.client import KazooClient
    client = KazooClient(hosts=zookeeper, timeout=4.0)
    client.start(timeout=10)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def test_server_answers_four_letter_words(zookeeper_server, zookeeper):
    host, port = zookeeper.rsplit(':', 1)
    assert host == '127.0.0.1'
    assert zk.four_letter_word(host, int(port), 'ruok') == 'imok'
    assert 'Mode: standalone' in zookeeper_server.command('srvr')
    # TaskFlow's job board checks the server version with envi when it connects.
    assert 'zookeeper.version=' in zookeeper_server.command('envi')


def test_data_dir_is_private(zookeeper_server, tmp_path_factory):
    data_dir = pathlib.Path(zookeeper_server.workdir) / 'data'
    assert data_dir.is_dir()
    assert str(tmp_path_factory.getbasetemp()) in str(data_dir)
    assert ('dataDir=%s' % data_dir) in (data_dir.parent / 'zoo.cfg').read_text()


def test_four_second_sessions_are_granted(kazoo_client):
    # A conductor's short session timeout is what bounds the failover time after kill -9.
    assert kazoo_client._session_timeout == 4000


def test_ephemeral_node_goes_with_its_session(zookeeper, kazoo_client):
    from kazoo.client import KazooClient
    path = '/test-%s' % uuid.uuid4().hex
    other = KazooClient(hosts=zookeeper, timeout=4.0)
    other.start(timeout=10)
    other.create(path + '/lock', b'x', ephemeral=True, makepath=True)
    assert kazoo_client.exists(path + '/lock') is not None
    other.stop()
    other.close()
    assert kazoo_client.exists(path + '/lock') is None


def test_taskflow_job_board_connects(zookeeper, kazoo_client):
    from taskflow.jobs import backends
    path = '/jobs-%s' % uuid.uuid4().hex
    board = backends.fetch('test', {'board': 'zookeeper', 'path': path}, client=kazoo_client)
    board.connect()
    try:
        job = board.post('job-1', details={'store': {}})
        assert [j.uuid for j in board.iterjobs(ensure_fresh=True)] == [job.uuid]
        board.claim(job, 'me')
        assert board.find_owner(job) == 'me'
    finally:
        board.close()


def test_start_and_stop_a_second_server(tmp_path, zookeeper):
    if zk.missing():
        pytest.skip(zk.missing())
    server = zk.ZooKeeperServer(tmp_path)
    server.start()
    try:
        assert server.address != zookeeper
        assert server.is_ok()
    finally:
        process = server.process
        server.stop()
        server.stop()
    assert process.poll() is not None
    assert not server.is_ok()


def _run_ensure(env):
    return subprocess.run([shutil.which('bash'), str(ENSURE)], env=env, capture_output=True,
                          text=True, timeout=60)


def test_ensure_zookeeper_is_a_no_op_when_installed(tmp_path):
    jar = tmp_path / 'zookeeper.jar'
    jar.write_bytes(b'')
    # No PATH at all: had it tried to install anything it would have said so.
    result = _run_ensure({'ZOOKEEPER_JAR': str(jar), 'PATH': str(tmp_path)})
    assert (result.returncode, result.stdout, result.stderr) == (0, '', '')


def test_ensure_zookeeper_without_apt_says_why_and_succeeds(tmp_path):
    result = _run_ensure({'ZOOKEEPER_JAR': str(tmp_path / 'missing.jar'),
                          'PATH': str(tmp_path)})
    assert result.returncode == 0
    assert 'apt-get is not available' in result.stderr
    assert 'ZooKeeper tests will skip' in result.stderr


def test_ensure_zookeeper_reports_a_failed_install(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('the install path runs only as root (or with sudo)')
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'apt-get').write_text('#!/bin/sh\necho "E: mirror unreachable"; exit 100\n')
    (fake / 'apt-get').chmod(0o755)
    result = _run_ensure({'ZOOKEEPER_JAR': str(tmp_path / 'missing.jar'),
                          'PATH': '%s:%s' % (fake, os.environ['PATH'])})
    assert result.returncode == 0
    assert 'apt-get could not install zookeeper' in result.stderr
    assert 'E: mirror unreachable' in result.stderr
