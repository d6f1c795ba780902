"""OS::Neutron::FloatingIP: a floating IP from an external network, maybe on a port.

Heat's properties: floating_network (required), port_id, fixed_ip_address,
floating_ip_address, dns_name, dns_domain, value_specs. port_id and fixed_ip_address update
in place (associate, re-associate or disassociate); the rest replaces.
Attributes: router_id, tenant_id, floating_network_id, fixed_ip_address,
floating_ip_address, port_id.

Intent token: a tag in the create body; a re-run finds it with
``GET /v2.0/floatingips?tags=TOKEN``. Implicit dependencies (Heat's
FloatingIP.add_dependencies): the RouterInterfaces of the stack on the subnets its port
takes addresses from, and the Routers whose gateway is its floating network: Neutron
refuses to associate an address the external network cannot reach.
Check: exists; port_id and fixed_ip_address match.
"""

from openstack.network.v2 import floating_ip as sdk_floating_ip

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron

ATTRIBUTES = ('router_id', 'tenant_id', 'floating_network_id', 'fixed_ip_address',
              'floating_ip_address', 'port_id')


class FloatingIP(neutron.NeutronResource):
    """A resource for managing Neutron floating ips."""

    type_name = 'OS::Neutron::FloatingIP'
    kind = 'floating IP'
    sdk_class = sdk_floating_ip.FloatingIP
    attribute_names = ATTRIBUTES

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

    @classmethod
    def implicit_dependencies(cls, name, view):
        """RouterInterfaces on its port's subnets; Routers with its network as gateway."""
        props = view.properties(name) or {}
        return (neutron.interfaces_for_port(view, props.get('port_id')) +
                neutron.routers_with_gateway(view, props.get('floating_network')))

    def validate(self, partial=False):
        """fixed_ip_address only with a port_id."""
        super().validate(partial)
        p = self.properties.data
        if (not partial and p.get('fixed_ip_address') is not None and
                p.get('port_id') is None):
            raise self.invalid('fixed_ip_address', 'fixed_ip_address requires port_id')

    def _port(self, action):
        ref = self.properties['port_id']
        return self.lookup('port', ref, action).id if ref is not None else None

    def create_object(self, token):
        p = self.properties
        body = {'floating_network_id': self.lookup('network', p['floating_network']).id}
        if p['port_id'] is not None:
            body['port_id'] = self._port(base.CREATE)
        for key in ('fixed_ip_address', 'floating_ip_address', 'dns_name', 'dns_domain'):
            if p[key] is not None:
                body[key] = p[key]
        body.update(common.value_specs(p))
        return self.create_tagged(body, token)

    def update_object(self, prop_diff):
        self.update_fields({'port_id': self._port(base.UPDATE),
                            'fixed_ip_address': self.properties['fixed_ip_address']})

    def drift(self, obj):
        out = super().drift(obj)
        wanted = self._port(base.CHECK)
        if obj.port_id != wanted:
            out.append('port_id is %r, expected %r' % (obj.port_id, wanted))
        return out
