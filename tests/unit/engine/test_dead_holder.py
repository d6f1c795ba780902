"""Dead holders at once: an engine id names host, pid and the process's start time, so a
legacy stack held by a process of this host that is gone is resumable without waiting for
its heartbeat to go stale."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from heat_taskflow.engine import operations
from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence.models import utcnow
from tests.unit.engine.test_resume import chain, dead_create

HOST = socket.gethostname()


def gone_pid():
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_an_engine_id_names_host_pid_and_start_time():
    host, pid, start, rand = operations.new_engine_id().rsplit(':', 3)
    assert (host, int(pid)) == (HOST, os.getpid())
    assert int(start) == resume_mod.process_start_time(os.getpid())
    assert len(rand) == 8


def test_which_holders_are_dead():
    mine = operations.new_engine_id()
    host, pid, start, rand = mine.rsplit(':', 3)
    assert resume_mod.holder_dead(mine) is False
    assert resume_mod.holder_dead(resume_mod.holder(mine, 5)) is False
    # The same pid with another start time: the pid was reused by another process.
    assert resume_mod.holder_dead('%s:%s:%d:%s' % (host, pid, int(start) + 1, rand)) is True
    assert resume_mod.holder_dead('%s:%d:%s:%s' % (host, gone_pid(), start, rand)) is True
    assert resume_mod.holder_dead('%s:%d:abcd1234' % (host, gone_pid())) is True   # older ids
    assert resume_mod.holder_dead('%s:%s:-:%s' % (host, pid, rand)) is False
    # Another host's process: only its heartbeat tells.
    assert resume_mod.holder_dead('elsewhere.example:%d:1:abcd1234' % gone_pid()) is False
    assert resume_mod.holder_dead('not an engine id') is False
    assert resume_mod.holder_dead(None) is False


def test_a_zombie_is_dead():
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    start = resume_mod.process_start_time(proc.pid)
    engine_id = '%s:%d:%s:abcd1234' % (HOST, proc.pid, start)
    assert resume_mod.holder_dead(engine_id) is False
    os.kill(proc.pid, signal.SIGKILL)
    try:
        # Killed, not reaped yet: a zombie.
        for _ in range(200):
            if resume_mod._process_state(proc.pid) == 'Z':
                break
            time.sleep(0.01)
        assert resume_mod.holder_dead(engine_id) is True
    finally:
        proc.wait()
    assert resume_mod.holder_dead(engine_id) is True


def test_without_proc_the_pid_alone_tells(monkeypatch):
    def no_proc(pid):
        raise PermissionError('no /proc here')

    monkeypatch.setattr(resume_mod, '_stat_fields', no_proc)
    assert resume_mod.process_start_time(os.getpid()) is None
    assert resume_mod.holder_dead('%s:%d:-:abcd1234' % (HOST, gone_pid())) is True
    assert resume_mod.holder_dead('%s:%d:123:abcd1234' % (HOST, os.getpid())) is False


def test_resume_takes_a_dead_local_holders_stack_at_once(service, database, tmp_path,
                                                         monkeypatch):
    if database.dialect != 'sqlite':
        pytest.skip('backend-neutral; run on sqlite only')
    stack = dead_create(service, monkeypatch, 'held', chain(tmp_path / 'l'))
    start = resume_mod.process_start_time(os.getpid())
    # A fresh heartbeat of a live process of another host: refused.
    db.stack_update(database, stack.id, {
        'engine_id': 'elsewhere.example:1:1:abcd1234 every 5s', 'heartbeat_at': utcnow()})
    with pytest.raises(resume_mod.StillRunning):
        service.resume_stack('held')
    # The same fresh heartbeat from a process of this host that is gone: resumed at once.
    db.stack_update(database, stack.id, {
        'engine_id': '%s:%d:%s:abcd1234 every 5s' % (HOST, gone_pid(), start),
        'heartbeat_at': utcnow()})
    view = service.resume_stack('held')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
