"""A cloud restart inside the [cloud] retry window fails no stack (docs/chaos.md).

The simulator is stopped, ``heat-taskflow -v stack create`` is started against it (the
legacy path), and once the command line says it is retrying a cloud call (its first
contact: authentication and version discovery, the very calls that used to fail as "the
cloud configuration does not work") the simulator is started again on its port and
database. The create completes. A network that does not exist is still refused with the
clear message, also when the lookup had to wait for the cloud.
"""

import threading

import pytest

from tests import simcloud as shared
from tests.functional import cli as cli_mod
from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

# About 17 s of retries: the simulator's start-up on a loaded machine fits.
# About 40 s of retries: room for the simulator's restart on a loaded machine.
RETRIES = 'retries = 22\nretry_delay = 0.5\nretry_max_delay = 2.0\n'

TEMPLATE = '''heat_template_version: 2018-08-31
parameters:
  external:
    type: string
    constraints:
      - custom_constraint: neutron.network
resources:
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: 10.20.0.0/24
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
'''


class Cloud(simcloud_mod.SimCloud):
    def config(self, cloud='simcloud'):
        return super().config(cloud).replace('retry_delay = 0.01\n', RETRIES)


@pytest.fixture
def process(tmp_path):
    proc = shared.Process(tmp_path / 'cloud', '--build-time', '0.05',
                          command=(cli_mod.script('heat-taskflow-simcloud'),))
    (tmp_path / 'cloud').mkdir()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _create_during_outage(tmp_path, process, external):
    cloud = Cloud(process.url, process.clouds_file)
    cli, _ = overcloud.heat(tmp_path, cloud)
    template = tmp_path / 'net.yaml'
    template.write_text(TEMPLATE)
    process.stop()
    started = cli.popen('-v', 'stack', 'create', '--wait', '-t', template,
                        '--parameter', 'external=%s' % external, 'outage')
    retrying = threading.Event()
    lines = []

    def read():
        for line in started[1].stderr:
            lines.append(line)
            if 'cloud: retrying after' in line:
                retrying.set()
        retrying.set()                # the command ended: the assertion below says how
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    retrying.wait(cli_mod.TIMEOUT)
    assert any('cloud: retrying after' in line for line in lines), ''.join(lines)
    process.start()                   # same port, same database
    # stderr is the reader's alone (communicate() would race it for the last lines).
    stdout = started[1].stdout.read()
    started[1].wait(timeout=cli_mod.TIMEOUT)
    reader.join(timeout=30)
    return cli, cloud, started[1].returncode, stdout, ''.join(lines)


def test_a_create_started_while_the_cloud_is_down_completes(tmp_path, process):
    cli, cloud, code, stdout, stderr = _create_during_outage(tmp_path, process, 'public')
    assert code == 0, stderr
    assert cli.value('stack', 'show', 'outage', column='stack_status') == 'CREATE_COMPLETE'
    made = simcloud_mod.requested(cloud.made())
    assert sorted(c['kind'] for c in made) == ['networks', 'ports', 'subnets']


def test_a_network_that_does_not_exist_is_refused_after_the_wait(tmp_path, process):
    cli, cloud, code, stdout, stderr = _create_during_outage(tmp_path, process, 'no-such-net')
    assert code != 0
    assert 'the cloud has no network "no-such-net"' in stderr, stderr
    assert simcloud_mod.requested(cloud.made()) == []
