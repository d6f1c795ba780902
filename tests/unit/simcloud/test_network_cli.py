"""The real ``openstack`` CLI against the Neutron of a ``heat-taskflow-simcloud`` process."""

import json
import os
import subprocess
import sys

import openstack
import pytest

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def simcloud_process(tmp_path):
    """A heat-taskflow-simcloud process on a free port: (url, clouds.yaml path)."""
    clouds = tmp_path / 'clouds.yaml'
    proc = subprocess.Popen(
        [os.path.join(BIN, 'heat-taskflow-simcloud'), '--port', '0', '--db',
         str(tmp_path / 'cloud.sqlite'), '--clouds-yaml', str(clouds)],
        stdout=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert ready.startswith('simcloud ready at '), ready
        yield ready.split()[3], clouds
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def openstack_cli(simcloud_process):
    """``openstack_cli('network', 'list')``: the parsed ``-f json`` output of a command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_CLIENT_CONFIG_FILE'] = str(simcloud_process[1])

    def run(*args, cloud='simcloud'):
        done = subprocess.run([os.path.join(BIN, 'openstack'), '--os-cloud', cloud, *args,
                               '-f', 'json'], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return run


def test_network_and_port_list(simcloud_process, openstack_cli):
    conn = openstack.connect(auth_url=simcloud_process[0] + '/identity', username='admin',
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
    assert [n['Name'] for n in openstack_cli('network', 'list', cloud='simcloud-demo')] == \
        ['public']

    ports = openstack_cli('port', 'list', '--network', 'cli-net')
    assert [(p['ID'], p['Name']) for p in ports] == [(port.id, 'cli-port')]
    assert ports[0]['Fixed IP Addresses'] == [{'subnet_id': subnet.id,
                                               'ip_address': '10.9.0.2'}]
