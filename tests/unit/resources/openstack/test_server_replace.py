"""Replacing an OS::Nova::Server that is given a port, through the engine on both paths,
against the simulator: the new server is created before the old one is deleted, so the old
one lets go of the port first (prepare_for_replace) and takes it back when the replacement
fails and the update is rolled back (restore_prev_rsrc)."""

import pytest

from tests.unit.engine.helpers import paths_on, rows, sqlite_only, tmpl
from tests.unit.resources.openstack.conftest import create, plugin

CIRROS = 'cirros-0.6.2-x86_64-disk'
UBUNTU = 'ubuntu-24.04'


def stack(image, network):
    """A port on an existing network, and a server given that port and a network of its
    own (whose port Nova makes and keeps with the server)."""
    return tmpl({
        'port': {'type': 'OS::Neutron::Port', 'properties': {'network': network['net']}},
        'server': {'type': 'OS::Nova::Server', 'properties': {
            'image': image, 'flavor': 'm1.small', 'image_update_policy': 'REPLACE',
            'networks': [{'port': {'get_resource': 'port'}},
                         {'network': network['net']}]}},
    })


@pytest.fixture(params=['legacy', 'distributed'])
def paths(request, client, conf, database):
    with paths_on(request.param, conf, database) as on_path:
        yield on_path


def _created(paths, network, name):
    view = paths.create(name, stack(CIRROS, network), 't.yaml')
    assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
    stored = rows(paths, name)
    return stored['port'].physical_resource_id, stored['server'].physical_resource_id


def _nova_ports(conn, server_id, given):
    return [p for p in conn.network.ports(device_id=server_id) if p.id != given]


@sqlite_only
def test_a_server_given_a_port_is_replaced(paths, conn, network):
    port_id, old_id = _created(paths, network, 'replace-ok')
    made, = _nova_ports(conn, old_id, port_id)
    view = paths.update('replace-ok', stack(UBUNTU, network), 't.yaml')
    assert view['stack_status'] == 'UPDATE_COMPLETE', view['stack_status_reason']
    new_id = rows(paths, 'replace-ok')['server'].physical_resource_id
    assert new_id != old_id
    assert conn.network.get_port(port_id).device_id == new_id
    assert conn.compute.find_server(old_id) is None
    # The port Nova made for the old server went with it; the new one has its own.
    assert conn.network.find_port(made.id) is None
    assert len(_nova_ports(conn, new_id, port_id)) == 1
    assert conn.compute.get_server(new_id).image.id == conn.image.find_image(UBUNTU).id


@sqlite_only
def test_a_failed_replacement_gives_the_port_back_on_rollback(paths, client, conn, network):
    port_id, old_id = _created(paths, network, 'replace-fail')
    made, = _nova_ports(conn, old_id, port_id)
    client.faults(**{'servers.create': {'fail_next': 10}})
    view = paths.update('replace-fail', stack(UBUNTU, network), 't.yaml')
    client.admin('DELETE', 'faults')
    assert view['stack_status'] == 'ROLLBACK_COMPLETE', view['stack_status_reason']
    assert rows(paths, 'replace-fail')['server'].physical_resource_id == old_id
    assert conn.network.get_port(port_id).device_id == old_id
    assert [p.id for p in _nova_ports(conn, old_id, port_id)] == [made.id]
    assert conn.compute.get_server(old_id).status == 'ACTIVE'
    # The stack can be replaced after all once the cloud creates servers again.
    view = paths.update('replace-fail', stack(UBUNTU, network), 't.yaml')
    assert view['stack_status'] == 'UPDATE_COMPLETE', view['stack_status_reason']
    new_id = rows(paths, 'replace-fail')['server'].physical_resource_id
    assert conn.network.get_port(port_id).device_id == new_id


# -- the hooks on their own: converging, safe to run twice ----------------------------------


def _server_with_port(conn, network):
    port = conn.network.create_port(network_id=network['net'])
    props = {'image': CIRROS, 'flavor': 'm1.tiny', 'networks': [{'port': port.id}]}
    return create('OS::Nova::Server', props, name='server'), port.id, props


def test_the_hooks_converge_when_run_twice(client, conn, network):
    old, port_id, props = _server_with_port(conn, network)
    old.prepare_for_replace()
    old.prepare_for_replace()
    assert conn.network.get_port(port_id).device_id == ''
    failed = plugin('OS::Nova::Server', props, name='server')    # never created
    old.restore_prev_rsrc(failed)
    old.restore_prev_rsrc(failed)
    assert conn.network.get_port(port_id).device_id == old.physical_id


def test_restore_takes_the_port_from_a_replacement_that_holds_it(client, conn, network):
    old, port_id, props = _server_with_port(conn, network)
    old.prepare_for_replace()
    holder = create('OS::Nova::Server', props, name='server')
    assert conn.network.get_port(port_id).device_id == holder.physical_id
    old.restore_prev_rsrc(holder)
    assert conn.network.get_port(port_id).device_id == old.physical_id
    assert conn.network.get_port(port_id).device_id != holder.physical_id


def test_restore_unbinds_through_neutron_when_nova_refuses(client, conn, network):
    """A replacement still building (its create timed out) cannot detach in Nova (409):
    the port's binding is cleared through Neutron, the replacement being deleted next."""
    old, port_id, props = _server_with_port(conn, network)
    old.prepare_for_replace()
    client.faults(**{'servers.create': {'build_time': 60}})
    building = plugin('OS::Nova::Server', props, name='server')
    building.handle_create()
    assert conn.compute.get_server(building.physical_id).status == 'BUILD'
    old.restore_prev_rsrc(building)
    assert conn.network.get_port(port_id).device_id == old.physical_id
