"""A distributed stack is stored only once its job board answers (issue #14, defect 9):
a [jobboard] url of an unknown scheme, or a ZooKeeper that is down, is reported before
anything is stored."""

import time

import pytest

from heat_taskflow.engine import exceptions as exc
from heat_taskflow.persistence import api as db
from tests.unit.engine.helpers import res, sqlite_only, tmpl

TEMPLATE = tmpl({'a': res('1')})


@pytest.fixture
def distributed_conf(conf):
    conf.set_override('convergence_engine', True)
    conf.set_override('connect_timeout', 0.5, group='jobboard')
    return conf


@sqlite_only
@pytest.mark.parametrize('url, says', [
    ('nosuch://somewhere', 'unknown scheme "nosuch"'),
    ('zookeeper://127.0.0.1:1/heat', 'cannot connect'),
])
def test_a_board_that_cannot_be_used_is_reported_before_storing(distributed_conf, service,
                                                                url, says):
    distributed_conf.set_override('url', url, group='jobboard')
    started = time.monotonic()
    with pytest.raises(exc.EngineError) as info:
        service.create_stack('s', TEMPLATE, 't.yaml')
    assert time.monotonic() - started < 10
    assert info.value.exit_code == 2
    assert says in str(info.value) and '[jobboard] url' in str(info.value)
    assert db.stack_list(service.database, None) == []


def test_the_command_line_exits_2_and_stores_nothing(tmp_path):
    import subprocess
    import sys

    from heat_taskflow.persistence import database as database_mod

    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nconvergence_engine = true\n'
                      '[database]\nconnection = sqlite:///%s\n[jobboard]\nurl = nosuch://b\n'
                      % (tmp_path, tmp_path / 'db.sqlite'))
    template = tmp_path / 't.yaml'
    template.write_text(TEMPLATE)
    done = subprocess.run([sys.executable, '-m', 'heat_taskflow.cmd.shell', '--config-file',
                           str(config), 'stack', 'create', '-t', str(template), 's'],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert 'unknown scheme "nosuch"' in done.stderr and 'Traceback' not in done.stderr
    database = database_mod.Database('sqlite:///%s' % (tmp_path / 'db.sqlite'))
    database.sync()
    try:
        assert db.stack_list(database, None) == []
    finally:
        database.dispose()
