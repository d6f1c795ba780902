"""The custom constraints the plugins declare on properties naming cloud objects, as Heat's
do: a value the cloud does not have is refused when the properties are validated (before any
create call), with a message naming the property and the constraint."""

import pytest

from heat_taskflow.resources import registry
from heat_taskflow.resources.exceptions import InvalidProperties
from tests.unit.resources.openstack.conftest import plugin

DECLARED = [
    ('OS::Nova::Server', ('image',), 'glance.image'),
    ('OS::Nova::Server', ('flavor',), 'nova.flavor'),
    ('OS::Nova::Server', ('key_name',), 'nova.keypair'),
    ('OS::Neutron::Port', ('network',), 'neutron.network'),
    ('OS::Neutron::Subnet', ('network',), 'neutron.network'),
    ('OS::Cinder::VolumeAttachment', ('volume_id',), 'cinder.volume'),
]


@pytest.mark.parametrize('type_name, path, name', DECLARED)
def test_heats_custom_constraints_are_declared(type_name, path, name):
    schema = registry.get_class(type_name).properties_schema[path[0]]
    assert name in [c.name for c in schema.constraints if c.kind == 'custom_constraint']


@pytest.mark.parametrize('prop, value, message', [
    ('image', 'cirros', 'the cloud has no image "cirros"'),
    ('flavor', 'm9.huge', 'the cloud has no flavor "m9.huge"'),
    ('key_name', 'nokey', 'the cloud has no key pair "nokey"'),
])
def test_a_server_naming_what_the_cloud_does_not_have_is_invalid(client, prop, value,
                                                                  message):
    props = dict({'image': 'cirros-0.6.2-x86_64-disk', 'flavor': 'm1.tiny'}, **{prop: value})
    with pytest.raises(InvalidProperties, match="property '%s': \"%s\" does not validate .*%s"
                       % (prop, value, message)):
        plugin('OS::Nova::Server', props)


def test_a_volume_attachment_of_no_volume_is_invalid(client):
    with pytest.raises(InvalidProperties, match='does not validate cinder.volume'):
        plugin('OS::Cinder::VolumeAttachment', {'instance_uuid': 'x', 'volume_id': 'novol'})
