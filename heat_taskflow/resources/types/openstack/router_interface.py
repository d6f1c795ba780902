"""OS::Neutron::RouterInterface: a router's interface on a subnet (or on a given port).

Heat's properties: router (required), subnet or port (exactly one); names or ids. Every
change replaces the interface. No attributes besides show (the interface's port).
The physical id is Heat's: ``ROUTER_ID:subnet_id=SUBNET_ID`` or ``ROUTER_ID:port_id=PORT_ID``.

Intent token: none is carried; Neutron refuses a second interface of a router on the same
subnet, and a re-run looks the interface up first: the router's ports
(``GET /v2.0/ports?device_id=ROUTER``) with an address in the subnet, or the given port on
the router. Delete removes the interface (an interface already gone is fine); when the
router itself is gone (deleted behind the engine's back), the interface port it may have
left is deleted directly, so the delete ends and the subnet can go.
Implicit dependencies (Heat's): the Subnet of the stack that a literal ``subnet`` names (a
reference is an explicit one already).
"""

from openstack import exceptions as sdk_exc

from heat_taskflow.resources import base, cloud
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron


def parse_id(physical_id):
    """(router id, 'subnet_id' or 'port_id', id) of a physical id in Heat's form."""
    router_id, _, rest = physical_id.partition(':')
    key, _, value = rest.partition('=')
    return router_id, key, value


class RouterInterface(common.CloudResource):
    """A resource for managing Neutron router interfaces."""

    type_name = 'OS::Neutron::RouterInterface'
    kind = 'router interface'

    properties_schema = {
        'router': Schema(Schema.STRING, 'The router (name or id).', required=True),
        'subnet': Schema(Schema.STRING, 'The subnet (name or id); either subnet or port '
                         'should be specified.'),
        'port': Schema(Schema.STRING, 'The port (name or id); either subnet or port should '
                       'be specified.'),
    }

    @classmethod
    def implicit_dependencies(cls, name, view):
        """The Subnet a literal ``subnet`` names."""
        subnet = (view.properties(name) or {}).get('subnet')
        if not isinstance(subnet, str):
            return []
        return neutron.named_resources(view, subnet, neutron.SUBNET)

    def validate(self, partial=False):
        """Exactly one of subnet and port."""
        super().validate(partial)
        # Raw values: at validation time (partial) a reference may still be None.
        p = self.properties.data
        if partial and (p.get('subnet') is None and p.get('port') is None):
            return
        if (p.get('subnet') is None) == (p.get('port') is None):
            raise self.invalid('subnet', 'exactly one of subnet and port is required')

    def _wanted(self):
        """(router id, 'subnet_id' or 'port_id', id) the properties ask for; cloud.NotFound
        when one of them does not exist."""
        p = self.properties
        router = common.lookup(self.conn, 'router', p['router']).id
        if p['subnet'] is not None:
            return router, 'subnet_id', common.lookup(self.conn, 'subnet', p['subnet']).id
        return router, 'port_id', common.lookup(self.conn, 'port', p['port']).id

    def _port(self, router_id, key, value):
        """The router's port of the interface, or None."""
        if key == 'port_id':
            port = self.conn.network.get_port(value)
            return port if port.device_id == router_id else None
        for port in self.conn.network.ports(device_id=router_id):
            if any(ip.get('subnet_id') == value for ip in port.fixed_ips or []):
                return port
        return None

    def physical_id_of(self, port):
        _, key, value = self._wanted()
        return '%s:%s=%s' % (port.device_id, key, value)

    def create_object(self, token):
        router, key, value = self._wanted()
        answer = self.conn.network.add_interface_to_router(router, **{key[:-3]: value})
        return self.conn.network.get_port(answer['port_id'])

    def find_by_token(self, token):
        try:
            return self._port(*self._wanted())
        except cloud.NotFound:
            return None

    def get_object(self, physical_id):
        return self._port(*parse_id(physical_id))

    def delete_object(self, physical_id):
        router, key, value = parse_id(physical_id)
        try:
            self.conn.network.remove_interface_from_router(router, **{key[:-3]: value})
        except sdk_exc.NotFoundException:
            if self.conn.network.find_router(router) is not None:
                raise
            self._delete_orphan(router, key, value)

    def _delete_orphan(self, router_id, key, value):
        """The router is gone (removed behind the engine's back) and may have left its
        interface port: delete it, as Neutron lets one do once the router is gone (a port
        left on the subnet would keep the subnet from being deleted)."""
        try:
            port = self._port(router_id, key, value)
        except sdk_exc.NotFoundException:
            return
        if port is not None:
            self.conn.network.delete_port(port.id)

    def drift(self, obj):
        with self.failing(base.CHECK):
            wanted = '%s:%s=%s' % self._wanted()
        if self.physical_id != wanted:
            return ['the interface is %s, expected %s' % (self.physical_id, wanted)]
        return []

    def show(self):
        return neutron.heat_fields(self.current())
