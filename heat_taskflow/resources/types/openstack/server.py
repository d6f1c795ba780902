"""OS::Nova::Server: a Nova server (a virtual or bare-metal machine) on Neutron networks.

Supported subset of Heat's type — properties: name, image, image_update_policy, flavor
(required), flavor_update_policy, key_name, availability_zone, security_groups, networks
(each: network, port, fixed_ip, subnet), metadata, user_data, user_data_update_policy,
user_data_format, software_config_transport, config_drive, admin_pass, scheduler_hints,
tags. In place: name, metadata, admin_pass, tags; flavor (resize) and image (rebuild) unless
their update policy is REPLACE; user_data changes replace the server unless
user_data_update_policy is IGNORE. Unlike Heat, a change of networks or security_groups
replaces the server (no interface attach/detach). user_data_format and
software_config_transport are accepted and not acted on.
Attributes: name, addresses, networks, first_address, instance_name, accessIPv4,
accessIPv6, tags. Check: the server exists, is ACTIVE, and name, image, flavor and metadata
match.
"""

from heat_taskflow.resources import attributes
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

IN_PLACE = ('name', 'metadata', 'admin_pass', 'tags', 'flavor', 'image')


class Server(common.CloudResource):
    """A resource for managing Nova instances."""

    type_name = 'OS::Nova::Server'
    kind = 'servers'
    ready_status = 'ACTIVE'

    properties_schema = {
        'name': Schema(Schema.STRING, 'Server name.', update_allowed=True),
        'image': Schema(Schema.STRING, 'The ID or name of the image to boot with.',
                        update_allowed=True),
        'image_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply an image-id update; either by requesting a '
            'server rebuild or by replacing the entire server.', default='REBUILD',
            update_allowed=True, constraints=[constr.AllowedValues(
                ['REBUILD', 'REPLACE', 'REBUILD_PRESERVE_EPHEMERAL'])]),
        'flavor': Schema(Schema.STRING, 'The ID or name of the flavor to boot onto.',
                         required=True, update_allowed=True),
        'flavor_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply a flavor update; either by requesting a '
            'server resize or by replacing the entire server.', default='RESIZE',
            update_allowed=True, constraints=[constr.AllowedValues(['RESIZE', 'REPLACE'])]),
        'key_name': Schema(Schema.STRING, 'Name of keypair to inject into the server.'),
        'availability_zone': Schema(Schema.STRING, 'Name of the availability zone for server '
                                    'placement.'),
        'security_groups': Schema(Schema.LIST, 'List of security group names or IDs.',
                                  default=[]),
        'networks': Schema(
            Schema.LIST, 'An ordered list of nics to be added to this server.', default=[],
            schema=Schema(Schema.MAP, schema={
                'network': Schema(Schema.STRING, 'Name or ID of network to create a port '
                                  'on.'),
                'port': Schema(Schema.STRING, 'ID of an existing port to associate with this '
                               'server.'),
                'fixed_ip': Schema(Schema.STRING, 'Fixed IP address to specify for the port '
                                   'created on the requested network.'),
                'subnet': Schema(Schema.STRING, 'Subnet in which to allocate the IP address '
                                 'for the port created on the requested network.'),
            })),
        'metadata': Schema(Schema.MAP, 'Arbitrary key/value metadata to store for this '
                           'server.', update_allowed=True),
        'user_data': Schema(Schema.STRING, 'User data script to be executed by cloud-init.',
                            default='', update_allowed=True),
        'user_data_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply a user_data update; either by ignoring it '
            'or by replacing the entire server.', default='REPLACE', update_allowed=True,
            constraints=[constr.AllowedValues(['REPLACE', 'IGNORE'])]),
        'user_data_format': Schema(
            Schema.STRING, 'How the user_data should be formatted for the server (accepted, '
            'not acted on).', default='HEAT_CFNTOOLS',
            constraints=[constr.AllowedValues(['HEAT_CFNTOOLS', 'RAW', 'SOFTWARE_CONFIG'])]),
        'software_config_transport': Schema(
            Schema.STRING, 'How the server should receive the metadata required for software '
            'configuration (accepted, not acted on).', default='POLL_SERVER_CFN',
            update_allowed=True, constraints=[constr.AllowedValues(
                ['POLL_SERVER_CFN', 'POLL_SERVER_HEAT', 'POLL_TEMP_URL', 'ZAQAR_MESSAGE'])]),
        'config_drive': Schema(Schema.BOOLEAN, 'If True, enable config drive on the server.'),
        'admin_pass': Schema(Schema.STRING, 'The administrator password for the server.',
                             update_allowed=True),
        'scheduler_hints': Schema(Schema.MAP, 'Arbitrary key-value pairs specified by the '
                                  'client to help boot a server.'),
        'tags': Schema(Schema.LIST, 'Server tags.', schema=Schema(Schema.STRING),
                       update_allowed=True),
    }

    attributes_schema = {
        'name': attributes.Schema('Name of the server.', attributes.Schema.STRING),
        'addresses': attributes.Schema('A dict of all network addresses with corresponding '
                                       'port_id and subnets.', attributes.Schema.MAP),
        'networks': attributes.Schema('A dict of assigned network addresses of the form: '
                                      '{"public": [ip1, ip2...], "private": [ip3, ip4], '
                                      '"public_uuid": [ip1, ip2...], "private_uuid": [ip3, '
                                      'ip4]}.', attributes.Schema.MAP),
        'first_address': attributes.Schema('Convenience attribute to fetch the first assigned '
                                           'network address (deprecated in Heat).',
                                           attributes.Schema.STRING),
        'instance_name': attributes.Schema('AWS compatible instance name.',
                                           attributes.Schema.STRING),
        'accessIPv4': attributes.Schema('The manually assigned alternative public IPv4 '
                                        'address of the server.', attributes.Schema.STRING),
        'accessIPv6': attributes.Schema('The manually assigned alternative public IPv6 '
                                        'address of the server.', attributes.Schema.STRING),
        'tags': attributes.Schema('Tags from the server.', attributes.Schema.LIST),
    }

    observed = {'name': 'name', 'image': 'image', 'metadata': 'metadata'}

    def validate(self, partial=False):
        """A network entry names a network or a port, not both."""
        super().validate(partial)
        # Raw values: at validation time (partial) a reference may still be None.
        for index, entry in enumerate(self.properties.data.get('networks') or []):
            if not isinstance(entry, dict):
                continue
            if entry.get('network') is not None and entry.get('port') is not None:
                raise self.invalid(('networks', index), 'network and port cannot both be '
                                   'given')
            if not partial and entry.get('network') is None and entry.get('port') is None:
                raise self.invalid(('networks', index), 'one of network or port is required')

    def update_requires_replacement(self, new_properties):
        """Replace for changes not done in place, and as the update policies say."""
        new = self.make_properties(new_properties)
        diff = self.properties.diff(new)
        if 'image' in diff and new['image_update_policy'] == 'REPLACE':
            return True
        if 'flavor' in diff and new['flavor_update_policy'] == 'REPLACE':
            return True
        if 'user_data' in diff and new['user_data_update_policy'] == 'REPLACE':
            return True
        return super().update_requires_replacement(new)

    def _networks(self):
        out = []
        for entry in self.properties['networks'] or []:
            if entry.get('port'):
                out.append({'port': self.resolve('ports', entry['port'])})
                continue
            item = {'network': self.resolve('networks', entry['network'])}
            if entry.get('subnet'):
                item['subnet'] = self.resolve('subnets', entry['subnet'])
            if entry.get('fixed_ip'):
                item['fixed_ip'] = entry['fixed_ip']
            out.append(item)
        return out

    def create_body(self):
        p = self.properties
        body = {'name': p['name'] or self.physical_resource_name(), 'image': p['image'],
                'flavor': p['flavor'], 'networks': self._networks(),
                'security_groups': [self.resolve('security_groups', ref)
                                    for ref in p['security_groups'] or []]}
        for key in ('key_name', 'availability_zone', 'metadata', 'user_data', 'config_drive',
                    'admin_pass', 'scheduler_hints', 'tags'):
            if p[key] is not None:
                body[key] = p[key]
        return body

    def update_body(self, prop_diff):
        p = self.properties
        body = {}
        for key in IN_PLACE:
            if key in prop_diff:
                body[key] = p[key] if p[key] is not None else (
                    {} if key == 'metadata' else [] if key == 'tags' else None)
        if 'name' in body and body['name'] is None:
            body['name'] = self.physical_resource_name()
        if body.get('image') is None:
            body.pop('image', None)
        if body.get('admin_pass') is None:
            body.pop('admin_pass', None)
        return body

    def drift(self, obj):
        out = super().drift(obj)
        flavor = obj.get('flavor') or {}
        if self.properties['flavor'] not in (flavor.get('id'), flavor.get('name')):
            out.append('flavor is %r, expected %r' % (flavor.get('name'),
                                                      self.properties['flavor']))
        return out

    def before_delete(self, obj_id):
        """Nothing: Nova detaches volumes and deletes the ports it made itself."""

    def resolve_attribute(self, name):
        obj = self.current()
        if obj is None:
            return None
        if name == 'addresses':
            return obj.get('addresses') or {}
        if name == 'networks':
            out = {}
            for label, addrs in (obj.get('addresses') or {}).items():
                for addr in addrs:
                    out.setdefault(label, []).append(addr['addr'])
                    out.setdefault(addr['network_id'], []).append(addr['addr'])
            return out
        if name == 'first_address':
            for addrs in (obj.get('addresses') or {}).values():
                for addr in addrs:
                    if addr.get('version') == 4:
                        return addr['addr']
            return ''
        if name == 'instance_name':
            return obj.get('OS-EXT-SRV-ATTR:instance_name')
        if name in ('name', 'accessIPv4', 'accessIPv6', 'tags'):
            return obj.get(name)
        return None


