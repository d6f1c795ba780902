"""The TripleO-like example (examples/tripleo) through a crash: a legacy `stack create --wait`
killed with kill -9 while the nodes' nested stacks are being built, then `stack resume
--wait`.

Each node is an OS::Heat::Stack of role.yaml inside an OS::Heat::ResourceGroup, so the kill
leaves three levels of stacks IN_PROGRESS (the overcloud, a group's child stack, the node
stacks) under a dead heartbeat. The resume must finish every one of them without making any
cloud object twice: the simulated cloud's audit ends with exactly one creation per cloud
resource of the template, each one still the physical resource of its template resource, and
the delete leaves nothing live.

The same on the distributed path: two conductors on a real ZooKeeper server run the create,
and the one holding the most jobs is killed with kill -9 while the node stacks build; the
other takes its jobs over once its ZooKeeper session expires and finishes the create.
"""

import collections
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.functional import cli as cli_mod
from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = [pytest.mark.functional]

BOUND = 90.0          # seconds: a guard against hangs, never a measurement
CONTROLLERS, COMPUTES, CEPH = 1, 7, 1
NODES = CONTROLLERS + COMPUTES + CEPH


@pytest.fixture
def simcloud(tmp_path):
    # Servers and volumes take half a second to build: the kill lands while nodes build.
    with simcloud_mod.running(tmp_path, build_time=0.5) as cloud:
        yield cloud


def _kinds(simcloud):
    return collections.Counter(c['kind'] for c in
                               simcloud_mod.requested(simcloud.audit()['creations']))


def _attachments(simcloud):
    return len(simcloud.audit('volume_attachments')['creations'])


def _assert_created_once(cli, url, simcloud):
    """The overcloud and all its nested stacks CREATE_COMPLETE, and the cloud holds exactly
    one object per cloud resource of the template, each its resource's physical id."""
    shown = cli.json('stack', 'show', 'overcloud')
    assert shown['stack_status'] == 'CREATE_COMPLETE', shown['stack_status_reason']
    outputs = cli_mod.outputs(shown)
    assert len(outputs['compute_ips']) == COMPUTES
    assert len(outputs['ceph_storage_ips']) == CEPH
    assert len(outputs['controller_public_ips']) == CONTROLLERS

    # Every stack of the tree finished, once: the overcloud, 3 group stacks, one per node.
    tree = overcloud.stack_tree(url, 'overcloud')
    statuses = collections.Counter((s.action, s.status) for s, _ in tree.values())
    assert statuses == {('CREATE', 'COMPLETE'): 1 + 3 + NODES}, statuses
    assert all(s.engine_id is None for s, _ in tree.values())
    rows = [r for _, resources in tree.values() for r in resources]
    assert all((r.action, r.status) == ('CREATE', 'COMPLETE') for r in rows), \
        [(r.name, r.action, r.status) for r in rows if r.status != 'COMPLETE']

    # The cloud: no token used twice, exactly one creation per cloud resource of the
    # template, each the physical resource of a current template resource (nothing
    # orphaned), and one attachment per node.
    overcloud.assert_created_once(simcloud, url, 'overcloud',
                                  overcloud.expected(CONTROLLERS, COMPUTES, CEPH))
    assert _attachments(simcloud) == NODES


def _assert_deleted(cli, simcloud):
    """stack delete --wait leaves nothing live in the cloud."""
    cli('stack', 'delete', '--wait', 'overcloud')
    overcloud.assert_nothing_left(simcloud)


def _create_until_servers(cli, simcloud, tmp_path):
    """Start `stack create --wait` of the example's medium size and return (started, proc)
    once the simcloud has two servers (node stacks are being built)."""
    env = overcloud.environment(tmp_path / 'medium.yaml', CONTROLLERS, COMPUTES, CEPH)
    started = cli.popen('stack', 'create', '--wait', '-t', overcloud.TEMPLATE, '-e', env,
                        'overcloud')
    _, proc = started
    deadline = time.monotonic() + BOUND
    while _kinds(simcloud)['servers'] < 2:
        assert proc.poll() is None, cli.finish(started, expect=None)
        assert time.monotonic() < deadline, 'the create never reached the servers'
        time.sleep(0.02)
    return started, proc


def test_killed_overcloud_create_is_resumed_with_one_cloud_object_per_resource(tmp_path,
                                                                               simcloud):
    state = tmp_path / 'state'
    state.mkdir()
    url = 'sqlite:///%s' % (tmp_path / 'heat.sqlite')
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nlegacy_heartbeat_interval = 1\n\n'
                      '[database]\nconnection = %s\n\n'
                      '%s' % (state, url, simcloud.config()))
    cli = cli_mod.Cli(config, state)
    # Kill it while the node stacks are being built: some servers requested, not all.
    _, proc = _create_until_servers(cli, simcloud, tmp_path)
    proc.kill()
    proc.wait(timeout=BOUND)
    assert _attachments(simcloud) < NODES     # not every node finished
    # Left IN_PROGRESS under the dead heartbeat: the overcloud, group stacks (depth 1) and
    # node stacks (depth 2).
    tree = overcloud.stack_tree(url, 'overcloud')
    busy = collections.Counter(s.nested_depth or 0 for s, _ in tree.values()
                               if s.status == 'IN_PROGRESS')
    assert busy[0] == 1 and busy[1] >= 1 and busy[2] >= 1, busy

    # The dead heartbeat goes stale after 3 x 1 s; until then the resume is refused as
    # still running (exit 2), which a retry rides out. (Node stacks begun after the
    # overcloud's last beat stay fresh a little longer: the resumed group waits for them.)
    result = cli.retry('stack', 'resume', '--wait', 'overcloud',
                       until=lambda r: r.returncode != 2, deadline=BOUND, pause=0.3)
    assert result.returncode == 0, result
    assert 'Stack overcloud CREATE_COMPLETE' in result.stderr, result
    _assert_created_once(cli, url, simcloud)
    _assert_deleted(cli, simcloud)


# -- the distributed path: a conductor killed -----------------------------------------------

SESSION_TIMEOUT = 4.0   # seconds a kill -9'd conductor's claims outlive it


def _held(conductor):
    """How many jobs a conductor's health file says it holds."""
    try:
        return len(json.loads(conductor.health.read_text()).get('jobs') or [])
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_overcloud_create_survives_a_conductor_killed_mid_create(tmp_path, simcloud,
                                                                 zookeeper):
    state = tmp_path / 'state'
    state.mkdir()
    url = 'sqlite:///%s' % (tmp_path / 'heat.sqlite')
    base = ('[DEFAULT]\nstate_dir = %s\nconvergence_engine = True\n\n'
            '[database]\nconnection = %s\n\n'
            '[jobboard]\nurl = zookeeper://%s/heat-taskflow-test/%s\nsession_timeout = %s\n'
            'connect_timeout = 20\n\n'
            # Every node's member action waits for its node stack inside a job: room for
            # all of them and the nodes' own resources on one conductor.
            '[conductor]\njobs = 16\nwait_timeout = 0.1\nhealth_interval = 0.2\n'
            'watchdog_interval = 1\n\n'
            '%s' % (state, url, zookeeper, uuid.uuid4().hex, SESSION_TIMEOUT,
                    simcloud.config()))
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text(base.replace('[cloud]', 'health_file =\n\n[cloud]'))
    cli = cli_mod.Cli(config, state)
    cli.manage('db', 'sync')
    conductors = []
    try:
        for n in range(2):
            conf = tmp_path / ('conductor-%d.conf' % n)
            health = tmp_path / ('conductor-%d.json' % n)
            conf.write_text(base.replace('[cloud]', 'health_file = %s\n\n[cloud]' % health))
            with open(tmp_path / ('conductor-%d.log' % n), 'wb') as log:
                proc = subprocess.Popen([cli_mod.script('heat-taskflow-conductor'),
                                         '--config-file', str(conf)],
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, env=cli.env)
            proc.health = health
            conductors.append(proc)

        started, proc = _create_until_servers(cli, simcloud, tmp_path)
        victim = max(conductors, key=_held)
        assert _held(victim) > 0
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=BOUND)
        assert _attachments(simcloud) < NODES     # not every node finished
        tree = overcloud.stack_tree(url, 'overcloud')
        busy = collections.Counter(s.nested_depth or 0 for s, _ in tree.values()
                                   if s.status == 'IN_PROGRESS')
        assert busy[0] == 1 and busy[1] >= 1 and busy[2] >= 1, busy

        # The survivor claims the dead conductor's jobs once its session expires.
        result = cli.finish(started, expect=None)
        logs = '\n'.join((tmp_path / ('conductor-%d.log' % n)).read_text(errors='replace')
                          [-3000:] for n in range(2))
        assert result.returncode == 0, '%r\n%s' % (result, logs)
        assert 'Stack overcloud CREATE_COMPLETE' in result.stderr, result
        _assert_created_once(cli, url, simcloud)
        _assert_deleted(cli, simcloud)
    finally:
        for conductor in conductors:
            if conductor.poll() is None:
                conductor.terminate()
        for conductor in conductors:
            try:
                conductor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                conductor.kill()
                conductor.wait()
