"""The TripleO-like example at its small size, deployed through the real command line.

heat-taskflow-simcloud runs as a process; heat-taskflow reads a config file naming it.
Create; the audit shows exactly one creation per cloud resource of the template; drift made
through the admin endpoint is found by a stack check; delete leaves nothing behind.
"""

import collections
import json
import os
import pathlib
import subprocess
import sys
import urllib.request

import pytest

from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / 'examples' / 'tripleo'
BIN = pathlib.Path(sys.executable).parent
# Cloud objects of the small environment: 7 networking (2 nets, 2 subnets, router,
# interface, security group), 4 nodes of port + server + volume + attachment, 1 floating IP.
SMALL = {'networks': 2, 'subnets': 2, 'routers': 1, 'router_interfaces': 1,
         'security_groups': 1, 'ports': 4, 'servers': 4, 'volumes': 4,
         'volume_attachments': 4, 'floatingips': 1}


def _call(url, method='GET', body=None):
    request = urllib.request.Request(url, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path / 'simcloud.sqlite', build_time=0.05) as url:
        yield url


@pytest.fixture
def heat(tmp_path, simcloud):
    """Run heat-taskflow with a config file naming the simcloud; returns CompletedProcess."""
    conf = tmp_path / 'heat-taskflow.conf'
    conf.write_text('[DEFAULT]\nstate_dir = %s\n[database]\nconnection = sqlite:///%s\n'
                    '[cloud]\nurl = %s\nretry_delay = 0.01\n'
                    % (tmp_path, tmp_path / 'heat.sqlite', simcloud))
    env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(tmp_path))
    subprocess.run([str(BIN / 'heat-taskflow-manage'), '--config-file', str(conf), 'db',
                    'sync'], check=True, env=env, capture_output=True, timeout=60)

    def run(*args, check=True):
        result = subprocess.run([str(BIN / 'heat-taskflow'), '--config-file', str(conf),
                                 *args], env=env, capture_output=True, text=True, timeout=180)
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    run.conf = conf
    return run


def _live(audit):
    return [c for c in audit['creations'] if c['deleted_at'] is None]


def _top_level(creations):
    # Objects the plugins asked for; Neutron's own (router ports, rules) carry TOKEN#suffix.
    return [c for c in creations if c['token'] and '#' not in c['token']]


def _check_stack(heat, simcloud_conf, name):
    """A stack check, through the command line when it has one, else the engine's service."""
    result = heat('stack', 'check', name, '--wait', check=False)
    if 'Unknown command' not in result.stderr and result.returncode != 2:
        return heat('stack', 'show', name, '-f', 'json', check=False)
    code = ('import json, sys\n'
            'from heat_taskflow.conf import CONF\n'
            'from heat_taskflow.engine.service import StackService\n'
            'CONF([], project="heat-taskflow", default_config_files=[sys.argv[1]])\n'
            'service = StackService(CONF)\n'
            'service.check_stack(sys.argv[2])\n'
            'stack = service.wait(sys.argv[2])\n'
            'print(json.dumps(stack, default=str))\n')
    return subprocess.run([sys.executable, '-c', code, str(simcloud_conf), name],
                          capture_output=True, text=True, timeout=180)


def test_small_overcloud_create_audit_drift_delete(heat, simcloud):
    heat('stack', 'create', '--wait', '-t', str(EXAMPLE / 'overcloud.yaml'),
         '-e', str(EXAMPLE / 'environments' / 'small.yaml'), 'overcloud')
    stack = json.loads(heat('stack', 'show', 'overcloud', '-f', 'json').stdout)
    assert stack['stack_status'] == 'CREATE_COMPLETE'
    outputs = {o['output_key']: o['output_value'] for o in stack['outputs']}
    assert len(outputs['compute_ips']) == 2 and len(outputs['controller_public_ips']) == 1
    assert set(outputs['compute_hosts']) == {'overcloud-novacompute-0',
                                             'overcloud-novacompute-1'}

    # Exactly one creation per cloud resource of the template, and no token used twice.
    audit = _call(simcloud + '/admin/audit')
    assert audit['summary']['duplicate_tokens'] == {}
    made = _top_level(audit['creations'])
    assert collections.Counter(c['kind'] for c in made) == SMALL
    per_resource = collections.Counter(c['token'].rsplit('/', 1)[0] for c in made)
    assert set(per_resource.values()) == {1}

    # Drift behind the engine's back: rename the ctlplane network and delete the router
    # (top-level resources, which a stack check observes), and delete a server and resize a
    # volume inside the nodes' nested stacks (which the delete must still clean up after).
    net = _call(simcloud + '/v1/networks?name=ctlplane')['networks'][0]
    router = _call(simcloud + '/v1/routers?name=overcloud-router')['routers'][0]
    volume = next(c for c in made if c['kind'] == 'volumes')
    server = next(c for c in made if c['kind'] == 'servers')
    _call(simcloud + '/admin/networks/%s' % net['id'], 'PATCH', {'name': 'renamed'})
    _call(simcloud + '/admin/routers/%s' % router['id'], 'DELETE')
    _call(simcloud + '/admin/volumes/%s' % volume['id'], 'PATCH', {'size': 999})
    _call(simcloud + '/admin/servers/%s' % server['id'], 'DELETE')
    checked = _check_stack(heat, heat.conf, 'overcloud')
    assert 'CHECK_FAILED' in checked.stdout, checked.stdout + checked.stderr
    reasons = {}
    for name in ('CtlplaneNetwork', 'Router', 'PublicNetwork'):
        shown = json.loads(heat('stack', 'resource', 'show', 'overcloud', name, '-f',
                                'json').stdout)
        reasons[name] = (shown.get('resource_status'), shown.get('resource_status_reason'))
    assert reasons['CtlplaneNetwork'][0] == 'CHECK_FAILED', reasons
    assert "name is 'renamed'" in reasons['CtlplaneNetwork'][1], reasons
    assert reasons['Router'][0] == 'CHECK_FAILED', reasons
    assert 'routers %s no longer exists' % router['id'] in reasons['Router'][1], reasons
    assert reasons['PublicNetwork'][0] == 'CHECK_COMPLETE', reasons

    heat('stack', 'delete', '--wait', 'overcloud')
    audit = _call(simcloud + '/admin/audit')
    assert _live(audit) == [], _live(audit)
    assert audit['summary']['duplicate_tokens'] == {}


NESTED_SERVER = '''
heat_template_version: 2018-08-31
resources:
  inner:
    type: OS::Heat::Stack
    properties:
      template: |
        heat_template_version: 2018-08-31
        resources:
          server:
            type: OS::Nova::Server
            properties: {name: nested-server, flavor: m1.small, image: overcloud-full}
          keep:
            type: OS::Nova::Server
            properties: {name: kept-server, flavor: m1.small, image: overcloud-full}
'''


def test_drift_inside_a_nested_stack_is_checked_and_converged(heat, simcloud, tmp_path):
    template = tmp_path / 'nested.yaml'
    template.write_text(NESTED_SERVER)
    heat('stack', 'create', '--wait', '-t', str(template), 'nest')
    servers = {s['name']: s for s in _call(simcloud + '/v1/servers')['servers']}
    gone, kept = servers['nested-server'], servers['kept-server']
    _call(simcloud + '/admin/servers/%s' % gone['id'], 'DELETE')     # behind the engine

    checked = _check_stack(heat, heat.conf, 'nest')
    assert json.loads(checked.stdout)['stack_status'] == 'CHECK_FAILED', checked.stderr
    shown = json.loads(heat('stack', 'resource', 'show', 'nest', 'inner', '-f', 'json').stdout)
    assert shown['resource_status'] == 'CHECK_FAILED'
    assert "resource 'server'" in shown['resource_status_reason']
    assert 'servers %s no longer exists' % gone['id'] in shown['resource_status_reason']
    assert "'keep'" not in shown['resource_status_reason']

    heat('stack', 'update', '--existing', '--converge', '--wait', 'nest')
    servers = {s['name']: s for s in _call(simcloud + '/v1/servers')['servers']}
    assert servers['nested-server']['id'] != gone['id']          # recreated
    assert servers['kept-server']['id'] == kept['id']              # left alone
    assert set(servers) == {'nested-server', 'kept-server'}
