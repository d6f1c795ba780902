"""The command line dies (as by kill -9) after it stored a traversal's sync points and before
it posted the first jobs: the conductors' lost-post sweep posts them and the stack
completes, long before its timeout (docs/chaos.md, rule 2).

The death is the test's, not the product's: the real ``heat-taskflow`` command line runs
through a wrapper script that replaces DistributedRunner.post with ``os._exit(137)`` (the
exit status of a kill -9'd process), so the process vanishes at exactly that point without
any cleanup, and no crash hook exists in production code.
"""

import json
import subprocess
import sys
import time
import uuid

import pytest
import yaml

from tests.functional.test_distributed_failover import (  # noqa: F401 - a pytest fixture
    BOUND,
    Cluster,
    synced_db_url,
)

# What it checks does not depend on the database (the unit tests cover the sweep's claims).
pytestmark = [pytest.mark.functional, pytest.mark.slow,
              pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)]

WRAPPER = '''\
import os
import sys

from heat_taskflow.cmd import shell
from heat_taskflow.engine import distributed


def post(*args, **kwargs):
    os._exit(137)          # dies as by kill -9: the sync points exist, nothing is posted


distributed.DistributedRunner.post = post
sys.exit(shell.main())
'''


def template():
    resources = {'a': {'type': 'OS::Heat::TestResource', 'properties': {'value': 'a'}},
                 'b': {'type': 'OS::Heat::TestResource', 'properties': {'value': 'b'}},
                 'c': {'type': 'OS::Heat::TestResource', 'properties': {'value': 'c'},
                       'depends_on': ['a', 'b']}}
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources},
                          sort_keys=False)


@pytest.fixture
def cluster(tmp_path, synced_db_url, zookeeper):  # noqa: F811 - the imported fixture
    cluster = Cluster(tmp_path, synced_db_url, zookeeper)
    # No retries of the dead command line's posts to wait for; passes every 0.2 s.
    cluster.base_config = cluster.base_config.replace(
        'connect_timeout = 20\n', 'connect_timeout = 20\npost_retry_timeout = 0\n'
    ) + 'watchdog_interval = 0.2\n'
    try:
        yield cluster
    finally:
        cluster.stop()


def status(cluster, name):
    shown = json.loads(cluster.cli('stack', 'show', name, '-f', 'json').stdout)
    return shown['stack_status'], shown['stack_status_reason']


def test_conductors_finish_a_stack_whose_command_line_died_while_posting(cluster, tmp_path):
    name = 'killed-posting-%s' % uuid.uuid4().hex[:8]
    wrapper = tmp_path / 'dies_while_posting.py'
    wrapper.write_text(WRAPPER)
    tpl = cluster.write_template('t.yaml', template())
    died = subprocess.run([sys.executable, str(wrapper), '--config-file', str(cluster.config),
                           'stack', 'create', name, '-t', str(tpl)],
                          capture_output=True, text=True, env=cluster.env, timeout=BOUND)
    assert died.returncode == 137, (died.stdout, died.stderr)
    assert status(cluster, name)[0] == 'CREATE_IN_PROGRESS'

    cluster.start_conductors(2)
    deadline = time.monotonic() + BOUND             # a guard against hangs
    while status(cluster, name)[0] == 'CREATE_IN_PROGRESS':
        assert time.monotonic() < deadline, cluster.logs()
        time.sleep(0.2)
    assert status(cluster, name) == ('CREATE_COMPLETE', 'Stack CREATE completed successfully'
                                     ), cluster.logs()
    assert 'has no job on the board; posting it again' in cluster.logs()
