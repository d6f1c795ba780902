"""The real ``openstack`` CLI against heat-taskflow-simcloud, configured by --clouds-yaml."""

import json
import os
import subprocess
import sys

import openstack
import pytest
import yaml

from tests.unit.simcloud.test_cmd import start, stop

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


@pytest.fixture
def cloud(tmp_path):
    """A simcloud process and its clouds.yaml: (clouds.yaml path, URL)."""
    clouds = str(tmp_path / 'clouds.yaml')
    proc, url = start(str(tmp_path / 'cloud.sqlite'), '--clouds-yaml', clouds)
    try:
        yield clouds, url
    finally:
        stop(proc)


def _cli(clouds, *args, cloud='simcloud'):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds)
    env = {k: v for k, v in env.items() if not k.startswith('OS_') or k ==
           'OS_CLIENT_CONFIG_FILE'}
    result = subprocess.run([OPENSTACK, '--os-cloud', cloud, *args, '-f', 'json'],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_clouds_yaml_names_both_users(cloud):
    clouds, url = cloud
    with open(clouds) as source:
        entries = yaml.safe_load(source)['clouds']
    assert entries['simcloud']['auth']['auth_url'] == url + '/identity'
    assert entries['simcloud-demo']['auth']['username'] == 'demo'
    assert {e['region_name'] for e in entries.values()} == {'RegionOne'}


def test_server_and_volume_commands(cloud, monkeypatch):
    clouds, url = cloud
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', clouds)
    conn = openstack.connect(cloud='simcloud')
    net = conn.network.create_network(name='private')
    conn.network.create_subnet(network_id=net.id, cidr='10.1.0.0/24', ip_version=4)
    conn.block_storage.create_volume(size=2, name='data')
    made = _cli(clouds, 'server', 'create', '--image', 'cirros-0.6.2-x86_64-disk',
                '--flavor', 'm1.tiny', '--network', 'private', '--wait', 'vm-1')
    assert made['status'] == 'ACTIVE'
    servers = _cli(clouds, 'server', 'list')
    assert [(s['Name'], s['Status'], s['Networks']) for s in servers] == [
        ('vm-1', 'ACTIVE', {'private': ['10.1.0.2']})]
    shown = _cli(clouds, 'server', 'show', 'vm-1')
    assert shown['id'] == made['id'] and shown['flavor']['name'] == 'm1.tiny'
    volumes = _cli(clouds, 'volume', 'list')
    assert [(v['Name'], v['Size'], v['Status']) for v in volumes] == [('data', 2, 'available')]
    assert _cli(clouds, 'server', 'list', cloud='simcloud-demo') == []
