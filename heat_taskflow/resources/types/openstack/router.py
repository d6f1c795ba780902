"""OS::Neutron::Router: a Neutron router, with an optional gateway to an external network.

Heat's properties: name, external_gateway_info ({network, enable_snat, external_fixed_ips:
[{ip_address, subnet}]}), admin_state_up, value_specs, distributed, ha, tags. distributed
and ha replace the router; the rest update in place.
Attributes: status, external_gateway_info, name, admin_state_up, tenant_id, tags.

Intent token: a tag in the create body; a re-run finds it with
``GET /v2.0/routers?tags=TOKEN``. Implicit dependencies (Heat's
Router.add_dependencies): the Subnets of the stack on the gateway network.
Check: the router exists; its name, admin_state_up and gateway network match.
"""

from openstack.network.v2 import router as sdk_router

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron

ATTRIBUTES = ('status', 'external_gateway_info', 'name', 'admin_state_up', 'tenant_id', 'tags')
PLAIN = ('name', 'admin_state_up', 'distributed', 'ha')


class Router(neutron.NeutronResource):
    """A resource that implements Neutron router."""

    type_name = 'OS::Neutron::Router'
    kind = 'router'
    sdk_class = sdk_router.Router
    attribute_names = ATTRIBUTES

    properties_schema = {
        'name': Schema(Schema.STRING, 'The name of the router.', update_allowed=True),
        'external_gateway_info': Schema(
            Schema.MAP, 'External network gateway configuration for a router.',
            update_allowed=True, schema={
                'network': Schema(Schema.STRING, 'ID or name of the external network for the '
                                  'gateway.', required=True, update_allowed=True),
                'enable_snat': Schema(Schema.BOOLEAN, 'Enables Source NAT on the router '
                                      'gateway.', update_allowed=True),
                'external_fixed_ips': Schema(
                    Schema.LIST, 'External fixed IP addresses for the gateway.',
                    update_allowed=True, schema=Schema(Schema.MAP, schema={
                        'ip_address': Schema(Schema.STRING, 'External fixed IP address.'),
                        'subnet': Schema(Schema.STRING, 'Subnet of external fixed IP '
                                         'address.')})),
            }),
        'admin_state_up': Schema(Schema.BOOLEAN, 'The administrative state of the router.',
                                 default=True, update_allowed=True),
        'value_specs': Schema(Schema.MAP, 'Extra parameters to include in the creation '
                              'request.', default={}, update_allowed=True),
        'distributed': Schema(Schema.BOOLEAN, 'Whether the router is distributed (DVR).'),
        'ha': Schema(Schema.BOOLEAN, 'Whether the router is highly available (L3 HA).'),
        'tags': Schema(Schema.LIST, 'The tags to be added to the router.',
                       schema=Schema(Schema.STRING), update_allowed=True),
    }

    attributes_schema = {name: attributes.Schema('The %s of the router.'
                                                 % name.replace('_', ' '))
                         for name in ATTRIBUTES}

    observed = {'name': 'name', 'admin_state_up': 'is_admin_state_up'}

    @classmethod
    def implicit_dependencies(cls, name, view):
        """The Subnets of the stack on the gateway network (the gateway port takes an
        address from one of them)."""
        info = (view.properties(name) or {}).get('external_gateway_info')
        if not isinstance(info, dict):
            return []
        return neutron.subnets_on_network(view, info.get('network'))

    def _gateway(self, action):
        info = self.properties['external_gateway_info']
        if not info:
            return None
        out = {'network_id': self.lookup('network', info['network'], action).id}
        if info.get('enable_snat') is not None:
            out['enable_snat'] = info['enable_snat']
        fixed = []
        for item in info.get('external_fixed_ips') or []:
            entry = {}
            if item.get('subnet'):
                entry['subnet_id'] = self.lookup('subnet', item['subnet'], action).id
            if item.get('ip_address'):
                entry['ip_address'] = item['ip_address']
            fixed.append(entry)
        if fixed:
            out['external_fixed_ips'] = fixed
        return out

    def create_object(self, token):
        p = self.properties
        body = {k: p[k] for k in PLAIN if p[k] is not None}
        body.setdefault('name', self.physical_resource_name())
        gateway = self._gateway(base.CREATE)
        if gateway is not None:
            body['external_gateway_info'] = gateway
        body.update(common.value_specs(p))
        return self.create_tagged(body, token)

    def update_object(self, prop_diff):
        p = self.properties
        body = {k: p[k] for k in prop_diff if k in PLAIN and p[k] is not None}
        if 'external_gateway_info' in prop_diff:
            body['external_gateway_info'] = self._gateway(base.UPDATE) or {}
        if 'value_specs' in prop_diff:
            body.update(common.value_specs(p))
        self.update_fields(self.update_tags(prop_diff, body))

    def drift(self, obj):
        out = super().drift(obj)
        info = self.properties['external_gateway_info']
        actual = (obj.external_gateway_info or {}).get('network_id')
        wanted = self.lookup('network', info['network'], base.CHECK).id if info else None
        if actual != wanted:
            out.append('external gateway network is %r, expected %r' % (actual, wanted))
        return out
