"""OS::Neutron::Net: a Neutron network.

Heat's properties: name, value_specs, admin_state_up, tenant_id, shared,
port_security_enabled, dns_domain, qos_policy, tags (all but tenant_id update in place; a
value_specs key such as ``router:external``, ``mtu`` or ``provider:network_type`` is sent as a
network field). Attributes: status, name, subnets, admin_state_up, tenant_id,
port_security_enabled, mtu, qos_policy_id, segments, tags.

Intent token: a tag in the create body (``POST /v2.0/networks`` with ``tags: [..., TOKEN]``);
a re-run finds it with ``GET /v2.0/networks?tags=TOKEN``.
Check: the network exists and its name, admin_state_up and shared match.
"""

from openstack.network.v2 import network as sdk_network

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron

ATTRIBUTES = ('status', 'name', 'subnets', 'admin_state_up', 'tenant_id',
              'port_security_enabled', 'mtu', 'qos_policy_id', 'segments', 'tags')
PLAIN = ('name', 'admin_state_up', 'shared', 'port_security_enabled', 'dns_domain')


class Net(neutron.NeutronResource):
    """A resource for managing Neutron networks."""

    type_name = 'OS::Neutron::Net'
    kind = 'network'
    sdk_class = sdk_network.Network
    attribute_names = ATTRIBUTES

    properties_schema = {
        'name': Schema(Schema.STRING, 'A string specifying a symbolic name for the network, '
                       'which is not required to be unique.', update_allowed=True),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the request.',
                              default={}, update_allowed=True),
        'admin_state_up': Schema(Schema.BOOLEAN, 'A boolean value specifying the '
                                 'administrative status of the network.', default=True,
                                 update_allowed=True),
        'tenant_id': Schema(Schema.STRING, 'The ID of the tenant which will own the network '
                            '(only administrative users can set it).'),
        'shared': Schema(Schema.BOOLEAN, 'Whether this network should be shared across all '
                         'tenants.', default=False, update_allowed=True),
        'port_security_enabled': Schema(Schema.BOOLEAN, 'Flag to enable/disable port '
                                        'security on the network.', update_allowed=True),
        'dns_domain': Schema(Schema.STRING, 'DNS domain associated with this network.',
                             update_allowed=True),
        'qos_policy': Schema(Schema.STRING, 'The name or ID of QoS policy to attach to this '
                             'network.', update_allowed=True),
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
        'qos_policy_id': attributes.Schema('The QoS policy ID attached to this network.',
                                           attributes.Schema.STRING),
        'segments': attributes.Schema('The segments of this network.',
                                      attributes.Schema.LIST),
        'tags': attributes.Schema('The tags of the network.', attributes.Schema.LIST),
    }

    observed = {'name': 'name', 'admin_state_up': 'is_admin_state_up', 'shared': 'is_shared'}

    def _qos_policy(self, action):
        ref = self.properties['qos_policy']
        if ref is None:
            return None
        return self.call(action, self.conn.network.find_qos_policy, ref,
                         ignore_missing=False).id

    def _fields(self, names, action):
        p = self.properties
        body = {k: p[k] for k in names if k in PLAIN and p[k] is not None}
        if 'qos_policy' in names:
            body['qos_policy_id'] = self._qos_policy(action)
        if 'value_specs' in names:
            body.update(common.value_specs(p))
        return body

    def create_object(self, token):
        body = self._fields(self.properties_schema, base.CREATE)
        body.setdefault('name', self.physical_resource_name())
        if self.properties['tenant_id'] is not None:
            body['tenant_id'] = self.properties['tenant_id']
        if body.get('qos_policy_id') is None:
            body.pop('qos_policy_id', None)
        return self.create_tagged(body, token)

    def update_object(self, prop_diff):
        body = self._fields(prop_diff, base.UPDATE)
        if 'name' in prop_diff and self.properties['name'] is None:
            body['name'] = self.physical_resource_name()
        self.update_fields(self.update_tags(prop_diff, body))
