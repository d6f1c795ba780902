"""OS::Neutron::FloatingIPAssociation: a floating IP put on a port.

Heat's properties: floatingip_id, port_id (both required), fixed_ip_address; all update in
place. The physical id is the floating IP's id.

Intent token: none; the association is an update of the floating IP
(``PUT /v2.0/floatingips/ID`` with ``port_id``), which converges when repeated. Delete
disassociates (``port_id: null``); a floating IP already gone, or on another port, is fine.
The association exists while the floating IP is on the port.
Implicit dependencies (Heat's): the RouterInterfaces of the stack on its port's subnets.
"""

from openstack.network.v2 import floating_ip as sdk_floating_ip

from heat_taskflow.resources import cloud
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron


class FloatingIPAssociation(common.CloudResource):
    """A resource for associating a floating IP with a port."""

    type_name = 'OS::Neutron::FloatingIPAssociation'
    kind = 'floating IP association'

    properties_schema = {
        'floatingip_id': Schema(Schema.STRING, 'ID of the floating IP to associate.',
                                required=True, update_allowed=True),
        'port_id': Schema(Schema.STRING, 'ID of an existing port with at least one IP '
                          'address to associate with this floating IP.', required=True,
                          update_allowed=True),
        'fixed_ip_address': Schema(Schema.STRING, 'IP address to use if the port has '
                                   'multiple addresses.', update_allowed=True),
    }

    observed = {'fixed_ip_address': 'fixed_ip_address'}

    @classmethod
    def implicit_dependencies(cls, name, view):
        """The RouterInterfaces on the subnets of its port."""
        return neutron.interfaces_for_port(view, (view.properties(name) or {}).get('port_id'))

    def _port_id(self):
        return common.lookup(self.conn, 'port', self.properties['port_id']).id

    def _associate(self, fip_id, port_id):
        return neutron.update(self.conn, sdk_floating_ip.FloatingIP, fip_id, {
            'port_id': port_id, 'fixed_ip_address': self.properties['fixed_ip_address']})

    def create_object(self, token):
        return self._associate(self.properties['floatingip_id'], self._port_id())

    def find_by_token(self, token):
        return None     # re-sending the update converges

    def get_object(self, physical_id):
        fip = self.conn.network.get_ip(physical_id)
        return fip if fip.port_id is not None and fip.port_id == self._port_id() else None

    def delete_object(self, physical_id):
        """Disassociate, unless the floating IP is on another port by now."""
        if self.get_object(physical_id) is not None:
            neutron.update(self.conn, sdk_floating_ip.FloatingIP, physical_id,
                           {'port_id': None})

    def update_object(self, prop_diff):
        if 'floatingip_id' in prop_diff and self.physical_id is not None:
            try:
                self.delete_object(self.physical_id)
            except cloud.NotFound:
                pass
        fip = self._associate(self.properties['floatingip_id'], self._port_id())
        self.set_physical_id(fip.id)

    def show(self):
        return neutron.heat_fields(self.current())
