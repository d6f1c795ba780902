"""The TripleO-like example (examples/tripleo) through its whole life on a cloud, through the
real command line and the openstacksdk driver, on both paths (legacy; distributed on the
in-process zake job board).

Create (1 controller, 2 computes, 1 Ceph node); update: scale the computes out to 3; update:
scale them in to 1; delete. After each step the simulator's audit holds exactly one live
object per cloud resource of the stack's tree, each the physical resource of its template
resource, no token used twice; the delete leaves nothing.

A replaced server: the Ceph node's user_data changes, so its server is replaced (Heat's
user_data_update_policy REPLACE) on the port its node stack made. The replacement is created
before the old server is deleted, and Nova binds a port to one server only, so the old
server's given ports are detached first (Server.prepare_for_replace, as Heat).
"""

import collections

import pytest

from tests.functional import cli as cli_mod
from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

USER_DATA = '#cloud-config\nhostname: ceph-v2\n'


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.05) as cloud:
        yield cloud


def _servers(cloud):
    return {s.name: s.id for s in cloud.connection().compute.servers()}


def _deploy(cli, action, env):
    cli('stack', action, '--wait', '-t', overcloud.TEMPLATE, '-e', env, 'overcloud')
    shown = cli.json('stack', 'show', 'overcloud')
    assert shown['stack_status'] == '%s_COMPLETE' % action.upper(), \
        shown['stack_status_reason']
    return cli_mod.outputs(shown)


@pytest.mark.parametrize('path', ['legacy', 'distributed'])
def test_overcloud_create_scale_out_scale_in_delete(tmp_path, simcloud, path):
    cli, url = overcloud.heat(tmp_path, simcloud, path)

    outputs = _deploy(cli, 'create', overcloud.environment(tmp_path / 'e1.yaml', 1, 2, 1))
    assert len(outputs['compute_ips']) == 2 and len(outputs['controller_public_ips']) == 1
    overcloud.assert_created_once(simcloud, url, 'overcloud', overcloud.expected(1, 2, 1))
    before = _servers(simcloud)
    assert set(before) == {'overcloud-controller-0', 'overcloud-novacompute-0',
                           'overcloud-novacompute-1', 'overcloud-cephstorage-0'}

    # Scale out: one node more, the others left alone.
    outputs = _deploy(cli, 'update', overcloud.environment(tmp_path / 'e2.yaml', 1, 3, 1))
    assert len(outputs['compute_ips']) == 3
    made = overcloud.assert_created_once(simcloud, url, 'overcloud',
                                         overcloud.expected(1, 3, 1))
    after = _servers(simcloud)
    assert after == dict(before, **{'overcloud-novacompute-2': after['overcloud-novacompute-2']})

    # Scale in: nothing created, the removed nodes' objects deleted.
    outputs = _deploy(cli, 'update', overcloud.environment(tmp_path / 'e3.yaml', 1, 1, 1))
    assert len(outputs['compute_ips']) == 1
    assert len(overcloud.assert_converged(simcloud, url, 'overcloud',
                                          overcloud.expected(1, 1, 1))) == len(made)
    assert set(_servers(simcloud)) == {'overcloud-controller-0', 'overcloud-novacompute-0',
                                       'overcloud-cephstorage-0'}

    cli('stack', 'delete', '--wait', 'overcloud')
    overcloud.assert_nothing_left(simcloud)
    assert _servers(simcloud) == {}


def test_overcloud_server_replaced_by_a_user_data_change(tmp_path, simcloud):
    cli, url = overcloud.heat(tmp_path, simcloud)
    _deploy(cli, 'create', overcloud.environment(tmp_path / 'e1.yaml', 0, 1, 1))
    before = _servers(simcloud)

    _deploy(cli, 'update', overcloud.environment(tmp_path / 'e2.yaml', 0, 1, 1,
                                                 CephStorageUserData=USER_DATA))
    made = overcloud.assert_converged(simcloud, url, 'overcloud', overcloud.expected(0, 1, 1))
    after = _servers(simcloud)
    assert after['overcloud-cephstorage-0'] != before['overcloud-cephstorage-0']
    assert after['overcloud-novacompute-0'] == before['overcloud-novacompute-0']
    replaced = [c for c in made if c['id'] == before['overcloud-cephstorage-0']]
    assert len(replaced) == 1 and replaced[0]['deleted_at'] is not None
    assert collections.Counter(c['kind'] for c in made)['servers'] == 3

    cli('stack', 'delete', '--wait', 'overcloud')
    overcloud.assert_nothing_left(simcloud)
