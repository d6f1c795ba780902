"""OS::Neutron::Subnet: a subnet of a Neutron network.

Supported subset of Heat's type — properties: network (required; name or id), cidr,
ip_version (4 or 6), name, dns_nameservers, gateway_ip ("" for no gateway; omitted for the
first address), enable_dhcp, allocation_pools, host_routes, value_specs, tenant_id,
ipv6_address_mode, ipv6_ra_mode, tags. In place: name, dns_nameservers, gateway_ip,
enable_dhcp, allocation_pools, host_routes, value_specs, tags; the rest replaces.
Attributes: name, network_id, tenant_id, allocation_pools, gateway_ip, host_routes,
ip_version, cidr, dns_nameservers, enable_dhcp. Check: exists; name, cidr, gateway match.
"""

import ipaddress

from heat_taskflow.resources import attributes
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

ATTRIBUTES = ('name', 'network_id', 'tenant_id', 'allocation_pools', 'gateway_ip',
              'host_routes', 'ip_version', 'cidr', 'dns_nameservers', 'enable_dhcp')
IN_PLACE = ('name', 'dns_nameservers', 'gateway_ip', 'enable_dhcp', 'allocation_pools',
            'host_routes', 'tags')


class Subnet(common.CloudResource):
    """A resource for managing Neutron subnets."""

    type_name = 'OS::Neutron::Subnet'
    kind = 'subnets'

    properties_schema = {
        'network': Schema(Schema.STRING, 'The ID or name of the attached network.',
                          required=True),
        'cidr': Schema(Schema.STRING, 'The CIDR.', required=True),
        'ip_version': Schema(Schema.INTEGER, 'The IP version, which is 4 or 6.', default=4,
                             constraints=[constr.AllowedValues([4, 6])]),
        'name': Schema(Schema.STRING, 'The name of the subnet.', update_allowed=True),
        'dns_nameservers': Schema(Schema.LIST, 'A specified set of DNS name servers to be '
                                  'used.', default=[], update_allowed=True),
        'gateway_ip': Schema(Schema.STRING, 'The gateway IP address; "" for none, omitted '
                             'for the first address of the CIDR.', update_allowed=True),
        'enable_dhcp': Schema(Schema.BOOLEAN, 'Set to true if DHCP is enabled and false if '
                              'DHCP is disabled.', default=True, update_allowed=True),
        'allocation_pools': Schema(
            Schema.LIST, 'The start and end addresses for the allocation pools.',
            update_allowed=True, schema=Schema(Schema.MAP, schema={
                'start': Schema(Schema.STRING, 'Start address for the allocation pool.',
                                required=True),
                'end': Schema(Schema.STRING, 'End address for the allocation pool.',
                              required=True)})),
        'host_routes': Schema(
            Schema.LIST, 'A list of host route dictionaries for the subnet.',
            update_allowed=True, schema=Schema(Schema.MAP, schema={
                'destination': Schema(Schema.STRING, 'The destination for static route.',
                                      required=True),
                'nexthop': Schema(Schema.STRING, 'The next hop for the destination.',
                                  required=True)})),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the request.',
                              default={}, update_allowed=True),
        'tenant_id': Schema(Schema.STRING, 'The ID of the tenant who owns the network '
                            '(accepted; simcloud has one tenant).'),
        'ipv6_address_mode': Schema(Schema.STRING, 'IPv6 address mode.', constraints=[
            constr.AllowedValues(['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'])]),
        'ipv6_ra_mode': Schema(Schema.STRING, 'IPv6 RA (Router Advertisement) mode.',
                               constraints=[constr.AllowedValues(
                                   ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'])]),
        'tags': Schema(Schema.LIST, 'The tags to be added to the subnet.',
                       schema=Schema(Schema.STRING), update_allowed=True),
    }

    attributes_schema = {name: attributes.Schema('The %s of the subnet.'
                                                 % name.replace('_', ' '))
                         for name in ATTRIBUTES}

    observed = {'name': 'name', 'cidr': 'cidr', 'gateway_ip': 'gateway_ip'}

    def normalise(self, prop, value):
        if prop == 'cidr' and value:
            try:
                return str(ipaddress.ip_network(value, strict=False))
            except ValueError:
                return value
        if prop == 'gateway_ip' and value == '':
            return None
        return value

    def _fields(self, names):
        p = self.properties
        body = {}
        for key in names:
            if key in ('network', 'tenant_id', 'value_specs') or p[key] is None:
                continue
            body[key] = p[key]
        if body.get('gateway_ip') == '':
            body['gateway_ip'] = None
        return body

    def create_body(self):
        body = self._fields(self.properties_schema)
        body['network_id'] = self.resolve('networks', self.properties['network'])
        body.setdefault('name', self.physical_resource_name())
        body.update(common.value_specs(self.properties))
        return body

    def update_body(self, prop_diff):
        body = self._fields([k for k in prop_diff if k in IN_PLACE])
        if 'gateway_ip' in prop_diff and self.properties['gateway_ip'] is None:
            body['gateway_ip'] = None
        if 'value_specs' in prop_diff:
            body.update(common.value_specs(self.properties))
        return body

    def resolve_attribute(self, name):
        if name in ATTRIBUTES:
            return self.field(name)
        return None
