"""CloudResource (resources/types/openstack/common.py) against the simulator, through a
minimal server plugin written here: intent tokens, first run and re-run, polling with faults
and the deadline, idempotent delete, check and drift, and the lookup cache."""

import re
import uuid

import pytest
import yaml

from heat_taskflow.conf import CONF
from heat_taskflow.resources import cloud
from heat_taskflow.resources import properties as props
from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from heat_taskflow.resources.types.openstack import common, constraints
from heat_taskflow.template import StackDefinition, Template, TemplateError
from tests.unit.resources import fakes
from tests.unit.resources.openstack.conftest import creations, new_ctx


class MiniServer(common.CloudResource):
    """Just enough of a server to exercise the base."""

    kind = 'server'
    ready_status = 'ACTIVE'
    properties_schema = {'name': props.Schema(props.Schema.STRING, update_allowed=True),
                         'flavor': props.Schema(props.Schema.STRING, default='m1.tiny')}
    observed = {'name': 'name'}

    def create_object(self, token):
        image = next(iter(self.conn.image.images()))
        return self.conn.compute.create_server(
            name=self.properties['name'], flavor_id=self.lookup('flavor',
                                                                self.properties['flavor']).id,
            image_id=image.id, networks='none', tags=[token])

    def find_by_token(self, token):
        return next(iter(self.conn.compute.servers(tags=token)), None)

    def get_object(self, physical_id):
        return self.conn.compute.get_server(physical_id)

    def delete_object(self, physical_id):
        self.conn.compute.delete_server(physical_id)

    def update_object(self, prop_diff):
        self.conn.compute.update_server(self.physical_id, name=self.properties['name'])

    def fault_of(self, obj):
        return (obj.fault or {}).get('message')


def make(ctx, name='srv', **properties):
    return MiniServer('srv', dict({'name': name}, **properties), ctx,
                      physical_id=ctx.data.get('__physical_id__'))


def run_create(res):
    fakes.run_to_end(res.handle_create, res.check_create_complete, res.ctx, max_polls=500)


def run_delete(res):
    fakes.run_to_end(res.handle_delete, res.check_delete_complete, res.ctx, max_polls=500)


def calls(client, op):
    return client.admin('GET', 'calls').get(op, 0)


def test_token_format():
    token = common.make_token('6f1c2a4e-5b3d-4c2e-9a1f-0123456789ab')
    assert re.fullmatch(r'htf-6f1c2a4e5b3d4c2e9a1f0123456789ab-[0-9a-f]{16}', token)
    assert len(token) <= 60 and '/' not in token and ',' not in token
    assert re.fullmatch(r'htf-[0-9a-f]{32}-[0-9a-f]{16}', common.make_token('stack-id-1'))


def test_first_run_creates_without_a_lookup_and_records_at_once(client):
    ctx = new_ctx()
    before = calls(client, 'servers.list')
    res = make(ctx)
    run_create(res)
    assert calls(client, 'servers.list') == before
    made = creations(client, ctx, 'servers')
    assert [m['id'] for m in made] == [res.physical_id] == ctx.physical_ids
    assert made[0]['token'] == ctx.data[common.TOKEN_KEY]
    run_delete(res)


def test_a_rerun_after_a_crash_before_set_physical_id_adopts(client):
    ctx = new_ctx()
    run_create(make(ctx))
    del ctx.data['__physical_id__']            # the crash came before set_physical_id
    again = make(ctx)
    run_create(again)
    assert len(creations(client, ctx, 'servers')) == 1
    assert ctx.physical_ids[0] == ctx.physical_ids[1] == again.physical_id
    run_delete(again)


def test_a_rerun_with_a_token_and_nothing_made_creates(client):
    ctx = new_ctx()
    ctx.data[common.TOKEN_KEY] = common.make_token(ctx.stack_id)   # crashed before the call
    res = make(ctx)
    run_create(res)
    assert [m['id'] for m in creations(client, ctx, 'servers')] == [res.physical_id]
    run_delete(res)


def test_a_lost_create_answer_makes_one_server(client):
    ctx = new_ctx()
    client.faults(**{'servers.create': {'fail_next': 1, 'failure_mode': 'after'}})
    res = make(ctx)
    run_create(res)
    assert [m['id'] for m in creations(client, ctx, 'servers')] == [res.physical_id]
    run_delete(res)


def test_a_failed_server_fails_the_create_with_its_fault(client):
    client.faults(**{'servers.create': {'build_time': 30}})
    ctx = new_ctx()
    res = make(ctx)
    res.handle_create()
    client.admin('PATCH', 'servers/%s' % res.physical_id,
                 {'status': 'ERROR', 'fault': {'code': 500, 'message': 'No valid host'}})
    with pytest.raises(ResourceFailure) as err:
        res.check_create_complete(None)
    assert 'ERROR' in str(err.value) and 'No valid host' in str(err.value)
    assert "'srv'" in str(err.value)
    run_delete(res)


def test_a_server_still_building_at_the_deadline_fails(client):
    client.faults(**{'servers.create': {'build_time': 30}})
    ctx = new_ctx(deadline=10.0)
    res = make(ctx)
    res.handle_create()
    assert res.check_create_complete(None) is False
    ctx.advance(11)
    with pytest.raises(ResourceFailure, match='timed out'):
        res.check_create_complete(None)
    run_delete(res)


def test_without_a_deadline_a_wait_still_ends(client):
    # A server that never leaves BUILD, polled with no stack deadline: MAX_WAIT ends it.
    client.faults(**{'servers.create': {'build_time': 30}})
    ctx = new_ctx()
    res = make(ctx)
    res.handle_create()
    assert res.check_create_complete(None) is False
    ctx.advance(common.MAX_WAIT - 1)
    assert res.check_create_complete(None) is False
    ctx.advance(1)
    with pytest.raises(ResourceFailure, match='still in status BUILD after 3600 s'):
        res.check_create_complete(None)
    run_delete(res)


def test_delete_without_a_physical_id_finds_the_server_by_token(client):
    ctx = new_ctx()
    run_create(make(ctx))
    server_id = ctx.data.pop('__physical_id__')
    run_delete(make(ctx))
    made = creations(client, ctx, 'servers')
    assert [m['id'] for m in made] == [server_id]
    assert made[0]['deleted_at'] is not None


def test_delete_of_what_is_gone_succeeds(client):
    ctx = new_ctx()
    res = make(ctx)
    run_create(res)
    client.admin('DELETE', 'servers/%s' % res.physical_id)
    run_delete(res)
    run_delete(make(new_ctx()))                 # never created: nothing to do


def test_check_finds_a_missing_server_and_drift(client):
    ctx = new_ctx()
    res = make(ctx)
    run_create(res)
    res.handle_check()
    client.admin('PATCH', 'servers/%s' % res.physical_id, {'name': 'renamed'})
    with pytest.raises(ResourceCheckFailed, match="name is 'renamed', expected 'srv'"):
        make(ctx).handle_check()
    client.admin('DELETE', 'servers/%s' % res.physical_id)
    with pytest.raises(ResourceCheckFailed, match='no longer exists'):
        make(ctx).handle_check()


def test_update_in_place_and_show(client):
    ctx = new_ctx()
    res = make(ctx)
    run_create(res)
    fakes.run_to_end(lambda: res.handle_update({'name': 'other'}), res.check_update_complete,
                     ctx, max_polls=500)
    shown = make(ctx).show()
    assert shown['name'] == 'other' and shown['id'] == res.physical_id
    run_delete(res)


def test_a_missing_flavor_fails_naming_it(client):
    res = make(new_ctx(), flavor='no-such-flavor')
    with pytest.raises(ResourceFailure, match='flavor "no-such-flavor" could not be found'):
        res.handle_create()


def test_flavors_are_cached_per_connection(client, conn):
    common.lookup(conn, 'flavor', 'm1.tiny')
    before = client.admin('GET', 'calls')
    for _ in range(3):
        assert common.lookup(conn, 'flavor', 'm1.tiny').name == 'm1.tiny'
    assert client.admin('GET', 'calls') == before


def test_constraints_accept_what_exists(client, conn):
    net = conn.network.create_network(name='c-%s' % uuid.uuid4().hex[:8])
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr='10.9.0.0/24')
    image = next(iter(conn.image.images()))
    assert constraints.flavor('m1.tiny') is True
    assert constraints.image(image.name) is True
    assert constraints.network(net.name) is True
    assert constraints.network(net.id) is True
    assert constraints.subnet(subnet.id) is True
    conn.network.delete_subnet(subnet.id)
    conn.network.delete_network(net.id)


@pytest.mark.parametrize('check, label', [
    (constraints.flavor, 'flavor'), (constraints.image, 'image'),
    (constraints.keypair, 'key pair'), (constraints.server, 'server'),
    (constraints.volume, 'volume'), (constraints.volume_type, 'volume type'),
    (constraints.network, 'network'), (constraints.subnet, 'subnet'),
    (constraints.port, 'port'), (constraints.router, 'router'),
    (constraints.security_group, 'security group')])
def test_constraints_reject_what_does_not_exist(client, check, label):
    with pytest.raises(ValueError, match='the cloud has no %s "nothing-here"' % label):
        check('nothing-here')


def test_constraints_say_when_the_cloud_cannot_be_asked(client):
    CONF.set_override('cloud', 'no-such-cloud', group='cloud')
    cloud.reset()
    with pytest.raises(ValueError, match='cannot look up flavor "m1.tiny" in the cloud'):
        constraints.flavor('m1.tiny')


def test_a_parameter_constraint_is_checked_at_template_validation(client):
    text = yaml.safe_dump({'heat_template_version': '2018-08-31',
                           'parameters': {'flavor': {'type': 'string', 'constraints': [
                               {'custom_constraint': 'nova.flavor'}]}},
                           'resources': {}})
    tpl = Template.parse(text, filename='t.yaml')
    assert StackDefinition(tpl, params={'flavor': 'm1.tiny'}).validate()
    with pytest.raises(TemplateError, match='the cloud has no flavor "m9.huge"'):
        StackDefinition(tpl, params={'flavor': 'm9.huge'}).validate()
