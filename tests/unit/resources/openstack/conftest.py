"""A heat-taskflow-simcloud process for the OpenStack plugins, and helpers to drive them.

One process per test session (per pytest-xdist worker); every test gets unique stack ids,
so tests share the cloud without seeing each other's objects in the audit.
"""

import re
import signal
import subprocess
import sys
import uuid

import pytest

from heat_taskflow.conf import CONF
from heat_taskflow.resources import cloud, registry
from tests.unit.resources import fakes

READY = re.compile(r'simcloud ready at (http://127\.0\.0\.1:\d+)')


@pytest.fixture(scope='session')
def simcloud_url(tmp_path_factory):
    db_path = tmp_path_factory.mktemp('simcloud') / 'cloud.sqlite'
    proc = subprocess.Popen([sys.executable, '-m', 'heat_taskflow.cmd.simcloud', '--port', '0',
                             '--db', str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = READY.match(line)
        assert match, 'simcloud did not start: %r' % line
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def client(simcloud_url):
    """The plugins' CloudClient, configured for the simcloud process; faults reset after."""
    CONF.set_override('url', simcloud_url, group='cloud')
    CONF.set_override('retries', 3, group='cloud')
    CONF.set_override('retry_delay', 0.01, group='cloud')
    cloud.reset()
    try:
        yield cloud.fetch()
    finally:
        cloud.fetch().admin('DELETE', 'faults')
        cloud.fetch().admin('PUT', 'quotas', {k: None for k in ('servers', 'volumes',
                                                                 'networks', 'ports')})
        CONF.clear_override('url', group='cloud')
        CONF.clear_override('retries', group='cloud')
        CONF.clear_override('retry_delay', group='cloud')
        cloud.reset()


def new_ctx(name='res', **kwargs):
    """A FakeContext with a stack id of its own (so audit queries see only this stack)."""
    ctx = fakes.FakeContext(name, **kwargs)
    ctx.stack_id = uuid.uuid4().hex
    return ctx


def plugin(type_name, properties, ctx=None, name='res', physical_id=None):
    """A plugin instance of a registered type over ``ctx`` (a fresh one by default)."""
    ctx = ctx if ctx is not None else new_ctx(name)
    if 'stack_id' not in ctx.__dict__:
        ctx.stack_id = uuid.uuid4().hex
    if physical_id is None:
        physical_id = ctx.data.get('__physical_id__')
    res = registry.get_class(type_name)(name, properties, ctx, physical_id=physical_id)
    res.validate()
    return res


def create(type_name, properties, ctx=None, name='res'):
    """Create a resource to the end; returns the plugin."""
    res = plugin(type_name, properties, ctx, name)
    fakes.run_to_end(res.handle_create, res.check_create_complete, res.ctx, max_polls=500)
    return res


def update(res, properties):
    """Update in place to the end (asserting no replacement is needed); the plugin."""
    assert not res.update_requires_replacement(properties)
    cookie = res.handle_update(properties)
    fakes.run_to_end(lambda: cookie, res.check_update_complete, res.ctx, max_polls=500)
    return res


def delete(res):
    """Delete to the end."""
    fakes.run_to_end(res.handle_delete, res.check_delete_complete, res.ctx, max_polls=500)


def creations(client, ctx, kind=None):
    """Audit entries of objects created for the stack of ``ctx``."""
    query = 'audit?token_prefix=%s/' % ctx.stack_id
    if kind is not None:
        query += '&kind=%s' % kind
    return client.admin('GET', query)['creations']


@pytest.fixture
def network(client):
    """A network with a subnet, an external network with a subnet, a router between them."""
    ctx = new_ctx('base')
    net = create('OS::Neutron::Net', {'name': 'n-%s' % ctx.stack_id[:8]}, ctx, 'net')
    subnet = create('OS::Neutron::Subnet', {'network': net.physical_id,
                                            'cidr': '10.1.0.0/16'}, new_ctx(), 'subnet')
    ext = create('OS::Neutron::Net', {'value_specs': {'router:external': True}}, new_ctx(),
                 'ext')
    ext_subnet = create('OS::Neutron::Subnet', {'network': ext.physical_id,
                                                'cidr': '172.30.0.0/16'}, new_ctx(), 'extsub')
    router = create('OS::Neutron::Router', {'external_gateway_info': {
        'network': ext.physical_id}}, new_ctx(), 'router')
    return {'net': net.physical_id, 'subnet': subnet.physical_id, 'ext': ext.physical_id,
            'ext_subnet': ext_subnet.physical_id, 'router': router.physical_id}
