"""stack resume with real processes: a legacy `stack create` killed with kill -9 mid-way is
finished by `stack resume NAME --wait`, and every physical create happened exactly once.

The template is layers of ``OS::Heat::TestLedger`` resources (each create takes a moment and
writes one ledger line per physical creation; a re-run that finds its creation done writes
``adopt`` instead). The create is killed once part of the stack exists; the resume must
neither create anything twice nor run again the resources that had completed.
"""

import collections
import time

import pytest
import yaml

from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as database_mod
from heat_taskflow.resources.types.test_ledger import read_ledger
from tests.functional import cli as cli_mod
from tests.functional import simcloud as simcloud_mod

pytestmark = [pytest.mark.functional]

LAYERS, WIDTH = 3, 4
WAIT_SECS = 0.4
BOUND = 60.0          # seconds: a guard against hangs, never a measurement


def template(ledger):
    resources = {}
    for layer in range(LAYERS):
        for i in range(WIDTH):
            res = {'type': 'OS::Heat::TestLedger',
                   'properties': {'ledger': str(ledger), 'value': 'r%d_%d' % (layer, i),
                                  'create_wait_secs': WAIT_SECS}}
            if layer:
                res['depends_on'] = ['r%d_%d' % (layer - 1, i),
                                     'r%d_%d' % (layer - 1, (i + 1) % WIDTH)]
            resources['r%d_%d' % (layer, i)] = res
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources})


def creates(ledger):
    return [line['resource'] for line in read_ledger(str(ledger)) if line['event'] == 'create']


def test_resume_finishes_a_killed_legacy_create_creating_everything_once(tmp_path):
    state = tmp_path / 'state'
    state.mkdir()
    url = 'sqlite:///%s' % (tmp_path / 'heat-taskflow.sqlite')
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nlegacy_heartbeat_interval = 0.2\n\n'
                      '[database]\nconnection = %s\n' % (state, url))
    cli = cli_mod.Cli(config, state)
    ledger = tmp_path / 'ledger.jsonl'
    path = tmp_path / 'layers.yaml'
    path.write_text(template(ledger))

    started = cli.popen('stack', 'create', '-t', path, '--wait', 'killed')
    argv, proc = started
    deadline = time.monotonic() + BOUND
    # Kill it once the first layer exists and the second is being created.
    while len(creates(ledger)) < WIDTH + 1:
        assert proc.poll() is None, cli.finish(started, expect=None)
        assert time.monotonic() < deadline, 'the create never got going'
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=BOUND)

    database = database_mod.Database(url)
    try:
        stack = db.stack_get_by_name(database, 'killed', 'default')
        assert (stack.action, stack.status) == ('CREATE', 'IN_PROGRESS')
        done = {r.name for r in db.resource_list(database, stack.id) if r.status == 'COMPLETE'}
        # A second-layer create had begun: the two resources it requires were complete
        # (the rest of the first layer may still have been running).
        assert len(done) >= 2, done

        # The dead process's heartbeat goes stale after 3 x 0.2 s: until then the resume
        # is refused as still running (exit 2), which a quick retry rides out.
        result = cli.retry('stack', 'resume', '--wait', 'killed',
                           until=lambda r: r.returncode != 2, deadline=BOUND, pause=0.3)
        assert result.returncode == 0, result
        assert 'Stack killed CREATE_COMPLETE' in result.stderr

        names = {'r%d_%d' % (layer, i) for layer in range(LAYERS) for i in range(WIDTH)}
        made = creates(ledger)
        assert sorted(made) == sorted(names), made          # every one exactly once
        events = [(e.resource_name, e.resource_status) for e in db.event_list(database,
                                                                              stack.id)]
        for name in done:       # completed before the kill: not run again
            assert events.count((name, 'IN_PROGRESS')) == 1, name
        row = db.stack_get(database, stack.id)
        assert (row.status, row.engine_id) == ('COMPLETE', None)
    finally:
        database.engine.dispose()

    refused = cli('stack', 'resume', 'killed', expect=2)
    assert 'stack "killed" is CREATE_COMPLETE: nothing to resume' in refused.stderr


# -- issue 7: the same against the simulated cloud --------------------------------------------

NODES = 6


def cloud_template():
    resources = {
        'net': {'type': 'OS::Neutron::Net', 'properties': {'name': 'ctlplane'}},
        'subnet': {'type': 'OS::Neutron::Subnet',
                   'properties': {'name': 'ctlplane-subnet', 'network': {'get_resource': 'net'},
                                  'cidr': '192.168.0.0/20'}},
    }
    for i in range(NODES):
        resources['port%d' % i] = {
            'type': 'OS::Neutron::Port',
            'properties': {'name': 'node%d-ctlplane' % i, 'network': {'get_resource': 'net'},
                           'fixed_ips': [{'subnet': {'get_resource': 'subnet'}}]}}
        resources['server%d' % i] = {
            'type': 'OS::Nova::Server',
            'properties': {'name': 'node%d' % i, 'image': 'overcloud-full',
                           'flavor': 'compute',
                           'networks': [{'port': {'get_resource': 'port%d' % i}}]}}
    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': resources})


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.5) as cloud:
        yield cloud


def test_resume_of_a_killed_create_on_the_simcloud_makes_each_resource_once(tmp_path,
                                                                           simcloud):
    state = tmp_path / 'state'
    state.mkdir()
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nlegacy_heartbeat_interval = 0.2\n\n'
                      '[database]\nconnection = sqlite:///%s\n\n%s'
                      % (state, tmp_path / 'heat.sqlite', simcloud.config()))
    cli = cli_mod.Cli(config, state)
    path = tmp_path / 'nodes.yaml'
    path.write_text(cloud_template())

    started = cli.popen('stack', 'create', '-t', path, '--wait', 'nodes')
    _, proc = started
    deadline = time.monotonic() + BOUND

    # Kill it while servers are being built (requested, not ACTIVE yet for most).
    while not simcloud.audit('servers')['creations']:
        assert proc.poll() is None, cli.finish(started, expect=None)
        assert time.monotonic() < deadline, 'the create never reached the servers'
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=BOUND)
    assert cli.value('stack', 'show', 'nodes', column='stack_status') == \
        'CREATE_IN_PROGRESS'

    result = cli.retry('stack', 'resume', '--wait', 'nodes',
                       until=lambda r: r.returncode != 2, deadline=BOUND, pause=0.3)
    assert result.returncode == 0, result
    assert 'Stack nodes CREATE_COMPLETE' in result.stderr

    # One creation per resource, each its resource's physical id; the stack's token prefix
    # selects them all.
    stack_id = cli.value('stack', 'show', 'nodes', column='id')
    audit = simcloud.audit(token_prefix=simcloud_mod.stack_prefix(stack_id))
    assert audit['summary']['duplicate_tokens'] == {}
    made = simcloud_mod.requested(audit['creations'])
    assert collections.Counter(c['kind'] for c in made) == \
        {'networks': 1, 'subnets': 1, 'ports': NODES, 'servers': NODES}
    database = database_mod.Database('sqlite:///%s' % (tmp_path / 'heat.sqlite'))
    try:
        rows = db.resource_list(database, stack_id, current_only=True)
    finally:
        database.engine.dispose()
    assert len(made) == len(rows) == 2 + 2 * NODES
    assert {c['id'] for c in made} == {r.physical_resource_id for r in rows}
