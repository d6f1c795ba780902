"""The real ``openstack`` CLI (python-openstackclient) against the simulator's Neutron."""

import json
import os
import subprocess
import sys

import openstack
import pytest

CLOUDS_YAML = """clouds:
  simcloud:
    auth:
      auth_url: %s/identity
      username: admin
      password: password
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
"""


@pytest.fixture
def openstack_cli(simcloud, tmp_path):
    """``openstack_cli('network', 'list')``: the parsed ``-f json`` output of a command."""
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(CLOUDS_YAML % simcloud.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_CLIENT_CONFIG_FILE'] = str(clouds)

    def run(*args):
        done = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'openstack'),
             '--os-cloud', 'simcloud', *args, '-f', 'json'],
            env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return run


def test_network_and_port_list(simcloud, openstack_cli):
    conn = openstack.connect(auth_url=simcloud.url + '/identity', username='admin',
                             password='password', project_name='admin',
                             user_domain_name='Default', project_domain_name='Default')
    net = conn.network.create_network(name='cli-net', tags=['blue'])
    subnet = conn.network.create_subnet(network_id=net.id, cidr='10.9.0.0/24', ip_version=4)
    port = conn.network.create_port(network_id=net.id, name='cli-port')

    networks = {n['Name']: n for n in openstack_cli('network', 'list')}
    assert set(networks) == {'cli-net', 'public'}
    assert networks['cli-net']['ID'] == net.id
    assert networks['cli-net']['Subnets'] == [subnet.id]
    assert [n['Name'] for n in openstack_cli('network', 'list', '--tags', 'blue')] == \
        ['cli-net']

    ports = openstack_cli('port', 'list', '--network', 'cli-net')
    assert [(p['ID'], p['Name']) for p in ports] == [(port.id, 'cli-port')]
    assert ports[0]['Fixed IP Addresses'] == [{'subnet_id': subnet.id,
                                               'ip_address': '10.9.0.2'}]
