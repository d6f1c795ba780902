"""OS::Neutron::Subnet: a subnet of a Neutron network.

Heat's properties: network (required; name or id), cidr (or subnetpool and prefixlen),
ip_version (4 or 6), name, dns_nameservers, gateway_ip ("" or null for no gateway; omitted
for the first address), enable_dhcp, allocation_pools, host_routes, value_specs, tenant_id,
ipv6_address_mode, ipv6_ra_mode, tags. In place: name, dns_nameservers, gateway_ip,
enable_dhcp, allocation_pools, host_routes, value_specs, tags; the rest replaces.
Attributes: name, network_id, tenant_id, allocation_pools, gateway_ip, host_routes,
ip_version, cidr, dns_nameservers, enable_dhcp, subnetpool_id, ipv6_address_mode,
ipv6_ra_mode, tags.

Intent token: a tag in the create body; a re-run finds it with
``GET /v2.0/subnets?tags=TOKEN``. Check: exists; name, cidr, gateway match.

``neutron.subnets_on_network`` gives the implicit dependencies of ports and servers on the
subnets of their networks (deleting a subnet that still has ports is Neutron's 409).
"""

import ipaddress

from openstack.network.v2 import subnet as sdk_subnet

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron
from heat_taskflow.template import constraints as constr

ATTRIBUTES = ('name', 'network_id', 'tenant_id', 'allocation_pools', 'gateway_ip',
              'host_routes', 'ip_version', 'cidr', 'dns_nameservers', 'enable_dhcp',
              'subnetpool_id', 'ipv6_address_mode', 'ipv6_ra_mode', 'tags')
IN_PLACE = ('name', 'dns_nameservers', 'gateway_ip', 'enable_dhcp', 'allocation_pools',
            'host_routes')
NOT_SENT = ('network', 'subnetpool', 'value_specs', 'tags')


class Subnet(neutron.NeutronResource):
    """A resource for managing Neutron subnets."""

    type_name = 'OS::Neutron::Subnet'
    kind = 'subnet'
    sdk_class = sdk_subnet.Subnet
    attribute_names = ATTRIBUTES

    properties_schema = {
        'network': Schema(Schema.STRING, 'The ID or name of the attached network.',
                          required=True,
                          constraints=[constr.CustomConstraint('neutron.network')]),
        'cidr': Schema(Schema.STRING, 'The CIDR (required unless subnetpool is given).'),
        'subnetpool': Schema(Schema.STRING, 'The name or ID of the subnet pool to allocate '
                             'the CIDR from.'),
        'prefixlen': Schema(Schema.INTEGER, 'Prefix length for subnet allocation from a '
                            'subnet pool.', constraints=[constr.Range(min=0)]),
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
                            '(only administrative users can set it).'),
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

    def validate(self, partial=False):
        """A CIDR, or a subnet pool to take one from."""
        super().validate(partial)
        p = self.properties.data
        if not partial and p.get('cidr') is None and p.get('subnetpool') is None:
            raise self.invalid('cidr', 'either cidr or subnetpool is required')

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
        body = {k: p[k] for k in names if k not in NOT_SENT and p[k] is not None}
        if body.get('gateway_ip') == '':
            body['gateway_ip'] = None
        return body

    def create_object(self, token):
        p = self.properties
        body = self._fields(self.properties_schema)
        body['network_id'] = self.lookup('network', p['network']).id
        if p['subnetpool'] is not None:
            body['subnetpool_id'] = self.call(base.CREATE, self.conn.network.find_subnet_pool,
                                              p['subnetpool'], ignore_missing=False).id
        body.setdefault('name', self.physical_resource_name())
        body.update(common.value_specs(p))
        return self.create_tagged(body, token)

    def update_object(self, prop_diff):
        body = self._fields([k for k in prop_diff if k in IN_PLACE])
        if 'gateway_ip' in prop_diff and self.properties['gateway_ip'] is None:
            body['gateway_ip'] = None
        if 'value_specs' in prop_diff:
            body.update(common.value_specs(self.properties))
        self.update_fields(self.update_tags(prop_diff, body))
