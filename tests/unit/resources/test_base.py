import pytest

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.exceptions import (
    InvalidAttribute,
    InvalidProperties,
    ResourceCheckFailed,
    ResourceError,
)
from heat_taskflow.resources.properties import Schema
from tests.unit.resources.fakes import Crash, FakeContext, FakeNested, assert_create_idempotent


class FakeCloud:
    """A cloud API that creates servers by name; ``crash_after_create`` dies after creating."""

    def __init__(self):
        self.servers = {}
        self.crash_after_create = False

    def create(self, name):
        server_id = 'srv-%d' % (len(self.servers) + 1)
        self.servers[server_id] = name
        if self.crash_after_create:
            self.crash_after_create = False
            raise Crash('died before the id came back')
        return server_id

    def find(self, name):
        return next((k for k, v in self.servers.items() if v == name), None)

    def delete(self, server_id):
        if server_id not in self.servers:
            raise KeyError(server_id)
        del self.servers[server_id]


class Server(base.Resource):
    """A plugin that keeps the contract: record the name, then create or adopt by name."""

    deleted = 0
    properties_schema = {
        'flavor': Schema(Schema.STRING, required=True),
        'size': Schema(Schema.INTEGER, default=1, update_allowed=True),
        'zone': Schema(Schema.STRING, update_allowed=True, immutable=True),
    }
    attributes_schema = {'flavor': attributes.Schema('the flavor'),
                         'info': attributes.Schema('nested info', 'map')}

    def handle_create(self):
        name = self.physical_resource_name()
        server_id = self.cloud.find(name) or self.cloud.create(name)
        self.set_physical_id(server_id)

    def handle_update(self, new_properties, prop_diff):
        self.data_set('updated', sorted(prop_diff))

    def handle_delete(self):
        type(self).deleted += 1
        if self.physical_id is not None and self.physical_id in self.cloud.servers:
            self.cloud.delete(self.physical_id)

    def resolve_attribute(self, name):
        if name == 'flavor':
            return self.properties['flavor']
        if name == 'info':
            return {'disks': [{'size': self.properties['size']}]}


    @property
    def cloud(self):
        # Each context is its own little world, so the contract checker can run many.
        if not hasattr(self.ctx, 'cloud'):
            self.ctx.cloud = FakeCloud()
        return self.ctx.cloud


class NaiveServer(Server):
    """Breaks the contract: creates without recording or looking first."""

    def handle_create(self):
        self.set_physical_id(self.cloud.create('naive'))


@pytest.fixture
def cloud():
    Server.deleted = 0
    return FakeCloud()


def context(cloud, name='web', **kwargs):
    ctx = FakeContext(name, **kwargs)
    ctx.cloud = cloud
    return ctx


def test_crash_after_create_call_is_adopted_on_rerun(cloud):
    ctx = context(cloud)
    cloud.crash_after_create = True
    with pytest.raises(Crash):
        Server('web', {'flavor': 'm1'}, ctx).handle_create()
    assert ctx.physical_ids == []  # died before it could record the id
    Server('web', {'flavor': 'm1'}, ctx).handle_create()
    assert len(cloud.servers) == 1
    assert ctx.physical_ids == ['srv-1']


def test_contract_checker_passes_a_plugin_that_keeps_it(cloud):
    assert_create_idempotent(lambda ctx: Server('web', {'flavor': 'm1'}, ctx),
                             lambda ctx: len(ctx.cloud.servers))


def test_contract_checker_catches_a_plugin_that_breaks_it(cloud):
    with pytest.raises(AssertionError):
        assert_create_idempotent(lambda ctx: NaiveServer('web', {'flavor': 'm1'}, ctx),
                                 lambda ctx: len(ctx.cloud.servers))


def test_remember_records_before_returning():
    ctx = FakeContext(crash_after_sets=1)
    res = Server('web', {'flavor': 'm1'}, ctx)
    with pytest.raises(Crash):
        res.remember('token', lambda: 'abc')
    assert ctx.data['token'] == 'abc'
    assert Server('web', {'flavor': 'm1'}, ctx).remember('token', lambda: 'other') == 'abc'


def test_physical_resource_name_is_stable_across_instances():
    ctx = FakeContext('web', stack_name='prod')
    first = Server('web', {'flavor': 'm1'}, ctx).physical_resource_name()
    assert first.startswith('prod-web-')
    assert Server('web', {'flavor': 'm1'}, ctx).physical_resource_name() == first
    assert Server('web', {'flavor': 'm1'}, FakeContext('web')).physical_resource_name() != first


def test_delete_twice_is_fine(cloud):
    ctx = context(cloud)
    res = Server('web', {'flavor': 'm1'}, ctx)
    res.handle_create()
    assert res.check_delete_complete(res.handle_delete())
    again = Server('web', {'flavor': 'm1'}, ctx, physical_id=res.physical_id)
    assert again.check_delete_complete(again.handle_delete())
    assert cloud.servers == {}


def test_retain_leaves_the_real_thing(cloud):
    ctx = context(cloud)
    res = Server('web', {'flavor': 'm1'}, ctx, deletion_policy='Retain')
    res.handle_create()
    assert res.check_delete_complete(res.handle_delete()) is True
    assert Server.deleted == 0
    assert len(cloud.servers) == 1


def test_unknown_deletion_policy():
    with pytest.raises(ResourceError, match='unknown deletion_policy "Keep"'):
        Server('web', {'flavor': 'm1'}, FakeContext(), deletion_policy='Keep')


def test_update_switches_properties_and_computes_diff(cloud):
    ctx = context(cloud)
    res = Server('web', {'flavor': 'm1', 'size': 1}, ctx)
    res.handle_update({'flavor': 'm1', 'size': '4'})
    assert res.properties['size'] == 4
    assert ctx.data['updated'] == ['size']


def test_update_in_place_vs_replacement():
    res = Server('web', {'flavor': 'm1', 'size': 1, 'zone': 'a'}, FakeContext())
    assert not res.update_requires_replacement({'flavor': 'm1', 'size': 2, 'zone': 'a'})
    assert not res.update_requires_replacement({'flavor': 'm1', 'size': '1', 'zone': 'a'})
    assert res.update_requires_replacement({'flavor': 'm2', 'size': 1, 'zone': 'a'})
    assert res.update_requires_replacement({'flavor': 'm1', 'size': 1, 'zone': 'b'})
    assert res.property_diff({'flavor': 'm1', 'zone': 'a'}) == {}


def test_validate_names_resource_and_property():
    with pytest.raises(InvalidProperties, match="resource 'web': property 'size'"):
        Server('web', {'flavor': 'm1', 'size': 'big'}, FakeContext()).validate()
    Server('web', {'flavor': None}, FakeContext()).validate(partial=True)


def test_attributes_paths_show_and_unknown():
    res = Server('web', {'flavor': 'm1', 'size': 3}, FakeContext(), physical_id='srv-9')
    assert res.get_attribute('flavor') == 'm1'
    assert res.get_attribute('info', 'disks', 0, 'size') == 3
    show = res.get_attribute('show')
    assert show['id'] == 'srv-9'
    assert show['attributes']['flavor'] == 'm1'
    assert res.has_attribute('show')
    with pytest.raises(InvalidAttribute, match='has no attribute "colour"'):
        res.get_attribute('colour')


def test_reference_id_is_physical_id_or_name():
    assert Server('web', {'flavor': 'm'}, FakeContext()).get_reference_id() == 'web'
    assert Server('web', {'flavor': 'm'}, FakeContext(),
                  physical_id='p').get_reference_id() == 'p'


def test_without_context_data_comes_from_given_data():
    res = Server('web', {'flavor': 'm'}, None, data={'k': 'v'})
    assert res.data_get('k') == 'v'
    res.data_set('k2', 1)
    assert res.data_get('k2') == 1


def test_time_left_uses_context_clock():
    ctx = FakeContext(deadline=100.0, clock=40.0)
    assert Server('w', {'flavor': 'm'}, ctx).time_left() == 60.0
    assert Server('w', {'flavor': 'm'}, FakeContext()).time_left() is None


def test_defaults_are_synchronous_and_complete():
    res = base.Resource('r', {}, FakeContext())
    for handle, check in ((res.handle_create, res.check_create_complete),
                          (res.handle_delete, res.check_delete_complete)):
        assert check(handle()) is True
    assert res.check_update_complete(res.handle_update({})) is True
    assert res.handle_check() is None


def test_optional_hooks_are_declared_with_their_defaults():
    res = base.Resource('r', {}, FakeContext())
    assert base.Resource.takes_signals is False
    assert base.Resource.waits_for_child_stack is False
    assert res.check_check_complete(res.handle_check()) is True
    assert res.repairs_in_place() is False


def test_drift_check_defaults_to_handle_check():
    class Drifting(base.Resource):
        def handle_check(self):
            raise ResourceCheckFailed(self.name, 'gone')

    with pytest.raises(ResourceCheckFailed, match='gone'):
        Drifting('r', {}, FakeContext()).handle_drift_check(mark=True)
    base.Resource('r', {}, FakeContext()).handle_drift_check()


def test_optional_nested_stack_methods_keep_a_check_shallow():
    nested = FakeNested()
    assert nested.check_stack('s') is False
    assert nested.drifted('s', mark=True) == {}
    assert nested.failed_resources('s') == {}


def test_context_is_abstract():
    class Partial(base.ResourceContext):
        pass
    with pytest.raises(TypeError):
        Partial()
    with pytest.raises(TypeError):
        type('PartialNested', (base.NestedStackService,), {})()
