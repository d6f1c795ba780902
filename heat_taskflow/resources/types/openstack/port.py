"""OS::Neutron::Port: a port on a Neutron network.

Heat's properties: network (required; name or id), name, fixed_ips (list of {subnet,
ip_address}), security_groups (names or ids), mac_address, admin_state_up, device_id,
device_owner, allowed_address_pairs ({ip_address, mac_address}), port_security_enabled,
binding:vnic_type, dns_name, qos_policy, value_specs, tags. network and mac_address replace
the port; the rest update in place.
Attributes: admin_state_up, device_id, device_owner, fixed_ips, mac_address, name,
network_id, security_groups, status, tenant_id, allowed_address_pairs, dns_assignment,
qos_policy_id, tags, subnets.

Intent token: a tag in the create body; a re-run finds it with
``GET /v2.0/ports?tags=TOKEN``. Implicit dependencies (Heat's Port.add_dependencies): the
Subnets of the stack on the port's network, which Neutron may take its address from even
when fixed_ips does not name them. Check: the port exists; name, mac_address and
admin_state_up match.
"""

from openstack.network.v2 import port as sdk_port

from heat_taskflow.resources import attributes, base, cloud
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron
from heat_taskflow.template import constraints as constr

ATTRIBUTES = ('admin_state_up', 'device_id', 'device_owner', 'fixed_ips', 'mac_address',
              'name', 'network_id', 'security_groups', 'status', 'tenant_id',
              'allowed_address_pairs', 'dns_assignment', 'qos_policy_id', 'tags')
PLAIN = ('name', 'mac_address', 'admin_state_up', 'device_id', 'device_owner',
         'port_security_enabled', 'binding:vnic_type', 'dns_name')


class Port(neutron.NeutronResource):
    """A resource for managing Neutron ports."""

    type_name = 'OS::Neutron::Port'
    kind = 'port'
    sdk_class = sdk_port.Port
    attribute_names = ATTRIBUTES + ('subnets',)

    properties_schema = {
        'network': Schema(Schema.STRING, 'Network this port belongs to (name or id).',
                          required=True,
                          constraints=[constr.CustomConstraint('neutron.network')]),
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
        'qos_policy': Schema(Schema.STRING, 'The name or ID of QoS policy to attach to this '
                             'port.', update_allowed=True),
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
                'admin_state_up': 'is_admin_state_up'}

    @classmethod
    def implicit_dependencies(cls, name, view):
        """The Subnets of the stack on this port's network."""
        return neutron.subnets_on_network(view, (view.properties(name) or {}).get('network'))

    def _fixed_ips(self, action):
        out = []
        for item in self.properties['fixed_ips'] or []:
            entry = {}
            if item.get('subnet'):
                entry['subnet_id'] = self.lookup('subnet', item['subnet'], action).id
            if item.get('ip_address'):
                entry['ip_address'] = item['ip_address']
            out.append(entry)
        return out

    def _fields(self, names, action):
        p = self.properties
        body = {k: p[k] for k in names if k in PLAIN and p[k] is not None}
        if 'fixed_ips' in names:
            body['fixed_ips'] = self._fixed_ips(action)
        if 'security_groups' in names and p['security_groups'] is not None:
            body['security_groups'] = [self.lookup('security_group', ref, action).id
                                       for ref in p['security_groups']]
        if 'allowed_address_pairs' in names:
            body['allowed_address_pairs'] = [
                {k: v for k, v in pair.items() if v is not None}
                for pair in p['allowed_address_pairs'] or []]
        if 'qos_policy' in names and p['qos_policy'] is not None:
            body['qos_policy_id'] = self.call(action, self.conn.network.find_qos_policy,
                                              p['qos_policy'], ignore_missing=False).id
        if 'value_specs' in names:
            body.update(common.value_specs(p))
        return body

    def create_object(self, token):
        body = self._fields(self.properties_schema, base.CREATE)
        if not body['fixed_ips']:
            del body['fixed_ips']
        if not body['allowed_address_pairs']:
            del body['allowed_address_pairs']
        body['network_id'] = self.lookup('network', self.properties['network']).id
        body.setdefault('name', self.physical_resource_name())
        port = self.create_tagged(body, token)
        # The server on this port looks it up by id next: no need to ask the cloud again.
        common.remember_lookup(self.conn, 'port', port.id, port, common.ID_LOOKUP_TTL)
        return port

    def update_object(self, prop_diff):
        body = self._fields(prop_diff, base.UPDATE)
        if 'security_groups' in prop_diff and self.properties['security_groups'] is None:
            body['security_groups'] = []
        if 'qos_policy' in prop_diff and self.properties['qos_policy'] is None:
            body['qos_policy_id'] = None
        self.update_fields(self.update_tags(prop_diff, body))

    def resolve_attribute(self, name):
        if name != 'subnets':
            return super().resolve_attribute(name)
        obj = self.current()
        if obj is None:
            return None
        out = []
        for ip in obj.fixed_ips or []:
            try:
                # By id: the subnet the create looked up is still known (common.lookup).
                subnet = common.lookup(self.conn, 'subnet', ip['subnet_id'])
            except cloud.NotFound:
                continue
            out.append(neutron.heat_fields(subnet))
        return out
