"""OS::Nova::Server: a Nova server on Neutron networks, through openstacksdk.

Heat's properties: name, image, image_update_policy, flavor (required), flavor_update_policy,
key_name, availability_zone, security_groups, networks (each: network, port, fixed_ip,
subnet, or allocate_network alone), block_device_mapping_v2 (volume_id, image / image_id,
snapshot_id, swap_size, device_name, device_type, disk_bus, boot_index, volume_size,
delete_on_termination), metadata, user_data, user_data_format, user_data_update_policy,
software_config_transport, config_drive, admin_pass, scheduler_hints, tags. Flavor, image,
networks, subnets and the images of block devices are given by name or id.

In place, as Heat: name, metadata, admin_pass, tags; flavor by resize and confirm
(``flavor_update_policy: RESIZE``), image by rebuild (``image_update_policy: REBUILD`` or
``REBUILD_PRESERVE_EPHEMERAL``); a user_data change replaces the server unless
``user_data_update_policy`` is IGNORE. Unlike Heat, a change of networks or security_groups
replaces the server (no interface attach and detach), and ``block_device_mapping`` (v1) and
``personality`` are not supported.

Replacement: the new server is created before the old one is deleted, and Nova binds a port
to one server only (409 PortInUse). So, as Heat's prepare_for_replace, the ports the
template gives (``networks[*].port``) are detached from the old server first (``DELETE
/servers/ID/os-interface/PORT``, waiting until Neutron shows them unbound); the ports Nova
made for ``networks[*].network`` stay with the old server and go with it. When the
replacement fails and the update is rolled back, restore_prev_rsrc takes the given ports
back: detached from the failed replacement when it holds them (unbound through Neutron when
Nova refuses, the replacement being in BUILD or ERROR: it is deleted next), then attached
to the old server again. Both converge: a port already where it should be is left alone.

user_data, as Heat builds it for Nova (base64, which openstacksdk's proxy leaves to its
caller), with these differences (there is no Heat metadata server, software-config service
or heat-cfntools here):

- RAW: the text unchanged. Heat loads a software config when the text is a config id; here
  ``get_resource`` of an OS::Heat::CloudConfig or MultipartMime already gives the config
  text (see cloud_config.py), so the text is used as it is.
- SOFTWARE_CONFIG: a multipart MIME message of the user data's parts (a multipart text is
  split, anything else is one ``x-shellscript`` part named ``userdata``), as Heat; Heat's
  own boot parts (its cloud-config, boothook, part handler and the os-collect-config
  credentials) are not added, and ``software_config_transport`` is not acted on.
- HEAT_CFNTOOLS (the default): a multipart message whose part ``cfn-userdata`` is the text
  as an ``x-shellscript``, so cloud-init runs it at first boot as heat-cfntools'
  loguserdata.py would; no cfn metadata, watch server or boto configuration.
- An empty user_data sends none, whatever the format.

A network entry with a ``subnet`` gets a port made by this resource (Nova takes no subnet),
as Heat's internal ports: on the entry's network (or the subnet's), with the server's
security groups, tagged with the server's intent token and deleted after the server.

The intent token is a server tag (microversion 2.52), found again with ``GET
/servers/detail?tags=TOKEN``; user tags are kept beside it. Creation waits for ACTIVE; ERROR
fails with the server's ``fault.message``; a server still building when the stack's deadline
passes fails (the base). Attributes: name, addresses (with each address's port id), networks
(keys: network names and ids), first_address, instance_name, accessIPv4, accessIPv6, show.
Check: the server exists, is not in ERROR, and name, metadata, flavor and image match.
"""

import base64
import json
from email.mime import multipart

from openstack.compute.v2 import server as sdk_server

from heat_taskflow.common import polling
from heat_taskflow.resources import attributes, base, cloud
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron
from heat_taskflow.resources.types.openstack.multipart_mime import mime_part, split_parts
from heat_taskflow.template import constraints as constr

INTERNAL_PORTS_KEY = 'internal_ports'
# How a port's move between servers is watched, and how long at most when the stack
# operation has no deadline.
PORT_POLL = polling.backoff(0.05, 1.0)
PORT_WAIT = 120.0

_BDM_V2 = Schema(Schema.MAP, schema={
    'device_name': Schema(Schema.STRING, 'A device name where the volume will be attached in '
                          'the system at /dev/device_name.'),
    'volume_id': Schema(Schema.STRING, 'The volume (name or id) to attach, boot or non-boot.'),
    'image': Schema(Schema.STRING, 'The image (name or id) to create a volume from.'),
    'image_id': Schema(Schema.STRING, 'Deprecated in Heat: use image.'),
    'snapshot_id': Schema(Schema.STRING, 'The ID of the snapshot to create a volume from.'),
    'swap_size': Schema(Schema.INTEGER, 'The size of the swap, in MB.'),
    'device_type': Schema(Schema.STRING, 'Device type: disk or cdrom.',
                          constraints=[constr.AllowedValues(['cdrom', 'disk'])]),
    'disk_bus': Schema(Schema.STRING, 'Bus of the device.', constraints=[constr.AllowedValues(
        ['ide', 'lame_bus', 'scsi', 'usb', 'virtio'])]),
    'boot_index': Schema(Schema.INTEGER, 'Integer used for ordering the boot disks.'),
    'volume_size': Schema(Schema.INTEGER, 'Size of the block device in GB.'),
    'delete_on_termination': Schema(Schema.BOOLEAN, 'Whether the volume is deleted when the '
                                    'server is terminated.'),
})


class Server(common.CloudResource):
    """A resource for managing Nova instances."""

    type_name = 'OS::Nova::Server'
    kind = 'server'
    ready_status = 'ACTIVE'
    failed_statuses = ('ERROR',)
    observed = {'name': 'name'}

    properties_schema = {
        'name': Schema(Schema.STRING, 'Server name.', update_allowed=True),
        'image': Schema(Schema.STRING, 'The ID or name of the image to boot with.',
                        update_allowed=True,
                        constraints=[constr.CustomConstraint('glance.image')]),
        'image_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply an image-id update; either by requesting a '
            'server rebuild or by replacing the entire server.', default='REBUILD',
            update_allowed=True, constraints=[constr.AllowedValues(
                ['REBUILD', 'REPLACE', 'REBUILD_PRESERVE_EPHEMERAL'])]),
        'block_device_mapping_v2': Schema(Schema.LIST, 'Block device mappings v2 for this '
                                          'server.', schema=_BDM_V2),
        'flavor': Schema(Schema.STRING, 'The ID or name of the flavor to boot onto.',
                         required=True, update_allowed=True,
                         constraints=[constr.CustomConstraint('nova.flavor')]),
        'flavor_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply a flavor update; either by requesting a '
            'server resize or by replacing the entire server.', default='RESIZE',
            update_allowed=True, constraints=[constr.AllowedValues(['RESIZE', 'REPLACE'])]),
        'key_name': Schema(Schema.STRING, 'Name of keypair to inject into the server.',
                           constraints=[constr.CustomConstraint('nova.keypair')]),
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
                'allocate_network': Schema(Schema.STRING, 'The special string values of '
                                           'network, auto: automatic network allocation; '
                                           'none: no networking (the only entry then).',
                                           constraints=[constr.AllowedValues(['none',
                                                                              'auto'])]),
            })),
        'metadata': Schema(Schema.MAP, 'Arbitrary key/value metadata to store for this '
                           'server (non-string values are stored as JSON).',
                           update_allowed=True),
        'user_data': Schema(Schema.STRING, 'User data script to be executed by cloud-init.',
                            default='', update_allowed=True),
        'user_data_update_policy': Schema(
            Schema.STRING, 'Policy on how to apply a user_data update; either by ignoring it '
            'or by replacing the entire server.', default='REPLACE', update_allowed=True,
            constraints=[constr.AllowedValues(['REPLACE', 'IGNORE'])]),
        'user_data_format': Schema(
            Schema.STRING, 'How the user_data should be formatted for the server.',
            default='HEAT_CFNTOOLS',
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
                                       'port_id; each network has two keys, its name and '
                                       'its id.', attributes.Schema.MAP),
        'networks': attributes.Schema('A dict of assigned network addresses of the form: '
                                      '{"public": [ip1, ip2...], "public_uuid": [ip1, '
                                      'ip2...]}.', attributes.Schema.MAP),
        'first_address': attributes.Schema('The first assigned network address, or an empty '
                                           'string (deprecated in Heat).',
                                           attributes.Schema.STRING),
        'instance_name': attributes.Schema('AWS compatible instance name.',
                                           attributes.Schema.STRING),
        'accessIPv4': attributes.Schema('The manually assigned alternative public IPv4 '
                                        'address of the server.', attributes.Schema.STRING),
        'accessIPv6': attributes.Schema('The manually assigned alternative public IPv6 '
                                        'address of the server.', attributes.Schema.STRING),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ports = None

    @classmethod
    def implicit_dependencies(cls, name, view):
        """The Subnets of the networks this server's ``networks`` entries name (Heat's
        Server.add_dependencies: the server may take an address from any of them)."""
        networks = view.properties(name).get('networks')
        if not isinstance(networks, list):
            return ()
        out = []
        for entry in networks:
            if isinstance(entry, dict) and entry.get('network'):
                out.extend(n for n in neutron.subnets_on_network(view, entry['network'])
                           if n not in out)
        return out

    # -- validation and replacement --------------------------------------------------------

    def validate(self, partial=False):
        """A network entry names a network, a subnet or a port; a server boots from an image
        or a block device."""
        super().validate(partial)
        # Raw values: at validation time (partial) a reference may still be None.
        for index, entry in enumerate(self.properties.data.get('networks') or []):
            if not isinstance(entry, dict):
                continue
            if entry.get('port') is not None and (entry.get('network') is not None or
                                                  entry.get('subnet') is not None):
                raise self.invalid(('networks', index), 'port cannot be given with network '
                                   'or subnet')
            if entry.get('allocate_network') is not None and len(
                    self.properties.data['networks']) > 1:
                raise self.invalid(('networks', index), 'allocate_network must be the only '
                                   'entry of networks')
            if not partial and not any(entry.get(k) for k in ('network', 'port', 'subnet',
                                                              'allocate_network')):
                raise self.invalid(('networks', index), 'one of network, port, subnet or '
                                   'allocate_network is required')
        if not partial and not self.properties['image'] and \
                not self.properties['block_device_mapping_v2']:
            raise self.invalid('image', 'image is required unless block_device_mapping_v2 '
                               'gives a boot device')

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

    # -- replacement: the given ports move ------------------------------------------------

    def prepare_for_replace(self):
        """Detach the ports the template gives from this server, for its replacement."""
        if self.physical_id is None:
            return
        for port_id in self._given_ports():
            self._unbind(self.physical_id, port_id)

    def restore_prev_rsrc(self, replacement):
        """Attach the given ports to this server again, taken from the failed replacement
        when it holds them."""
        if self.physical_id is None:
            return
        holder = replacement.physical_id if replacement is not None else None
        for port_id in self._given_ports():
            if holder is not None:
                self._unbind(holder, port_id, forced=True)
            self._bind(port_id)

    def _given_ports(self):
        return [self._id_of('port', entry['port'], base.UPDATE)
                for entry in self.properties['networks'] or [] if entry.get('port')]

    def _port(self, port_id):
        return self.call(base.UPDATE, self.conn.network.get_port, port_id)

    def _unbind(self, server_id, port_id, forced=False):
        """Detach a port from a server (nothing when it is not bound there) and wait until
        it is unbound; ``forced``: when Nova refuses (409: the server is not ACTIVE or
        SHUTOFF), clear the port's binding through Neutron instead."""
        if self._port(port_id).device_id != server_id:
            return
        with self.failing(base.UPDATE):
            try:
                cloud.call(self.conn.compute.delete_server_interface, port_id,
                           server=server_id, ignore_missing=False)
            except cloud.NotFound:
                pass        # the server is gone, or the port no longer on it
            except cloud.Conflict:
                if not forced:
                    raise
                cloud.call(self.conn.network.update_port, port_id, device_id='',
                           device_owner='')
        self._wait_port(port_id, lambda device: device != server_id,
                        'detached from server %s' % server_id)

    def _bind(self, port_id):
        """Attach a port to this server (nothing when it is bound here already) and wait
        until Neutron shows it bound."""
        if self._port(port_id).device_id == self.physical_id:
            return
        with self.failing(base.UPDATE):
            try:
                cloud.call(self.conn.compute.create_server_interface, self.physical_id,
                           port_id=port_id)
            except cloud.Conflict:
                # A repeated attach whose first answer was lost finds the port bound here.
                if self._port(port_id).device_id != self.physical_id:
                    raise
        self._wait_port(port_id, lambda device: device == self.physical_id,
                        'attached to server %s' % self.physical_id)

    def _wait_port(self, port_id, done, what):
        """Poll the port until ``done(its device_id)``; fail at the stack's deadline."""
        left = self.time_left()
        deadline = self.now() + (PORT_WAIT if left is None else max(left, 0))
        try:
            polling.wait_until(lambda: done(self._port(port_id).device_id), PORT_POLL,
                               deadline=deadline, clock=self.now)
        except polling.TimedOut:
            raise ResourceFailure(self.name, 'port %s was not %s in time' % (port_id, what),
                                  base.UPDATE) from None

    # -- the create request ----------------------------------------------------------------

    def _id_of(self, kind, ref, action=base.CREATE):
        return self.lookup(kind, ref, action).id

    def _server_name(self):
        return self.properties['name'] or self.physical_resource_name()

    def _nics(self, token):
        nics = []
        for index, entry in enumerate(self.properties['networks'] or []):
            if entry.get('allocate_network'):
                return entry['allocate_network']
            if entry.get('port'):
                nics.append({'port': self._id_of('port', entry['port'])})
            elif entry.get('subnet'):
                nics.append({'port': self._internal_port(token, index, entry)})
            else:
                nic = {'uuid': self._id_of('network', entry['network'])}
                if entry.get('fixed_ip'):
                    nic['fixed_ip'] = entry['fixed_ip']
                nics.append(nic)
        # Nova (2.37+) needs a word when no network is asked for: let it choose, as
        # openstacksdk's cloud layer does.
        return nics or 'auto'

    def _internal_port(self, token, index, entry):
        """The port for a network entry with a subnet: the one an earlier try made (tagged
        with the token, named by its index), else a new one."""
        name = '%s-port-%d' % (self._server_name(), index)
        self.remember(INTERNAL_PORTS_KEY, lambda: True)   # delete looks for them only then
        for port in self.conn.network.ports(tags=token, name=name):
            return port.id
        subnet = self.lookup('subnet', entry['subnet'])
        fixed_ip = {'subnet_id': subnet.id}
        if entry.get('fixed_ip'):
            fixed_ip['ip_address'] = entry['fixed_ip']
        network_id = (self._id_of('network', entry['network']) if entry.get('network')
                      else subnet.network_id)
        attrs = {'name': name, 'network_id': network_id, 'fixed_ips': [fixed_ip],
                 'tags': [token]}
        groups = self.properties['security_groups']
        if groups:
            attrs['security_group_ids'] = [self._id_of('security_group', g) for g in groups]
        return self.conn.network.create_port(**attrs).id

    def _block_devices(self):
        devices = []
        for entry in self.properties['block_device_mapping_v2'] or []:
            device = self._block_device_source(entry)
            for key in ('device_name', 'device_type', 'disk_bus', 'boot_index', 'volume_size',
                        'delete_on_termination'):
                if entry.get(key) is not None:
                    device[key] = entry[key]
            devices.append(device)
        return devices

    def _block_device_source(self, entry):
        """The source of a block device, with Heat's defaults for it."""
        image = entry.get('image') or entry.get('image_id')
        if entry.get('volume_id'):
            source = {'uuid': self._id_of('volume', entry['volume_id']),
                      'source_type': 'volume'}
        elif entry.get('snapshot_id'):
            source = {'uuid': entry['snapshot_id'], 'source_type': 'snapshot'}
        elif image:
            source = {'uuid': self._id_of('image', image), 'source_type': 'image'}
        elif entry.get('swap_size'):
            return {'source_type': 'blank', 'destination_type': 'local', 'boot_index': -1,
                    'delete_on_termination': True, 'guest_format': 'swap',
                    'volume_size': entry['swap_size']}
        else:
            raise self.invalid('block_device_mapping_v2', 'a block device needs one of '
                               'volume_id, snapshot_id, image or swap_size')
        return dict(source, destination_type='volume', boot_index=0,
                    delete_on_termination=False)

    def user_data(self):
        """The user data Nova is given (base64), or None when there is none."""
        text = self.properties['user_data']
        if not text:
            return None
        data = build_user_data(text, self.properties['user_data_format'])
        return base64.b64encode(data.encode('utf-8')).decode('ascii')

    def create_object(self, token):
        p = self.properties
        attrs = {'name': self._server_name(),
                 'flavor_id': self._id_of('flavor', p['flavor']),
                 'networks': self._nics(token),
                 'tags': list(p['tags'] or []) + [token]}
        if p['image']:
            attrs['image_id'] = self._id_of('image', p['image'])
        if p['block_device_mapping_v2']:
            attrs['block_device_mapping'] = self._block_devices()
        if p['security_groups']:
            attrs['security_groups'] = [{'name': ref} for ref in p['security_groups']]
        if p['metadata'] is not None:
            attrs['metadata'] = serialise_metadata(p['metadata'])
        for prop, attr in (('key_name', 'key_name'), ('availability_zone', 'availability_zone'),
                           ('config_drive', 'config_drive'), ('admin_pass', 'admin_password'),
                           ('scheduler_hints', 'scheduler_hints')):
            if p[prop] is not None:
                attrs[attr] = p[prop]
        user_data = self.user_data()
        if user_data is not None:
            attrs['user_data'] = user_data
        return self.conn.compute.create_server(**attrs)

    # -- the object ------------------------------------------------------------------------

    def find_by_token(self, token):
        return next(iter(self.conn.compute.servers(tags=token)), None)

    def get_object(self, physical_id):
        return self.conn.compute.get_server(physical_id)

    def delete_object(self, physical_id):
        self.conn.compute.delete_server(physical_id)

    def poll_object(self, physical_id):
        return common.raw_get(self.conn.compute, sdk_server.Server, physical_id)

    def adopt_polled(self, polled):
        return sdk_server.Server.existing(connection=self.conn, **polled)

    def status_of(self, obj):
        # A server being deleted keeps its status (even ERROR) until it is gone.
        task_state = (obj.get('OS-EXT-STS:task_state') if isinstance(obj, dict)
                      else obj.task_state)
        if task_state == 'deleting':
            return 'DELETING'
        return common.field(obj, 'status')

    def fault_of(self, obj):
        fault = common.field(obj, 'fault') or {}
        if not fault:
            return None
        return '%s (code %s)' % (fault.get('message'), fault.get('code'))

    def check_delete_complete(self, cookie):
        """Once the server is gone, delete the ports made for its subnet entries."""
        if not super().check_delete_complete(cookie):
            return False
        token = self.data_get(common.TOKEN_KEY)
        if token is not None and self.data_get(INTERNAL_PORTS_KEY):
            for port in self.call(base.DELETE, lambda: list(self.conn.network.ports(
                    tags=token))):
                self.call(base.DELETE, self.conn.network.delete_port, port.id)
        return True

    # -- update ----------------------------------------------------------------------------

    def update_object(self, prop_diff):
        """Name, metadata, tags and password at once; flavor and image are started here and
        finished by check_update_complete."""
        p = self.properties
        compute = self.conn.compute
        handle = sdk_server.Server.existing(id=self.physical_id)
        if 'name' in prop_diff:
            compute.update_server(self.physical_id, name=self._server_name())
        if 'metadata' in prop_diff:
            handle.replace_metadata(compute, serialise_metadata(p['metadata'] or {}))
        if 'tags' in prop_diff:
            handle.set_tags(compute, list(p['tags'] or []) + [self.data_get(common.TOKEN_KEY)])
        if 'image' in prop_diff:
            self._rebuild(compute)
        elif 'admin_pass' in prop_diff and p['admin_pass']:
            compute.change_server_password(self.physical_id, p['admin_pass'])
        if 'flavor' in prop_diff:
            self._resize(compute)

    def _rebuild(self, compute):
        server = compute.get_server(self.physical_id)
        image_id = self._id_of('image', self.properties['image'], base.UPDATE)
        if _image_id(server) == image_id:
            return   # a re-run: the rebuild was made
        attrs = {'preserve_ephemeral':
                 self.properties['image_update_policy'] == 'REBUILD_PRESERVE_EPHEMERAL'}
        if self.properties['admin_pass']:
            attrs['admin_password'] = self.properties['admin_pass']
        compute.rebuild_server(server, image_id, **attrs)

    def _resize(self, compute):
        server = compute.get_server(self.physical_id)
        if self._flavor_matches(server) or server.status in ('RESIZE', 'VERIFY_RESIZE'):
            return   # a re-run: the resize was made (check_update_complete confirms it)
        compute.resize_server(server, self._id_of('flavor', self.properties['flavor'],
                                                  base.UPDATE))

    def _flavor_matches(self, server):
        wanted = self.lookup('flavor', self.properties['flavor'], base.UPDATE)
        flavor = server.flavor
        if flavor is None:
            return False
        # Since microversion 2.47 a server shows its flavor's name, not its id.
        return wanted.id == flavor.id or wanted.name == flavor.name

    def check_update_complete(self, cookie):
        """ACTIVE with the wanted flavor and image; a resize waiting for confirmation is
        confirmed (as Heat does)."""
        server = self.call(base.UPDATE, self.observe)
        if server is None:
            raise ResourceFailure(self.name, 'server %s vanished while it was updated'
                                  % self.physical_id, base.UPDATE)
        status = self.status_of(server)
        if status in self.failed_statuses:
            raise ResourceFailure(self.name, 'server %s went to status %s: %s' % (
                self.physical_id, status, self.fault_of(server) or 'the cloud gave no reason'),
                base.UPDATE)
        if status == 'VERIFY_RESIZE':
            self.call(base.UPDATE, self.conn.compute.confirm_server_resize, server)
            return False
        if status != self.ready_status:
            self._check_deadline(base.UPDATE, status)
            return False
        if not self.call(base.UPDATE, self._flavor_matches, server):
            return self._not_yet('flavor', server)
        image = self.properties['image']
        if image and _image_id(server) != self._id_of('image', image, base.UPDATE):
            return self._not_yet('image', server)
        return True

    def _not_yet(self, what, server):
        """An ACTIVE server without the wanted flavor or image: the action has not started
        yet, unless the deadline passed."""
        self._check_deadline(base.UPDATE, '%s (%s not changed yet)' % (server.status, what))
        return False

    # -- check -----------------------------------------------------------------------------

    def drift(self, obj):
        out = super().drift(obj)
        p = self.properties
        if p['metadata'] is not None and (obj.metadata or {}) != serialise_metadata(
                p['metadata']):
            out.append('metadata is %r, expected %r' % (obj.metadata, p['metadata']))
        if not self._flavor_matches(obj):
            out.append('flavor is %r, expected %r' % (obj.flavor.name if obj.flavor else None,
                                                      p['flavor']))
        if p['image'] and _image_id(obj) != self._id_of('image', p['image'], base.CHECK):
            out.append('image is %r, expected %r' % (_image_id(obj), p['image']))
        return out

    # -- attributes ------------------------------------------------------------------------

    def _port_of_address(self, server):
        """``{ip: port}`` of the server's Neutron ports (fetched once per instance)."""
        if self._ports is None:
            self._ports = {}
            for port in cloud.call(self.conn.network.ports, device_id=server.id):
                for ip in port.fixed_ips or []:
                    self._ports[ip['ip_address']] = port
        return self._ports

    def _by_network(self, server, entry):
        """``{label: [entry(addr, port)]}`` with each network also under its id."""
        ports = self._port_of_address(server)
        out = {}
        for label, addrs in (server.addresses or {}).items():
            values = [entry(addr, ports.get(addr['addr'])) for addr in addrs]
            out[label] = values
            net_ids = {p.network_id for p in (ports.get(a['addr']) for a in addrs) if p}
            for net_id in net_ids:
                out[net_id] = values
        return out

    def resolve_attribute(self, name):
        server = self.current()
        if server is None:
            return None
        if name == 'addresses':
            return self._by_network(server, lambda addr, port: dict(
                addr, port=port.id if port is not None else None))
        if name == 'networks':
            return self._by_network(server, lambda addr, port: addr['addr'])
        if name == 'first_address':
            return first_address(server.addresses)
        if name == 'name':
            return server.name
        if name == 'instance_name':
            return server.instance_name
        if name == 'accessIPv4':
            return server.access_ipv4
        if name == 'accessIPv6':
            return server.access_ipv6
        return None


def _image_id(server):
    image = server.image
    return image.id if image is not None else None


def first_address(addresses):
    """Heat's first_address: the first address of the last network label in sort order."""
    for label in sorted(addresses or {}, reverse=True):
        if addresses[label]:
            return addresses[label][0]['addr']
    return ''


def serialise_metadata(metadata):
    """Nova's metadata values are strings: other values are stored as JSON (as Heat)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}


def build_user_data(text, user_data_format):
    """The user data text for a format (see the module docstring)."""
    if user_data_format == 'RAW':
        return text
    if user_data_format == 'SOFTWARE_CONFIG':
        subparts = [mime_part(*part) for part in split_parts(text)] or [
            mime_part(text, 'x-shellscript', 'userdata')]
    else:
        subparts = [mime_part(text, 'x-shellscript', 'cfn-userdata')]
    return multipart.MIMEMultipart(_subparts=subparts).as_string()
