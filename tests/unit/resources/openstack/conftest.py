"""A heat-taskflow-simcloud process for the OpenStack plugins, and helpers to drive them.

One simulator per test session (per pytest-xdist worker), reached exactly as a production
cloud is: through the ``simcloud`` entry of the ``clouds.yaml`` it writes, openstacksdk and
``resources.cloud.connection()``. Every test gets unique stack ids (so intent tokens, and the
audit, tell tests apart); faults, quotas, connections and the lookup cache are reset after
each test.
"""

import uuid

import pytest

from heat_taskflow.conf import CONF
from heat_taskflow.conf import cloud as cloud_conf
from heat_taskflow.resources import cloud, registry
from heat_taskflow.resources.types.openstack import common
from tests import simcloud as shared

# ``conf``: the engine's options at their defaults, for the tests that run whole stacks.
from tests.unit.engine.conftest import conf  # noqa: F401
from tests.unit.resources import fakes

CLOUD = 'simcloud'


@pytest.fixture(scope='session')
def simcloud(tmp_path_factory):
    """The simulator process of this session (a tests.simcloud.SimCloud)."""
    with shared.running(tmp_path_factory.mktemp('simcloud')) as process:
        yield process


OVERRIDES = {'cloud': CLOUD, 'retries': 3, 'retry_delay': 0.01, 'retry_max_delay': 0.05}


@pytest.fixture
def client(simcloud):
    """The simulator, with [cloud] pointing at it (cloud=simcloud, its clouds_file, quick
    retries); faults, quotas, connections and lookups are reset after the test."""
    for name, value in dict(OVERRIDES, clouds_file=simcloud.clouds_file).items():
        CONF.set_override(name, value, group='cloud')
    cloud.reset()
    common.forget_lookups()
    try:
        yield simcloud
    finally:
        simcloud.admin('DELETE', 'faults')
        quotas = simcloud.admin('GET', 'quotas')['quotas']
        simcloud.admin('PUT', 'quotas', {kind: None for kind in quotas})
        # Every [cloud] option: a test may override more than OVERRIDES (api_timeout).
        for opt in cloud_conf.cloud_opts:
            CONF.clear_override(opt.name, group='cloud')
        cloud.reset()
        common.forget_lookups()


@pytest.fixture
def conn(client):
    """The shared openstacksdk Connection of the simulator's admin project."""
    return cloud.connection()


def new_ctx(name='res', **kwargs):
    """A FakeContext with a stack id of its own (so audit queries see only this stack)."""
    ctx = fakes.FakeContext(name, **kwargs)
    ctx.stack_id = str(uuid.uuid4())
    return ctx


def plugin(type_name, properties, ctx=None, name='res', physical_id=None):
    """A plugin instance of a registered type over ``ctx`` (a fresh one by default)."""
    ctx = ctx if ctx is not None else new_ctx(name)
    if 'stack_id' not in ctx.__dict__:
        ctx.stack_id = str(uuid.uuid4())
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


def token_prefix(ctx):
    """The prefix of the intent tokens of the stack of ``ctx``."""
    return common.TOKEN_PREFIX + common.stack_hex(ctx.stack_id)


def creations(client, ctx, kind=None):
    """Audit entries of objects created for the stack of ``ctx`` (``kind``: servers,
    networks, ...)."""
    query = 'audit?token_prefix=%s' % token_prefix(ctx)
    if kind is not None:
        query += '&kind=%s' % kind
    return client.admin('GET', query)['creations']


@pytest.fixture
def network(conn):
    """A network with a subnet, an external network with a subnet, and a router between
    them, made directly with openstacksdk: ``{net, subnet, ext, ext_subnet, router}`` ids."""
    tag = uuid.uuid4().hex[:8]
    net = conn.network.create_network(name='net-%s' % tag)
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr='10.1.0.0/16',
                                        name='subnet-%s' % tag)
    ext = conn.network.create_network(name='ext-%s' % tag, is_router_external=True)
    ext_subnet = conn.network.create_subnet(network_id=ext.id, ip_version=4,
                                            cidr='172.30.0.0/16', name='extsub-%s' % tag)
    router = conn.network.create_router(name='router-%s' % tag,
                                        external_gateway_info={'network_id': ext.id})
    return {'net': net.id, 'subnet': subnet.id, 'ext': ext.id, 'ext_subnet': ext_subnet.id,
            'router': router.id}
