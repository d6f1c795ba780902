"""The OpenStack client against the simulator, after heat-taskflow built on it.

examples/server_with_network.yaml (a network, a subnet, a router with a gateway and an
interface, a security group, a port, a server with a volume attached, a floating IP) is
created through the command line and the openstacksdk driver; then the unmodified
``openstack`` command (python-openstackclient, in a subprocess, reading the simulator's
clouds.yaml through OS_CLIENT_CONFIG_FILE as it would a real cloud's) lists the servers,
networks and volumes and shows the server by name.
"""

import json
import subprocess

import pytest

from tests.functional import cli as cli_mod
from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

EXAMPLE = cli_mod.EXAMPLES / 'server_with_network.yaml'


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.05) as cloud:
        yield cloud


def _openstack(cloud, *args):
    result = subprocess.run([cli_mod.script('openstack'), *args, '-f', 'json'],
                            env=cloud.env(), capture_output=True, text=True,
                            timeout=cli_mod.TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_openstack_commands_show_what_a_stack_built(tmp_path, simcloud):
    cli, _ = overcloud.heat(tmp_path, simcloud)
    cli('stack', 'create', '--wait', '-t', EXAMPLE, '--parameter', 'name=web', 'web')
    outputs = cli_mod.outputs(cli.json('stack', 'show', 'web'))
    volume_id = outputs['volume']

    servers = {s['Name']: s for s in _openstack(simcloud, 'server', 'list')}
    assert set(servers) == {'web-server'}
    assert servers['web-server']['Status'] == 'ACTIVE'
    assert 'web-net' in str(servers['web-server']['Networks'])

    networks = {n['Name']: n for n in _openstack(simcloud, 'network', 'list')}
    assert 'web-net' in networks
    subnet_ids = networks['web-net']['Subnets']
    assert len(subnet_ids) == 1, networks['web-net']

    volumes = {v['ID']: v for v in _openstack(simcloud, 'volume', 'list')}
    assert volumes[volume_id]['Name'] == 'web-data'
    assert volumes[volume_id]['Status'] == 'in-use'
    assert volumes[volume_id]['Size'] == 1

    shown = _openstack(simcloud, 'server', 'show', 'web-server')
    assert shown['name'] == 'web-server'
    assert shown['status'] == 'ACTIVE'
    assert outputs['server_ip'] in str(shown['addresses'])
    assert outputs['floating_ip'] in str(shown['addresses'])
    assert volume_id in str(shown['volumes_attached'])

    cli('stack', 'delete', '--wait', 'web')
    assert _openstack(simcloud, 'server', 'list') == []
    assert 'web-net' not in {n['Name'] for n in _openstack(simcloud, 'network', 'list')}
    assert volume_id not in {v['ID'] for v in _openstack(simcloud, 'volume', 'list')}
