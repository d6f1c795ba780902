"""OS::Neutron::RouterInterface: a router's interface on a subnet (or on a given port).

Supported subset of Heat's type — properties: router (required), subnet or port (exactly
one); names or ids. Every change replaces the interface. No attributes besides show.
Check: the interface exists on the same router and subnet/port.
"""

from heat_taskflow.resources import base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common


class RouterInterface(common.CloudResource):
    """A resource for managing Neutron router interfaces."""

    type_name = 'OS::Neutron::RouterInterface'
    kind = 'router_interfaces'

    properties_schema = {
        'router': Schema(Schema.STRING, 'The router (name or id).', required=True),
        'subnet': Schema(Schema.STRING, 'The subnet (name or id); either subnet or port '
                         'should be specified.'),
        'port': Schema(Schema.STRING, 'The port (name or id); either subnet or port should '
                       'be specified.'),
    }

    def validate(self, partial=False):
        """Exactly one of subnet and port."""
        super().validate(partial)
        # Raw values: at validation time (partial) a reference may still be None.
        p = self.properties.data
        if partial and (p.get('subnet') is None and p.get('port') is None):
            return
        if (p.get('subnet') is None) == (p.get('port') is None):
            raise self.invalid('subnet', 'exactly one of subnet and port is required')

    def create_body(self):
        p = self.properties
        body = {'router_id': self.resolve('routers', p['router'])}
        if p['subnet'] is not None:
            body['subnet_id'] = self.resolve('subnets', p['subnet'])
        else:
            body['port_id'] = self.resolve('ports', p['port'])
        return body

    def drift(self, obj):
        p = self.properties
        out = []
        router = self.resolve('routers', p['router'], base.CHECK)
        if obj.get('router_id') != router:
            out.append('router is %r, expected %r' % (obj.get('router_id'), router))
        if p['subnet'] is not None:
            subnet = self.resolve('subnets', p['subnet'], base.CHECK)
            if obj.get('subnet_id') != subnet:
                out.append('subnet is %r, expected %r' % (obj.get('subnet_id'), subnet))
        elif obj.get('port_id') != self.resolve('ports', p['port'], base.CHECK):
            out.append('port is %r, expected %r' % (obj.get('port_id'), p['port']))
        return out
