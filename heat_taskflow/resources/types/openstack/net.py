"""OS::Neutron::Net: a Neutron network.

Supported subset of Heat's type — properties: name, value_specs, admin_state_up, tenant_id,
shared, port_security_enabled, dns_domain, tags (all but tenant_id update in place; a
value_specs key such as ``router:external`` or ``mtu`` is sent as a network field).
Attributes: status, name, subnets, admin_state_up, tenant_id, port_security_enabled, mtu.
Check: the network exists and its name, admin_state_up and shared match.
"""

from heat_taskflow.resources import attributes
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common

ATTRIBUTES = ('status', 'name', 'subnets', 'admin_state_up', 'tenant_id',
              'port_security_enabled', 'mtu')


class Net(common.CloudResource):
    """A resource for managing Neutron networks."""

    type_name = 'OS::Neutron::Net'
    kind = 'networks'

    properties_schema = {
        'name': Schema(Schema.STRING, 'A string specifying a symbolic name for the network, '
                       'which is not required to be unique.', update_allowed=True),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the request.',
                              default={}, update_allowed=True),
        'admin_state_up': Schema(Schema.BOOLEAN, 'A boolean value specifying the '
                                 'administrative status of the network.', default=True,
                                 update_allowed=True),
        'tenant_id': Schema(Schema.STRING, 'The ID of the tenant which will own the network '
                            '(accepted; simcloud has one tenant).'),
        'shared': Schema(Schema.BOOLEAN, 'Whether this network should be shared across all '
                         'tenants.', default=False, update_allowed=True),
        'port_security_enabled': Schema(Schema.BOOLEAN, 'Flag to enable/disable port '
                                        'security on the network.', update_allowed=True),
        'dns_domain': Schema(Schema.STRING, 'DNS domain associated with this network.',
                             update_allowed=True),
        'tags': Schema(Schema.LIST, 'The tags to be added to the network.',
                       schema=Schema(Schema.STRING), update_allowed=True),
    }

    attributes_schema = {
        'status': attributes.Schema('The status of the network.', attributes.Schema.STRING),
        'name': attributes.Schema('The name of the network.', attributes.Schema.STRING),
        'subnets': attributes.Schema('Subnets of this network.', attributes.Schema.LIST),
        'admin_state_up': attributes.Schema('The administrative status of the network.',
                                            attributes.Schema.STRING),
        'tenant_id': attributes.Schema('The tenant owning this network.',
                                       attributes.Schema.STRING),
        'port_security_enabled': attributes.Schema('Port security enabled of the network.',
                                                   attributes.Schema.BOOLEAN),
        'mtu': attributes.Schema('The maximum transmission unit size (in bytes) for the '
                                 'network.', attributes.Schema.INTEGER),
    }

    observed = {'name': 'name', 'admin_state_up': 'admin_state_up', 'shared': 'shared'}

    def _fields(self, names):
        p = self.properties
        body = {k: p[k] for k in names if k in p and p[k] is not None and k != 'value_specs'}
        body.pop('tenant_id', None)
        return body

    def create_body(self):
        body = self._fields(self.properties_schema)
        body.setdefault('name', self.physical_resource_name())
        body.update(common.value_specs(self.properties))
        return body

    def update_body(self, prop_diff):
        body = self._fields(prop_diff)
        if 'name' in prop_diff and body.get('name') is None:
            body['name'] = self.physical_resource_name()
        if 'value_specs' in prop_diff:
            body.update(common.value_specs(self.properties))
        return body

    def resolve_attribute(self, name):
        if name in ATTRIBUTES:
            return self.field(name)
        return None
