"""OS::Neutron::Port: a port on a Neutron network.

Supported subset of Heat's type — properties: network (required; name or id), name,
fixed_ips (list of {subnet, ip_address}), security_groups (names or ids), mac_address,
admin_state_up, device_id, device_owner, allowed_address_pairs ({ip_address, mac_address}),
port_security_enabled, binding:vnic_type, dns_name, value_specs, tags. network and
mac_address replace the port; the rest update in place.
Attributes: admin_state_up, device_id, device_owner, fixed_ips, mac_address, name,
network_id, security_groups, status, tenant_id, allowed_address_pairs, subnets.
Check: the port exists; name, mac_address and admin_state_up match.
"""

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

ATTRIBUTES = ('admin_state_up', 'device_id', 'device_owner', 'fixed_ips', 'mac_address',
              'name', 'network_id', 'security_groups', 'status', 'tenant_id',
              'allowed_address_pairs')
PLAIN = ('name', 'mac_address', 'admin_state_up', 'device_id', 'device_owner',
         'port_security_enabled', 'binding:vnic_type', 'dns_name', 'tags')


class Port(common.CloudResource):
    """A resource for managing Neutron ports."""

    type_name = 'OS::Neutron::Port'
    kind = 'ports'

    properties_schema = {
        'network': Schema(Schema.STRING, 'Network this port belongs to (name or id).',
                          required=True),
        'name': Schema(Schema.STRING, 'A symbolic name for this port.', update_allowed=True),
        'fixed_ips': Schema(
            Schema.LIST, 'Desired IPs for this port.', update_allowed=True,
            schema=Schema(Schema.MAP, schema={
                'subnet': Schema(Schema.STRING, 'Subnet in which to allocate the IP address '
                                 'for this port.'),
                'ip_address': Schema(Schema.STRING, 'IP address desired in the subnet for '
                                     'this port.')})),
        'security_groups': Schema(Schema.LIST, 'Security group IDs or names to associate '
                                  'with this port.', update_allowed=True),
        'mac_address': Schema(Schema.STRING, 'MAC address to give to this port.'),
        'admin_state_up': Schema(Schema.BOOLEAN, 'The administrative state of this port.',
                                 default=True, update_allowed=True),
        'device_id': Schema(Schema.STRING, 'Device ID of this port.', update_allowed=True),
        'device_owner': Schema(Schema.STRING, 'Name of the network owning the port.',
                               update_allowed=True),
        'allowed_address_pairs': Schema(
            Schema.LIST, 'Additional MAC/IP address pairs allowed to pass through the port.',
            update_allowed=True, schema=Schema(Schema.MAP, schema={
                'ip_address': Schema(Schema.STRING, 'IP address to allow through this port.',
                                     required=True),
                'mac_address': Schema(Schema.STRING, 'MAC address to allow through this '
                                      'port.')})),
        'port_security_enabled': Schema(Schema.BOOLEAN, 'Flag to enable/disable port '
                                        'security on the port.', update_allowed=True),
        'binding:vnic_type': Schema(Schema.STRING, 'The vnic type to be bound on the neutron '
                                    'port.', default='normal', update_allowed=True,
                                    constraints=[constr.AllowedValues(
                                        ['normal', 'direct', 'macvtap', 'direct-physical',
                                         'baremetal', 'virtio-forwarder', 'smart-nic'])]),
        'dns_name': Schema(Schema.STRING, 'DNS name associated with the port.',
                           update_allowed=True),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the request.',
                              default={}, update_allowed=True),
        'tags': Schema(Schema.LIST, 'The tags to be added to the port.',
                       schema=Schema(Schema.STRING), update_allowed=True),
    }

    attributes_schema = dict(
        {name: attributes.Schema('The %s of the port.' % name.replace('_', ' '))
         for name in ATTRIBUTES},
        subnets=attributes.Schema('Subnets of this port.', attributes.Schema.LIST))

    observed = {'name': 'name', 'mac_address': 'mac_address',
                'admin_state_up': 'admin_state_up'}

    def _fixed_ips(self, action):
        out = []
        for item in self.properties['fixed_ips'] or []:
            entry = {}
            if item.get('subnet'):
                entry['subnet_id'] = self.resolve('subnets', item['subnet'], action)
            if item.get('ip_address'):
                entry['ip_address'] = item['ip_address']
            out.append(entry)
        return out

    def _fields(self, names, action):
        p = self.properties
        body = {k: p[k] for k in names if k in PLAIN and p[k] is not None}
        if 'fixed_ips' in names and p['fixed_ips'] is not None:
            body['fixed_ips'] = self._fixed_ips(action)
        if 'security_groups' in names and p['security_groups'] is not None:
            body['security_groups'] = [self.resolve('security_groups', ref, action)
                                       for ref in p['security_groups']]
        if 'allowed_address_pairs' in names and p['allowed_address_pairs'] is not None:
            body['allowed_address_pairs'] = [
                {k: v for k, v in pair.items() if v is not None}
                for pair in p['allowed_address_pairs']]
        if 'value_specs' in names:
            body.update(common.value_specs(p))
        return body

    def create_body(self):
        body = self._fields(self.properties_schema, base.CREATE)
        body['network_id'] = self.resolve('networks', self.properties['network'])
        body.setdefault('name', self.physical_resource_name())
        return body

    def update_body(self, prop_diff):
        body = self._fields(prop_diff, base.UPDATE)
        if 'fixed_ips' in prop_diff and self.properties['fixed_ips'] is None:
            body['fixed_ips'] = []
        if 'security_groups' in prop_diff and self.properties['security_groups'] is None:
            body['security_groups'] = []
        return body

    def resolve_attribute(self, name):
        if name == 'subnets':
            obj = self.current()
            if obj is None:
                return None
            out = []
            for ip in obj['fixed_ips']:
                subnet = self.client.get_or_none('subnets', ip['subnet_id'])
                if subnet is not None:
                    out.append(subnet)
            return out
        if name in ATTRIBUTES:
            return self.field(name)
        return None
