"""The TripleO-like example at its small size, deployed through the real command line.

heat-taskflow-simcloud runs as a process; heat-taskflow reads a config file naming its
clouds.yaml entry. Create; the audit shows exactly one creation per cloud resource of the
template; drift made behind the engine's back (the admin endpoint, or the cloud's own API) is
found by a stack check; delete leaves nothing behind.
"""

import json
import subprocess
import sys
import time

import pytest

from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

EXAMPLE = overcloud.EXAMPLE


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.05) as cloud:
        yield cloud


@pytest.fixture
def heat(tmp_path, simcloud):
    """Run heat-taskflow with a config file naming the simcloud; returns CompletedProcess."""
    cli, url = overcloud.heat(tmp_path, simcloud)

    def run(*args, check=True):
        result = cli(*args, expect=0 if check else None)
        return subprocess.CompletedProcess(result.argv, result.returncode, result.stdout,
                                           result.stderr)

    run.conf, run.url = cli.config_file, url
    return run


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
    made = overcloud.assert_created_once(simcloud, heat.url, 'overcloud',
                                         overcloud.expected(1, 2, 1))

    # Drift behind the engine's back: rename the ctlplane network (a top-level resource,
    # which a stack check observes), and, through the cloud's own APIs, delete a server
    # and resize a volume inside the nodes' nested stacks (which the delete must still
    # clean up after).
    conn = simcloud.connection()
    net = conn.network.find_network('ctlplane', ignore_missing=False)
    volume = next(c for c in made if c['kind'] == 'volumes')
    server = next(c for c in made if c['kind'] == 'servers')
    simcloud.admin('PATCH', 'networks/%s' % net.id, {'name': 'renamed'})
    simcloud.admin('PATCH', 'volumes/%s' % volume['id'], {'size': 999})
    conn.compute.delete_server(server['id'])
    checked = _check_stack(heat, heat.conf, 'overcloud')
    assert 'CHECK_FAILED' in checked.stdout, checked.stdout + checked.stderr
    reasons = {}
    for name in ('CtlplaneNetwork', 'Router', 'PublicNetwork'):
        shown = json.loads(heat('stack', 'resource', 'show', 'overcloud', name, '-f',
                                'json').stdout)
        reasons[name] = (shown.get('resource_status'), shown.get('resource_status_reason'))
    assert reasons['CtlplaneNetwork'][0] == 'CHECK_FAILED', reasons
    assert "name is 'renamed'" in reasons['CtlplaneNetwork'][1], reasons
    assert reasons['Router'][0] == 'CHECK_COMPLETE', reasons
    assert reasons['PublicNetwork'][0] == 'CHECK_COMPLETE', reasons

    heat('stack', 'delete', '--wait', 'overcloud')
    overcloud.assert_nothing_left(simcloud)


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
    compute = simcloud.connection().compute
    servers = {s.name: s.id for s in compute.servers()}
    gone, kept = servers['nested-server'], servers['kept-server']
    compute.delete_server(gone)     # behind the engine's back
    deadline = time.monotonic() + 30
    while compute.find_server(gone) is not None:
        assert time.monotonic() < deadline, 'server %s is not deleted' % gone
        time.sleep(0.05)

    checked = _check_stack(heat, heat.conf, 'nest')
    assert json.loads(checked.stdout)['stack_status'] == 'CHECK_FAILED', checked.stderr
    shown = json.loads(heat('stack', 'resource', 'show', 'nest', 'inner', '-f', 'json').stdout)
    assert shown['resource_status'] == 'CHECK_FAILED'
    assert "resource 'server'" in shown['resource_status_reason']
    assert gone in shown['resource_status_reason']
    assert "'keep'" not in shown['resource_status_reason']

    heat('stack', 'update', '--existing', '--converge', '--wait', 'nest')
    servers = {s.name: s.id for s in compute.servers()}
    assert servers['nested-server'] != gone          # recreated
    assert servers['kept-server'] == kept            # left alone
    assert set(servers) == {'nested-server', 'kept-server'}
