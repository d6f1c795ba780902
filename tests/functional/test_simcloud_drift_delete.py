"""A stack delete after objects were removed behind the engine's back ends, through the real
command line against the simulator (examples/server_with_network.yaml).

The simulator's admin DELETE removes an object with no checks, as nothing in a real cloud
would: a router leaves its interface port, a server leaves its volume in-use. Both deletes
used to wait for ever (until the stack timeout): the RouterInterface for the interface port,
the VolumeAttachment for the volume to become available.
"""

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


def _created(tmp_path, cloud):
    cli, _ = overcloud.heat(tmp_path, cloud)
    cli('stack', 'create', '--wait', '-t', EXAMPLE, '--parameter', 'name=web', 'web')
    ids = {r['resource_name']: r['physical_resource_id']
           for r in cli.json('stack', 'resource', 'list', 'web')}
    return cli, ids


def test_a_router_removed_behind_the_engines_back(tmp_path, simcloud):
    cli, ids = _created(tmp_path, simcloud)
    simcloud.admin('DELETE', 'routers/%s' % ids['router'])
    cli('stack', 'delete', '--wait', 'web')
    # Nothing the stack asked for is left: the interface port the router left was deleted,
    # so the subnet and the network could go.
    assert simcloud_mod.live(simcloud_mod.requested(simcloud.made())) == []
    conn = simcloud.connection()
    assert list(conn.network.ports(network_id=ids['network'])) == []


def test_a_server_removed_behind_the_engines_back(tmp_path, simcloud):
    cli, ids = _created(tmp_path, simcloud)
    simcloud.admin('DELETE', 'servers/%s' % ids['server'])
    result = cli('stack', 'delete', '--wait', 'web', expect=None)
    states = {r['resource_name']: r['resource_status']
              for r in cli.json('stack', 'resource', 'list', 'web')}
    # The attachment is gone with its server; the volume it left in-use cannot be deleted
    # (Cinder refuses, as Heat's delete of an in-use volume fails): the delete ends, FAILED
    # on the volume alone, with Cinder's message (what comes after it is not started).
    assert 'volume_attachment' not in states and 'server' not in states, (states, result)
    assert [n for n, s in states.items() if s.endswith('FAILED')] == ['volume'], result
    assert states['volume'] == 'DELETE_FAILED', (states, result)
    assert "resource 'volume': delete of volume failed" in result.stderr, result
    assert 'Invalid volume' in result.stderr, result
