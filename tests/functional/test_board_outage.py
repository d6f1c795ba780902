"""A ZooKeeper outage longer than the session timeout while a stack's jobs run: the stack
completes, and no job loses an attempt to the outage (docs/chaos.md, rule 1).

Two in-process conductors and a posting-only service share a private ZooKeeper server.
A chain of resources, each action a little slow, is created; once its first node has run,
the server is stopped for three session timeouts and started again on the same port with
the same data. Every claim of a node's job is recorded (sync_points.begin_attempt), and
``[conductor] max_attempts`` is 1: a failed post counted as an attempt would fail the
stack ("the job of ... did not finish in 1 attempts"). Each action is much shorter than the
outage, so the actions in flight end (and their posts fail) while the server is down, and
hand their jobs back before any claim can be made again. Times are bounds against hangs,
never measurements.
"""

import threading
import time
import uuid

import pytest
import yaml
from oslo_config import cfg

from heat_taskflow.conf import opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.flows import sync_points
from heat_taskflow.persistence import api as db
from tests.functional import zookeeper as zk
from tests.unit.conductors import harness

pytestmark = [pytest.mark.functional, pytest.mark.slow]

SESSION_TIMEOUT = 2.0     # seconds (the server grants at least 1 s)
OUTAGE = 3 * SESSION_TIMEOUT
CHAIN = 6                 # resources, each waiting for the one before
WAIT_SECS = 0.5           # each action takes this long


class SamePortServer(zk.ZooKeeperServer):
    """A ZooKeeperServer that, started again, comes back on its port with its data."""

    def start(self, timeout=30.0, attempts=3):
        if self.port is None:
            return super().start(timeout, attempts)
        config = self._write_config()
        classpath = ':'.join([self.workdir, zk.JAR, zk.SLF4J])
        with open(self.log_path, 'ab') as log:
            self.process = zk.subprocess.Popen(
                ['java', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
                 '-Dzookeeper.admin.enableServer=false', '-cp', classpath, zk.MAIN, config],
                cwd=self.workdir, stdin=zk.subprocess.DEVNULL, stdout=log,
                stderr=zk.subprocess.STDOUT, preexec_fn=zk._die_with_parent)
        if not self._wait_ready(timeout):
            raise zk.ZooKeeperError('ZooKeeper did not come back on port %d:\n%s'
                                    % (self.port, self.log_tail()))
        return self.address


@pytest.fixture
def server(tmp_path):
    reason = zk.missing()
    if reason:
        pytest.skip('no ZooKeeper server: %s' % reason)
    server = SamePortServer(tmp_path / 'zk', min_session_ms=1000, max_session_ms=60000)
    (tmp_path / 'zk').mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zk_conf(tmp_path, server):
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(tmp_path))
    conf.set_override('convergence_engine', True)
    conf.set_override('url', 'zookeeper://%s/outage-%s' % (server.address, uuid.uuid4().hex),
                      group='jobboard')
    conf.set_override('session_timeout', SESSION_TIMEOUT, group='jobboard')
    conf.set_override('connect_timeout', 5.0, group='jobboard')
    conf.set_override('wait_timeout', 0.05, group='conductor')
    conf.set_override('health_file', '', group='conductor')
    conf.set_override('watchdog_interval', 0.5, group='conductor')
    conf.set_override('max_attempts', 1, group='conductor')
    return conf


def chain():
    resources = {}
    for i in range(CHAIN):
        props = {'value': str(i), 'wait_secs': WAIT_SECS}
        if i:
            props['value'] = {'get_attr': ['r%d' % (i - 1), 'output']}
        resources['r%d' % i] = {'type': 'OS::Heat::TestResource', 'properties': props}
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources})


@pytest.mark.parametrize('db_url', ['sqlite'], indirect=True)
def test_a_zookeeper_outage_costs_no_attempt_and_the_stack_completes(zk_conf, database,
                                                                    server, monkeypatch):
    claims = []
    lock = threading.Lock()
    begin = sync_points.begin_attempt

    def recording(database, traversal_id, node_key):
        state = begin(database, traversal_id, node_key)
        if state is not None and not state['done']:
            with lock:
                claims.append((node_key, state['attempts']))
        return state

    monkeypatch.setattr(sync_points, 'begin_attempt', recording)
    executors = legacy.ExecutorPool(4)
    service = service_mod.StackService(zk_conf, database=database, executors=executors)
    try:
        with harness.conductors(zk_conf, database, count=2):
            stack = service.create_stack('outage', chain(), 't.yaml')
            traversal = db.stack_get(database, stack['id']).current_traversal
            harness.wait_for(lambda: (sync_points.node(database, stack['id'], traversal,
                                                       'converge:r1') or {}).get('attempts'),
                             what='the second resource running')
            server.stop()
            time.sleep(OUTAGE)        # the outage itself (nothing is asserted on time)
            server.start()
            final = service.wait('outage', poll=0.1, timeout=harness.TIMEOUT)
    finally:
        service.close()
        executors.shutdown()
    assert final['stack_status'] == 'CREATE_COMPLETE', final['stack_status_reason']
    worst = {}
    for key, attempt in claims:
        worst[key] = max(worst.get(key, 0), attempt)
    assert sorted(worst) == ['converge:r%d' % i for i in range(CHAIN)]
    assert set(worst.values()) == {1}, claims
