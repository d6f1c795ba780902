"""OS::Neutron::FloatingIP: a floating IP from an external network, maybe on a port.

Supported subset of Heat's type — properties: floating_network (required), port_id,
fixed_ip_address, floating_ip_address, dns_name, dns_domain, value_specs. port_id and
fixed_ip_address update in place (associate, re-associate or disassociate); the rest
replaces. The port's subnet must be on a router whose gateway is the floating network (as
in Neutron): give the floating IP a depends_on on the RouterInterface.
Attributes: router_id, tenant_id, floating_network_id, fixed_ip_address,
floating_ip_address, port_id. Check: exists; port_id and fixed_ip_address match.
"""

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common

ATTRIBUTES = ('router_id', 'tenant_id', 'floating_network_id', 'fixed_ip_address',
              'floating_ip_address', 'port_id')


class FloatingIP(common.CloudResource):
    """A resource for managing Neutron floating ips."""

    type_name = 'OS::Neutron::FloatingIP'
    kind = 'floatingips'

    properties_schema = {
        'floating_network': Schema(Schema.STRING, 'Network to allocate floating IP from.',
                                   required=True),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the request.',
                              default={}),
        'port_id': Schema(Schema.STRING, 'ID of an existing port with at least one IP '
                          'address to associate with this floating IP.', update_allowed=True),
        'fixed_ip_address': Schema(Schema.STRING, 'IP address to use if the port has '
                                   'multiple addresses.', update_allowed=True),
        'floating_ip_address': Schema(Schema.STRING, 'IP address of the floating IP.'),
        'dns_name': Schema(Schema.STRING, 'DNS name associated with floating ip.'),
        'dns_domain': Schema(Schema.STRING, 'DNS domain associated with floating ip.'),
    }

    attributes_schema = {name: attributes.Schema('The %s of the floating IP.'
                                                 % name.replace('_', ' '))
                         for name in ATTRIBUTES}

    observed = {'fixed_ip_address': 'fixed_ip_address'}

    def create_body(self):
        p = self.properties
        body = {'floating_network_id': self.resolve('networks', p['floating_network'])}
        if p['port_id'] is not None:
            body['port_id'] = self.resolve('ports', p['port_id'])
        for key in ('fixed_ip_address', 'floating_ip_address', 'dns_name', 'dns_domain'):
            if p[key] is not None:
                body[key] = p[key]
        body.update(common.value_specs(p))
        return body

    def update_body(self, prop_diff):
        p = self.properties
        port = self.resolve('ports', p['port_id'], base.UPDATE) if p['port_id'] else None
        return {'port_id': port, 'fixed_ip_address': p['fixed_ip_address']}

    def drift(self, obj):
        out = super().drift(obj)
        wanted = self.properties['port_id']
        if wanted is not None:
            wanted = self.resolve('ports', wanted, base.CHECK)
        if obj.get('port_id') != wanted:
            out.append('port_id is %r, expected %r' % (obj.get('port_id'), wanted))
        return out

    def resolve_attribute(self, name):
        if name in ATTRIBUTES:
            return self.field(name)
        return None
