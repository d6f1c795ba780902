"""Nova v2.1 as the simulator serves it under ``/compute``: servers, flavors, key pairs, groups.

Routes (below ``/compute/v2.1``): ``servers`` (+ ``detail``, filters name (a regex), status,
tags, tags-any, not-tags, image, flavor, key_name, limit/marker), ``servers/ID`` (GET, PUT,
DELETE), ``servers/ID/action`` (resize, confirmResize, revertResize, rebuild, os-stop,
os-start, reboot), ``servers/ID/metadata[/KEY]``, ``servers/ID/tags[/TAG]``,
``servers/ID/os-volume_attachments[/VOLUME_ID]``, ``flavors`` (+ ``detail``,
``os-extra_specs``), ``os-keypairs[/NAME]``, ``os-server-groups[/ID]``. Microversions 2.1 to
2.100; the views follow the requested one (flavor embedded from 2.47, tags from 2.26,
server group ``policy``/``rules`` from 2.64, ...).

A server's ``networks`` entry with ``uuid`` makes a port on that network (the port belongs to
the server and goes with it); one with ``port`` binds an existing port. A server is BUILD for
``build_time`` seconds, then ACTIVE. Its creation is audited with the ``htf-`` tag it carries
(or its ``heat_taskflow_token`` metadata); key pairs and server groups with their name.
"""

import base64
import binascii
import hashlib
import ipaddress
import random
import re
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from heat_taskflow.simcloud import framework, kinds
from heat_taskflow.simcloud.kinds import ApiError, Kind, bad_request, conflict, register

MIN_VERSION, MAX_VERSION = '2.1', '2.100'
SERVICE = framework.Service(
    'compute', '/compute', framework.nova_error,
    framework.Microversions('compute', MIN_VERSION, MAX_VERSION,
                            legacy_header='X-OpenStack-Nova-API-Version'))

FLAVORS = {f['id']: f for f in (
    {'id': '1', 'name': 'm1.tiny', 'vcpus': 1, 'ram': 512, 'disk': 1},
    {'id': '2', 'name': 'm1.small', 'vcpus': 1, 'ram': 2048, 'disk': 20},
    {'id': '3', 'name': 'm1.medium', 'vcpus': 2, 'ram': 4096, 'disk': 40},
    {'id': '4', 'name': 'm1.large', 'vcpus': 4, 'ram': 8192, 'disk': 80},
    {'id': '5', 'name': 'm1.xlarge', 'vcpus': 8, 'ram': 16384, 'disk': 160},
    {'id': '6', 'name': 'baremetal', 'vcpus': 24, 'ram': 131072, 'disk': 1000},
    {'id': '7', 'name': 'control', 'vcpus': 8, 'ram': 32768, 'disk': 100},
    {'id': '8', 'name': 'compute', 'vcpus': 16, 'ram': 65536, 'disk': 200},
    {'id': '9', 'name': 'ceph-storage', 'vcpus': 8, 'ram': 16384, 'disk': 500},
)}
SERVER_GROUP_POLICIES = ('affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity')
VM_STATES = {'BUILD': 'building', 'ACTIVE': 'active', 'SHUTOFF': 'stopped',
             'ERROR': 'error', 'RESIZE': 'active', 'VERIFY_RESIZE': 'resized',
             'REVERT_RESIZE': 'resized', 'REBUILD': 'active', 'REBOOT': 'active'}
TASK_STATES = {'BUILD': 'spawning', 'RESIZE': 'resize_migrating',
               'REVERT_RESIZE': 'resize_reverting', 'REBUILD': 'rebuilding',
               'REBOOT': 'rebooting'}
TOKEN_PREFIX = 'htf-'
TOKEN_METADATA = 'heat_taskflow_token'


def iso(timestamp):
    """Nova's timestamps: ``2026-01-31T12:00:00Z``."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(timestamp))


def intent_token(tags=(), metadata=None, description=None):
    """The heat-taskflow intent token a create carries (docs/cloud.md section 4), or None."""
    for tag in tags or ():
        if isinstance(tag, str) and tag.startswith(TOKEN_PREFIX):
            return tag
    value = (metadata or {}).get(TOKEN_METADATA)
    if value:
        return value
    if isinstance(description, str) and description.startswith(TOKEN_PREFIX):
        return description
    return None


def _ref_id(ref):
    """The id in a reference that may be a URL (``imageRef``, ``flavorRef``)."""
    return str(ref).rstrip('/').rsplit('/', 1)[-1] if ref else ref


def find_flavor(ref, status=400):
    flavor = FLAVORS.get(_ref_id(ref))
    if flavor is None:
        raise ApiError(status, 'FlavorNotFound', 'Flavor %s could not be found.' % ref)
    return flavor


def _check_tags(tags):
    if not isinstance(tags, list) or len(tags) > 50:
        raise bad_request('Invalid input for field/attribute tags: at most 50 tags, as a list')
    for tag in tags:
        if not isinstance(tag, str) or not 0 < len(tag) <= 60 or '/' in tag or ',' in tag:
            raise bad_request("Invalid input for field/attribute tags. Value: %r. Tags are "
                              "1 to 60 characters without '/' or ','" % (tag,))
    return list(dict.fromkeys(tags))


def _check_metadata(metadata):
    if not isinstance(metadata, dict) or len(metadata) > 128 or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
            for k, v in metadata.items()):
        raise bad_request('Invalid input for field/attribute metadata: a map of at most 128 '
                          'strings (keys 1-255 characters, values at most 255)')
    return dict(metadata)


# -- kinds -----------------------------------------------------------------------------------


@register
class Flavors(Kind):
    """The fixed flavor catalog (``FLAVORS``): nothing is stored."""

    name, label = 'flavors', 'Flavor'


@register
class Keypairs(Kind):
    """Key pairs, one name per user; the store id is derived from (user, name)."""

    name, label = 'keypairs', 'Keypair'

    @staticmethod
    def id_of(user_id, name):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, 'keypair:%s:%s' % (user_id, name)))

    def create(self, op, spec):
        name = spec.get('name')
        if not isinstance(name, str) or not re.match(r'^[\w\-\. @]{1,255}$', name):
            raise bad_request("Invalid input for field/attribute name. Value: %r. Key pair "
                              "names are 1-255 letters, digits, '-', '_', '.', '@' or spaces"
                              % (name,))
        body = {'id': self.id_of(op.user, name), 'name': name,
                'type': spec.get('type') or 'ssh', 'user_id': op.user,
                'created_at': iso(op.now)}
        if op.tx.get('keypairs', body['id']) is not None:
            raise conflict('KeyPairExists', "Key pair '%s' already exists." % name)
        public_key = spec.get('public_key')
        if public_key is None:
            key = ed25519.Ed25519PrivateKey.generate()
            body['_private_key'] = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption()).decode()
            public_key = key.public_key().public_bytes(
                serialization.Encoding.OpenSSH,
                serialization.PublicFormat.OpenSSH).decode() + ' Generated-by-Nova'
        body['public_key'] = public_key
        body['fingerprint'] = self.fingerprint(public_key)
        return body

    @staticmethod
    def fingerprint(public_key):
        parts = public_key.split() if isinstance(public_key, str) else []
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (IndexError, binascii.Error):
            raise bad_request('Keypair data is invalid: failed to generate fingerprint')
        digest = hashlib.md5(blob).hexdigest()
        return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


@register
class ServerGroups(Kind):
    name, label = 'server_groups', 'ServerGroup'

    def create(self, op, spec):
        name = spec.get('name')
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise bad_request('Invalid input for field/attribute name: 1-255 characters')
        policy = spec.get('policy')
        if policy is None and isinstance(spec.get('policies'), list) and \
                len(spec['policies']) == 1:
            policy = spec['policies'][0]
        if policy not in SERVER_GROUP_POLICIES:
            raise bad_request('Invalid input for field/attribute policy. Value: %r. It must '
                              'be one of %s' % (policy, ', '.join(SERVER_GROUP_POLICIES)))
        rules = spec.get('rules') or {}
        if rules and policy != 'anti-affinity':
            raise bad_request('Only anti-affinity policy supports rules.')
        return {'name': name, 'policy': policy, 'rules': rules, 'members': [],
                'metadata': {}, 'project_id': op.project, 'user_id': op.user}

    def delete(self, op, body):
        for server_id in body['members']:
            server = op.tx.get('servers', server_id)
            if server is not None:
                server['_group'] = None
                op.tx.update('servers', server)


@register
class VolumeAttachments(Kind):
    """A volume attached to a server (Nova's os-volume_attachments; parent: the server)."""

    name, label = 'volume_attachments', 'VolumeAttachment'

    def create(self, op, spec, building=False):
        servers, volumes = kinds.KINDS['servers'], kinds.KINDS['volumes']
        server = servers.settle(op, op.require('servers', spec['server_id']))
        volume = volumes.settle(op, op.require('volumes', spec['volume_id']))
        if not building and server['status'] not in ('ACTIVE', 'SHUTOFF'):
            raise conflict('InstanceInvalidState', "Cannot 'attach_volume' instance %s while "
                           "it is in vm_state %s" % (server['id'],
                                                     VM_STATES.get(server['status'])))
        mine = op.tx.find('volume_attachments', parent=server['id'])
        if any(a['volume_id'] == volume['id'] for a in mine):
            raise bad_request('Invalid volume: volume %s is already attached to the instances: '
                              '%s' % (volume['id'], server['id']))
        if volume['status'] != 'available' and not (
                volume['status'] == 'in-use' and volume.get('multiattach')):
            raise bad_request('Invalid volume: volume %s status must be available, but the '
                              'current status is: %s' % (volume['id'], volume['status']))
        used = {a['device'] for a in mine}
        device = spec.get('device')
        if device in used:
            raise bad_request('The supplied device path (%s) is in use.' % device)
        if not device:
            device = next('/dev/vd%s' % c for c in 'bcdefghijklmnopqrstuvwxyz'
                          if '/dev/vd%s' % c not in used)
        volume['status'] = 'in-use'
        op.tx.update('volumes', volume)
        return {'server_id': server['id'], 'volume_id': volume['id'], 'device': device,
                'tag': spec.get('tag'), 'project_id': op.project,
                'delete_on_termination': bool(spec.get('delete_on_termination')),
                'bdm_uuid': str(uuid.uuid4()), 'attached_at': iso(op.now)}

    def delete(self, op, body):
        volume = op.tx.get('volumes', body['volume_id'])
        if volume is None:
            return
        others = [a for a in op.tx.find('volume_attachments', volume_id=volume['id'])
                  if a['id'] != body['id']]
        volume = kinds.KINDS['volumes'].settle(op, volume)
        volume['status'] = 'in-use' if others else 'available'
        op.tx.update('volumes', volume)


def _set_status(body, status):
    """Change a server's status at once (no transition)."""
    body['status'] = status
    body.pop('_ready_at', None)
    body.pop('_ready_status', None)


def _security_group(op, ref):
    body = op.get('security_groups', ref)
    if body is None:
        named = op.find('security_groups', name=ref)
        if len(named) != 1:
            raise bad_request('Security group %s not found for project %s.'
                              % (ref, op.project))
        body = named[0]
    return body


@register
class Servers(Kind):
    """Servers, made from Nova's create body (``server`` plus ``os:scheduler_hints``)."""

    name, label = 'servers', 'Instance'
    create_fields = frozenset((
        'name', 'imageRef', 'flavorRef', 'networks', 'block_device_mapping_v2',
        'block_device_mapping', 'key_name', 'user_data', 'metadata', 'security_groups',
        'availability_zone', 'config_drive', 'adminPass', 'tags', 'description',
        'accessIPv4', 'accessIPv6', 'min_count', 'max_count', 'OS-DCF:diskConfig',
        'hostname', 'return_reservation_id', 'personality', 'trusted_image_certificates',
        'host', 'hypervisor_hostname', 'scheduler_hints'))

    def create(self, op, spec):
        unknown = sorted(set(spec) - self.create_fields)
        if unknown:
            raise bad_request("Invalid input for field/attribute server. Additional properties "
                              "are not allowed (%s were unexpected)" % ', '.join(unknown))
        name = spec.get('name')
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise bad_request("Invalid input for field/attribute name: 1-255 characters")
        body = {'id': str(uuid.uuid4()), 'name': name, 'description': spec.get('description'),
                'flavor': find_flavor(spec.get('flavorRef')),
                'key_name': spec.get('key_name'),
                'availability_zone': spec.get('availability_zone') or 'nova',
                'metadata': _check_metadata(spec.get('metadata') or {}),
                'tags': _check_tags(spec.get('tags') or []),
                'user_data': spec.get('user_data'),
                'config_drive': bool(spec.get('config_drive')),
                'accessIPv4': spec.get('accessIPv4') or '',
                'accessIPv6': spec.get('accessIPv6') or '',
                'project_id': op.project, 'tenant_id': op.project, 'user_id': op.user,
                'created': iso(op.now), 'updated': iso(op.now), '_ports': [],
                '_admin_pass': spec.get('adminPass'), '_group': None,
                'instance_name': 'instance-%08x' % random.randrange(1 << 32)}
        if body['key_name'] is not None and op.tx.get(
                'keypairs', Keypairs.id_of(op.user, body['key_name'])) is None:
            raise bad_request('Invalid key_name provided.')
        if body['user_data'] is not None:
            try:
                base64.b64decode(body['user_data'], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise bad_request('User data needs to be valid base 64.')
        groups = [_security_group(op, (entry or {}).get('name'))
                  for entry in spec.get('security_groups') or []]
        # Nova records 'default' when none is asked for (Neutron's default group applies).
        body['security_groups'] = [g['name'] for g in groups] or ['default']
        body['_security_group_ids'] = [g['id'] for g in groups]
        boots_from_volume = any(str(b.get('boot_index')) == '0'
                                for b in spec.get('block_device_mapping_v2') or [])
        image_id = _ref_id(spec.get('imageRef'))
        if image_id:
            kinds.KINDS['images'].require_active(op, image_id)
        elif not boots_from_volume:
            raise bad_request('Block Device Mapping is Invalid: You specified more local '
                              'devices than the limit allows')
        body['image'] = image_id or ''
        hints = spec.get('scheduler_hints') or {}
        if hints.get('group'):
            group = op.get('server_groups', hints['group'])
            if group is None:
                raise bad_request('Invalid server group %s' % hints['group'])
            body['_group'] = group['id']
        self._plug(op, body, spec.get('networks'))
        body['_bdm'] = [self._check_bdm(op, b) for b in spec.get('block_device_mapping_v2')
                        or []]
        return self.transition(op, body, 'BUILD', 'ACTIVE')

    @staticmethod
    def _check_bdm(op, bdm):
        source, destination = bdm.get('source_type'), bdm.get('destination_type', 'volume')
        if destination != 'volume':
            return None
        if source == 'volume':
            op.require('volumes', bdm.get('uuid'), status=400)
        elif source in ('image', 'blank'):
            if source == 'image':
                kinds.KINDS['images'].require_active(op, bdm.get('uuid'))
            if not isinstance(bdm.get('volume_size'), int) or bdm['volume_size'] < 1:
                raise bad_request('Block Device Mapping is Invalid: volume_size must be an '
                                  'integer >= 1 for a %s source' % source)
        else:
            raise bad_request('Block Device Mapping is Invalid: source_type %r' % source)
        return bdm

    def _attach_bdm(self, op, body, bdm, index):
        volume_id = bdm.get('uuid') if bdm['source_type'] == 'volume' else None
        if volume_id is None:
            spec = {'size': bdm['volume_size'], 'name': '',
                    'imageRef': bdm.get('uuid') if bdm['source_type'] == 'image' else None}
            volume = kinds.KINDS['volumes'].create(op.at_once(), spec)
            volume_id = op.tx.insert('volumes', volume, token=op.sub_token('volume-%d' % index),
                                     parent=body['id'])['id']
        attachment = VolumeAttachments().create(op, {
            'server_id': body['id'], 'volume_id': volume_id,
            'device': bdm.get('device_name') or ('/dev/vda' if str(bdm.get('boot_index'))
                                                 == '0' else None),
            'delete_on_termination': bdm.get('delete_on_termination', False)}, building=True)
        op.tx.insert('volume_attachments', attachment, parent=body['id'])

    def _plug(self, op, body, networks):
        if networks in (None, 'none', 'auto'):
            return
        if not isinstance(networks, list):
            raise bad_request("Invalid input for field/attribute networks: a list, 'auto' or "
                              "'none'")
        sg_ids = body['_security_group_ids']
        owner = 'compute:%s' % body['availability_zone']
        for index, entry in enumerate(networks):
            if entry.get('port'):
                port = op.get('ports', entry['port'])
                if port is None:
                    raise ApiError(404, 'PortNotFound', 'Port id %s could not be found.'
                                   % entry['port'])
                if port.get('device_id'):
                    raise conflict('PortInUse', 'Port %s is still in use.' % port['id'])
                port.update(device_id=body['id'], device_owner=owner)
                op.tx.update('ports', port)
            else:
                net = op.get('networks', entry.get('uuid'))
                if net is None:
                    raise bad_request('Network %s could not be found.' % entry.get('uuid'))
                fixed = [{'ip_address': entry['fixed_ip']}] if entry.get('fixed_ip') else []
                spec = {'network_id': net['id'], 'fixed_ips': fixed, 'device_id': body['id'],
                        'device_owner': owner}
                if sg_ids:
                    spec['security_groups'] = sg_ids
                port = kinds.KINDS['ports'].create(op, spec)
                port = op.tx.insert('ports', port, token=op.sub_token('port-%d' % index),
                                    parent=body['id'])
            body['_ports'].append(port['id'])

    def after_insert(self, op, body):
        for index, bdm in enumerate(body.pop('_bdm')):
            if bdm is not None:
                self._attach_bdm(op, body, bdm, index)
        op.tx.update('servers', body)
        if body['_group']:
            group = op.tx.get('server_groups', body['_group'])
            group['members'] = group['members'] + [body['id']]
            op.tx.update('server_groups', group)

    def ports(self, op, body):
        """The ports bound to a server."""
        out = []
        for port_id in body.get('_ports', ()):
            port = op.tx.get('ports', port_id)
            if port is not None and port.get('device_id') == body['id']:
                out.append(port)
        return out

    def view(self, op, body):
        out = super().view(op, body)
        addresses, group_ids = {}, []
        for port in self.ports(op, body):
            group_ids.extend(port.get('security_groups') or ())
            net = op.tx.get('networks', port['network_id']) or {}
            label = net.get('name') or port['network_id']
            for ip in port['fixed_ips']:
                addresses.setdefault(label, []).append({
                    'addr': ip['ip_address'], 'OS-EXT-IPS:type': 'fixed',
                    'version': ipaddress.ip_address(ip['ip_address']).version,
                    'OS-EXT-IPS-MAC:mac_addr': port['mac_address']})
            for fip in op.tx.find('floatingips', port_id=port['id']):
                addresses.setdefault(label, []).append({
                    'addr': fip['floating_ip_address'], 'OS-EXT-IPS:type': 'floating',
                    'version': ipaddress.ip_address(fip['floating_ip_address']).version,
                    'OS-EXT-IPS-MAC:mac_addr': port['mac_address']})
        out['addresses'] = addresses
        if group_ids:
            # As Nova shows them: the groups of the server's ports, by name.
            groups = (op.tx.get('security_groups', i) for i in dict.fromkeys(group_ids))
            out['security_groups'] = [g['name'] for g in groups if g is not None]
        out['_group'] = body.get('_group')
        out['_attachments'] = op.tx.find('volume_attachments', parent=body['id'])
        if out['status'] == 'ERROR':
            out['fault'] = body.get('fault') or {
                'code': 500, 'message': 'No valid host was found. ',
                'created': body['updated']}
        return out

    def action(self, op, body, name, args):
        """Run a server action (``resize``, ``rebuild``, ...); its status code."""
        body = self.settle(op, body)
        handler = getattr(self, '_action_' + name.replace('-', '_'), None)
        if handler is None:
            raise bad_request('There is no such action: %s' % name)
        status = handler(op, body, args if isinstance(args, dict) else {})
        body['updated'] = iso(op.now)
        op.tx.update('servers', body)
        return status

    @staticmethod
    def _require_state(body, action, *statuses):
        if body['status'] not in statuses:
            raise conflict('InstanceInvalidState', "Cannot '%s' instance %s while it is in "
                           "vm_state %s" % (action, body['id'], VM_STATES.get(
                               body['status'], body['status'].lower())))

    def _action_resize(self, op, body, args):
        self._require_state(body, 'resize', 'ACTIVE', 'SHUTOFF')
        flavor = find_flavor(args.get('flavorRef'))
        if flavor['id'] == body['flavor']['id']:
            raise bad_request('When resizing, instances must change flavor!')
        body['_old_flavor'], body['flavor'] = body['flavor'], flavor
        self.transition(op, body, 'RESIZE', 'VERIFY_RESIZE')
        return 202

    def _action_confirmResize(self, op, body, args):
        self._require_state(body, 'confirmResize', 'VERIFY_RESIZE')
        body.pop('_old_flavor', None)
        _set_status(body, 'ACTIVE')
        return 204

    def _action_revertResize(self, op, body, args):
        self._require_state(body, 'revertResize', 'VERIFY_RESIZE')
        body['flavor'] = body.pop('_old_flavor', body['flavor'])
        self.transition(op, body, 'REVERT_RESIZE', 'ACTIVE')
        return 202

    def _action_rebuild(self, op, body, args):
        self._require_state(body, 'rebuild', 'ACTIVE', 'SHUTOFF', 'ERROR')
        image_id = _ref_id(args.get('imageRef'))
        kinds.KINDS['images'].require_active(op, image_id)
        body['image'] = image_id
        for key in ('name', 'description', 'key_name', 'user_data'):
            if key in args:
                body[key] = args[key]
        if 'metadata' in args:
            body['metadata'] = _check_metadata(args['metadata'])
        self.transition(op, body, 'REBUILD', 'ACTIVE')
        return 202

    def _action_os_stop(self, op, body, args):
        self._require_state(body, 'stop', 'ACTIVE', 'ERROR')
        _set_status(body, 'SHUTOFF')
        return 202

    def _action_os_start(self, op, body, args):
        self._require_state(body, 'start', 'SHUTOFF')
        _set_status(body, 'ACTIVE')
        return 202

    def _action_reboot(self, op, body, args):
        self._require_state(body, 'reboot', 'ACTIVE', 'SHUTOFF', 'ERROR')
        self.transition(op, body, 'REBOOT', 'ACTIVE')
        return 202

    def delete(self, op, body):
        owned = {p['id'] for p in op.tx.find('ports', parent=body['id'])}
        for port in self.ports(op, body):
            if port['id'] in owned:
                kinds.KINDS['ports'].delete(op, port)
                op.tx.delete('ports', port['id'])
            else:
                port.update(device_id='', device_owner='')
                op.tx.update('ports', port)
        for attachment in op.tx.find('volume_attachments', parent=body['id']):
            op.tx.delete('volume_attachments', attachment['id'])
            if attachment.get('delete_on_termination'):
                op.tx.delete('volumes', attachment['volume_id'])
            else:
                VolumeAttachments.delete(kinds.KINDS['volume_attachments'], op, attachment)
        group = op.tx.get('server_groups', body.get('_group') or '')
        if group is not None:
            group['members'] = [m for m in group['members'] if m != body['id']]
            op.tx.update('server_groups', group)


# -- views -----------------------------------------------------------------------------------


def _links(req, collection, obj_id):
    return [{'rel': 'self', 'href': framework.link(req, 'compute/v2.1', collection, obj_id)},
            {'rel': 'bookmark', 'href': framework.link(req, 'compute', collection, obj_id)}]


def _flavor_view(req, flavor, detail=True):
    out = {'id': flavor['id'], 'name': flavor['name'],
           'links': _links(req, 'flavors', flavor['id'])}
    if detail:
        out.update(ram=flavor['ram'], vcpus=flavor['vcpus'], disk=flavor['disk'],
                   swap=0 if req.at_least('2.75') else '', rxtx_factor=1.0,
                   **{'OS-FLV-EXT-DATA:ephemeral': 0, 'OS-FLV-DISABLED:disabled': False,
                      'os-flavor-access:is_public': True})
        if req.at_least('2.55'):
            out['description'] = None
        if req.at_least('2.61'):
            out['extra_specs'] = {}
    return out


def _server_flavor(req, flavor):
    if not req.at_least('2.47'):
        return {'id': flavor['id'], 'links': _links(req, 'flavors', flavor['id'])[1:]}
    return {'vcpus': flavor['vcpus'], 'ram': flavor['ram'], 'disk': flavor['disk'],
            'ephemeral': 0, 'swap': 0, 'original_name': flavor['name'], 'extra_specs': {}}


def _server_view(req, view):
    status = view['status']
    out = {
        'id': view['id'], 'name': view['name'], 'status': status,
        'tenant_id': view['project_id'], 'user_id': view['user_id'],
        'metadata': view['metadata'],
        'hostId': hashlib.sha224((view['project_id'] + 'simcloud').encode()).hexdigest(),
        'image': {'id': view['image'], 'links': _links(req, 'images', view['image'])[1:]}
        if view['image'] else '',
        'flavor': _server_flavor(req, view['flavor']),
        'created': view['created'], 'updated': view['updated'],
        'addresses': view['addresses'], 'accessIPv4': view['accessIPv4'],
        'accessIPv6': view['accessIPv6'], 'links': _links(req, 'servers', view['id']),
        'OS-DCF:diskConfig': 'MANUAL', 'progress': 0,
        'OS-EXT-AZ:availability_zone': view['availability_zone'],
        'config_drive': 'True' if view['config_drive'] else '',
        'key_name': view['key_name'],
        'OS-SRV-USG:launched_at': None if status == 'BUILD' else view['created'],
        'OS-SRV-USG:terminated_at': None,
        'OS-EXT-STS:task_state': TASK_STATES.get(status),
        'OS-EXT-STS:vm_state': VM_STATES.get(status, status.lower()),
        'OS-EXT-STS:power_state': {'ACTIVE': 1, 'SHUTOFF': 4}.get(status, 0),
        'os-extended-volumes:volumes_attached': [
            {'id': a['volume_id'], 'delete_on_termination': a['delete_on_termination']}
            for a in view['_attachments']],
        'security_groups': [{'name': name} for name in view['security_groups']],
        'OS-EXT-SRV-ATTR:host': 'simcloud', 'OS-EXT-SRV-ATTR:hypervisor_hostname': 'simcloud',
        'OS-EXT-SRV-ATTR:instance_name': view['instance_name']}
    if 'fault' in view:
        out['fault'] = view['fault']
    for version, key, value in (
            ('2.9', 'locked', False), ('2.19', 'description', view['description']),
            ('2.26', 'tags', view['tags']), ('2.63', 'trusted_image_certificates', None),
            ('2.71', 'server_groups', [view['_group']] if view['_group'] else []),
            ('2.73', 'locked_reason', None),
            ('2.96', 'pinned_availability_zone', view['availability_zone'])):
        if req.at_least(version):
            out[key] = value
    return out


def _get_server(op, server_id):
    return kinds.view(op, 'servers', op.require('servers', server_id))


# -- servers ---------------------------------------------------------------------------------


@SERVICE.route('POST', '/v2.1/servers')
def create_server(req):
    spec = dict(req.json_body('server'))
    if 'tags' in spec and not req.at_least('2.52'):
        raise bad_request("Invalid input for field/attribute server. Additional properties "
                          "are not allowed ('tags' was unexpected)")
    hints = req.body.get('os:scheduler_hints') or req.body.get(
        'OS-SCH-HNT:scheduler_hints') or {}
    if hints:
        spec['scheduler_hints'] = hints
    admin_pass = spec.get('adminPass') or base64.b32encode(
        random.getrandbits(80).to_bytes(10, 'big')).decode()[:12]
    spec['adminPass'] = admin_pass
    metadata = spec.get('metadata') if isinstance(spec.get('metadata'), dict) else None
    token = intent_token(tags=spec.get('tags') if isinstance(spec.get('tags'), list) else (),
                         metadata=metadata)

    def action(op):
        return kinds.create_object(op, 'servers', spec)
    body = req.call('servers', 'create', action, token=token)
    out = {'id': body['id'], 'links': _links(req, 'servers', body['id']),
           'OS-DCF:diskConfig': 'MANUAL', 'adminPass': admin_pass,
           'security_groups': [{'name': n} for n in body['security_groups']]}
    return 202, {'server': out}, {'Location': out['links'][0]['href']}


def _regex(pattern):
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(re.escape(pattern))


TAG_FILTERS = {'tags': 'all', 'tags-any': 'any', 'not-tags': 'not_all',
               'not-tags-any': 'not_any'}


def _server_filter(req):
    """A predicate over server views from the query (Nova's filters but the tag ones)."""
    query = req.query
    name = _regex(query['name']) if 'name' in query else None
    checks = []
    if name is not None:
        checks.append(lambda v: name.search(v['name']) is not None)
    if 'status' in query:
        checks.append(lambda v: v['status'] == query['status'].upper())
    if 'image' in query:
        checks.append(lambda v: v['image'] == _ref_id(query['image']))
    if 'flavor' in query:
        checks.append(lambda v: v['flavor']['id'] == _ref_id(query['flavor']))
    for key in ('key_name', 'availability_zone', 'uuid'):
        if key in query:
            field = 'id' if key == 'uuid' else key
            checks.append(lambda v, k=key, f=field: v[f] == query[k])
    return lambda v: all(check(v) for check in checks)


def _list_servers(req, detail):
    keep = _server_filter(req)
    tagged = {TAG_FILTERS[k]: v.split(',') for k, v in req.query.items() if k in TAG_FILTERS}

    def action(op):
        return [v for v in (kinds.view(op, 'servers', b)
                            for b in op.find('servers', tagged=tagged)) if keep(v)]
    views = list(reversed(req.call('servers', 'list', action)))
    marker = req.query.get('marker')
    if marker:
        ids = [v['id'] for v in views]
        if marker not in ids:
            raise bad_request('marker [%s] not found' % marker)
        views = views[ids.index(marker) + 1:]
    out = {}
    limit = req.query.get('limit')
    if limit is not None:
        if not limit.isdigit():
            raise bad_request('Invalid input for query parameters limit. Value: %s.' % limit)
        if len(views) > int(limit):
            views = views[:int(limit)]
            out['servers_links'] = [{'rel': 'next', 'href': framework.link(
                req, 'compute/v2.1/servers' + ('/detail' if detail else '')) +
                '?limit=%s&marker=%s' % (limit, views[-1]['id'])}]
    if detail:
        out['servers'] = [_server_view(req, v) for v in views]
    else:
        out['servers'] = [{'id': v['id'], 'name': v['name'],
                           'links': _links(req, 'servers', v['id'])} for v in views]
    return 200, out


@SERVICE.route('GET', '/v2.1/servers')
def list_servers(req):
    return _list_servers(req, detail=False)


@SERVICE.route('GET', '/v2.1/servers/detail')
def list_servers_detail(req):
    return _list_servers(req, detail=True)


@SERVICE.route('GET', '/v2.1/servers/{server_id}')
def show_server(req):
    return 200, {'server': _server_view(req, req.call(
        'servers', 'get', lambda op: _get_server(op, req.params['server_id'])))}


@SERVICE.route('PUT', '/v2.1/servers/{server_id}')
def update_server(req):
    patch = req.json_body('server')
    allowed = {'name', 'accessIPv4', 'accessIPv6'} | (
        {'description'} if req.at_least('2.19') else set())
    unknown = sorted(set(patch) - allowed)
    if unknown:
        raise bad_request("Invalid input for field/attribute server. Additional properties "
                          "are not allowed (%s were unexpected)" % ', '.join(unknown))

    def action(op):
        body = op.require('servers', req.params['server_id'])
        body.update(patch, updated=iso(op.now))
        op.tx.update('servers', body)
        return kinds.view(op, 'servers', body)
    return 200, {'server': _server_view(req, req.call('servers', 'update', action))}


@SERVICE.route('DELETE', '/v2.1/servers/{server_id}')
def delete_server(req):
    req.call('servers', 'delete',
             lambda op: kinds.delete_object(op, 'servers', req.params['server_id']))
    return 204, None


@SERVICE.route('POST', '/v2.1/servers/{server_id}/action')
def server_action(req):
    body = req.json_body()
    if len(body) != 1:
        raise bad_request('A server action body names exactly one action')
    (name, args), = body.items()

    def action(op):
        server = op.require('servers', req.params['server_id'])
        status = kinds.KINDS['servers'].action(op, server, name, args)
        return status, kinds.view(op, 'servers', op.tx.get('servers', server['id']))
    status, view = req.call('servers', 'update', action)
    if name == 'rebuild':
        return status, {'server': _server_view(req, view)}
    return status, None


# -- server metadata and tags ----------------------------------------------------------------


def _change_server(req, field, change, verb='update'):
    """Apply ``change(old value) -> new value`` to a server field; the new value."""
    def action(op):
        body = op.require('servers', req.params['server_id'])
        if verb == 'get':
            return change(body[field])
        body[field] = change(body[field])
        body['updated'] = iso(op.now)
        op.tx.update('servers', body)
        return body[field]
    return req.call('servers', verb, action)


@SERVICE.route('GET', '/v2.1/servers/{server_id}/metadata')
def show_server_metadata(req):
    return 200, {'metadata': _change_server(req, 'metadata', dict, verb='get')}


@SERVICE.route(('POST', 'PUT'), '/v2.1/servers/{server_id}/metadata')
def set_server_metadata(req):
    new = _check_metadata(req.json_body().get('metadata'))
    if req.method == 'PUT':
        return 200, {'metadata': _change_server(req, 'metadata', lambda old: new)}
    return 200, {'metadata': _change_server(req, 'metadata', lambda old: dict(old, **new))}


def _metadata_key(old, key):
    if key not in old:
        raise ApiError(404, 'NotFound', 'Metadata item was not found')
    return old[key]


@SERVICE.route('GET', '/v2.1/servers/{server_id}/metadata/{key}')
def show_server_metadata_key(req):
    key = req.params['key']
    return 200, {'meta': {key: _change_server(req, 'metadata',
                                              lambda old: _metadata_key(old, key), verb='get')}}


@SERVICE.route('PUT', '/v2.1/servers/{server_id}/metadata/{key}')
def set_server_metadata_key(req):
    key = req.params['key']
    meta = _check_metadata(req.json_body().get('meta'))
    if list(meta) != [key]:
        raise bad_request('Request body and URI mismatch')
    _change_server(req, 'metadata', lambda old: dict(old, **meta))
    return 200, {'meta': meta}


@SERVICE.route('DELETE', '/v2.1/servers/{server_id}/metadata/{key}')
def delete_server_metadata_key(req):
    key = req.params['key']

    def change(old):
        _metadata_key(old, key)
        return {k: v for k, v in old.items() if k != key}
    _change_server(req, 'metadata', change)
    return 204, None


def _tags_api(req):
    if not req.at_least('2.26'):
        raise ApiError(404, 'NotFound', 'Server tags need microversion 2.26 or later')


@SERVICE.route('GET', '/v2.1/servers/{server_id}/tags')
def list_server_tags(req):
    _tags_api(req)
    return 200, {'tags': _change_server(req, 'tags', list, verb='get')}


@SERVICE.route('PUT', '/v2.1/servers/{server_id}/tags')
def replace_server_tags(req):
    _tags_api(req)
    tags = _check_tags(req.json_body().get('tags'))
    return 200, {'tags': _change_server(req, 'tags', lambda old: tags)}


@SERVICE.route('DELETE', '/v2.1/servers/{server_id}/tags')
def delete_server_tags(req):
    _tags_api(req)
    _change_server(req, 'tags', lambda old: [])
    return 204, None


@SERVICE.route('GET', '/v2.1/servers/{server_id}/tags/{tag}')
def check_server_tag(req):
    _tags_api(req)
    if req.params['tag'] not in _change_server(req, 'tags', list, verb='get'):
        raise ApiError(404, 'NotFound', 'Tag %s could not be found.' % req.params['tag'])
    return 204, None


@SERVICE.route('PUT', '/v2.1/servers/{server_id}/tags/{tag}')
def add_server_tag(req):
    _tags_api(req)
    tag = req.params['tag']
    existed = []

    def change(old):
        existed.append(tag in old)
        return old if tag in old else _check_tags(old + [tag])
    _change_server(req, 'tags', change)
    location = framework.link(req, 'compute/v2.1/servers', req.params['server_id'], 'tags',
                              tag)
    return (204 if existed[0] else 201), None, {'Location': location}


@SERVICE.route('DELETE', '/v2.1/servers/{server_id}/tags/{tag}')
def delete_server_tag(req):
    _tags_api(req)
    tag = req.params['tag']

    def change(old):
        if tag not in old:
            raise ApiError(404, 'NotFound', 'Tag %s could not be found.' % tag)
        return [t for t in old if t != tag]
    _change_server(req, 'tags', change)
    return 204, None


# -- volume attachments ----------------------------------------------------------------------


def _attachment_view(req, body):
    out = {'device': body['device'], 'serverId': body['server_id'],
           'volumeId': body['volume_id']}
    if not req.at_least('2.89'):
        out['id'] = body['volume_id']
    if req.at_least('2.70'):
        out['tag'] = body.get('tag')
    if req.at_least('2.79'):
        out['delete_on_termination'] = body['delete_on_termination']
    if req.at_least('2.89'):
        out.update(attachment_id=body['id'], bdm_uuid=body['bdm_uuid'])
    return out


def _attachments_of(op, server_id):
    op.require('servers', server_id)
    return op.tx.find('volume_attachments', parent=server_id)


def _attachment_of(op, server_id, volume_id):
    for attachment in _attachments_of(op, server_id):
        if attachment['volume_id'] == volume_id:
            return attachment
    raise ApiError(404, 'NotFound', 'volume_id not found: %s' % volume_id)


@SERVICE.route('GET', '/v2.1/servers/{server_id}/os-volume_attachments')
def list_volume_attachments(req):
    found = req.call('volume_attachments', 'list',
                     lambda op: _attachments_of(op, req.params['server_id']))
    return 200, {'volumeAttachments': [_attachment_view(req, a) for a in found]}


@SERVICE.route('POST', '/v2.1/servers/{server_id}/os-volume_attachments')
def attach_volume(req):
    spec = req.json_body('volumeAttachment')
    if not spec.get('volumeId'):
        raise bad_request("Invalid input for field/attribute volumeAttachment: 'volumeId' is "
                          "a required property")

    def action(op):
        return kinds.create_object(op, 'volume_attachments', {
            'server_id': req.params['server_id'], 'volume_id': spec['volumeId'],
            'device': spec.get('device'), 'tag': spec.get('tag'),
            'delete_on_termination': spec.get('delete_on_termination', False)},
            parent=req.params['server_id'])
    return 200, {'volumeAttachment': _attachment_view(req, req.call(
        'volume_attachments', 'create', action))}


@SERVICE.route('GET', '/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}')
def show_volume_attachment(req):
    found = req.call('volume_attachments', 'get', lambda op: _attachment_of(
        op, req.params['server_id'], req.params['volume_id']))
    return 200, {'volumeAttachment': _attachment_view(req, found)}


@SERVICE.route('DELETE', '/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}')
def detach_volume(req):
    def action(op):
        server = kinds.KINDS['servers'].settle(op, op.require('servers',
                                                               req.params['server_id']))
        attachment = _attachment_of(op, server['id'], req.params['volume_id'])
        Servers._require_state(server, 'detach_volume', 'ACTIVE', 'SHUTOFF')
        kinds.delete_object(op, 'volume_attachments', attachment['id'])
    req.call('volume_attachments', 'delete', action)
    return 202, None


# -- flavors ---------------------------------------------------------------------------------


def _flavors(req, detail):
    def action(op):
        return sorted(FLAVORS.values(), key=lambda f: int(f['id']))
    flavors = req.call('flavors', 'list', action)
    return 200, {'flavors': [_flavor_view(req, f, detail) for f in flavors]}


@SERVICE.route('GET', '/v2.1/flavors')
def list_flavors(req):
    return _flavors(req, detail=False)


@SERVICE.route('GET', '/v2.1/flavors/detail')
def list_flavors_detail(req):
    return _flavors(req, detail=True)


@SERVICE.route('GET', '/v2.1/flavors/{flavor_id}')
def show_flavor(req):
    flavor = req.call('flavors', 'get', lambda op: find_flavor(req.params['flavor_id'],
                                                               status=404))
    return 200, {'flavor': _flavor_view(req, flavor)}


@SERVICE.route('GET', '/v2.1/flavors/{flavor_id}/os-extra_specs')
def show_flavor_extra_specs(req):
    req.call('flavors', 'get', lambda op: find_flavor(req.params['flavor_id'], status=404))
    return 200, {'extra_specs': {}}


# -- key pairs -------------------------------------------------------------------------------


def _keypair_view(req, body, detail=False):
    out = {'name': body['name'], 'public_key': body['public_key'],
           'fingerprint': body['fingerprint']}
    if req.at_least('2.2'):
        out['type'] = body['type']
    if detail:
        out.update(user_id=body['user_id'], created_at=body['created_at'], deleted=False,
                   deleted_at=None, updated_at=None, id=int(body['id'][:7], 16))
    return out


@SERVICE.route('GET', '/v2.1/os-keypairs')
def list_keypairs(req):
    found = req.call('keypairs', 'list', lambda op: op.tx.find('keypairs', user_id=op.user))
    return 200, {'keypairs': [{'keypair': _keypair_view(req, k)} for k in found]}


@SERVICE.route('POST', '/v2.1/os-keypairs')
def create_keypair(req):
    spec = req.json_body('keypair')
    if 'type' in spec and not req.at_least('2.2'):
        raise bad_request("Invalid input for field/attribute keypair. Additional properties "
                          "are not allowed ('type' was unexpected)")
    if spec.get('type', 'ssh') not in ('ssh', 'x509'):
        raise bad_request("Invalid input for field/attribute type: 'ssh' or 'x509'")

    def action(op):
        kinds.check_quota(op, 'keypairs')
        body = kinds.KINDS['keypairs'].create(op, spec)
        # Nova gives a generated private key once and does not keep it.
        private_key = body.pop('_private_key', None)
        return op.tx.insert('keypairs', body, token=op.token), private_key
    name = spec.get('name') if isinstance(spec.get('name'), str) else None
    body, private_key = req.call('keypairs', 'create', action, token=name)
    out = dict(_keypair_view(req, body), user_id=body['user_id'])
    if private_key is not None:
        out['private_key'] = private_key
    return (201 if req.at_least('2.2') else 200), {'keypair': out}


def _keypair(op, name):
    body = op.tx.get('keypairs', Keypairs.id_of(op.user, name))
    if body is None:
        raise ApiError(404, 'NotFound', 'Keypair %s not found for user %s' % (name, op.user))
    return body


@SERVICE.route('GET', '/v2.1/os-keypairs/{name}')
def show_keypair(req):
    body = req.call('keypairs', 'get', lambda op: _keypair(op, req.params['name']))
    return 200, {'keypair': _keypair_view(req, body, detail=True)}


@SERVICE.route('DELETE', '/v2.1/os-keypairs/{name}')
def delete_keypair(req):
    def action(op):
        op.tx.delete('keypairs', _keypair(op, req.params['name'])['id'])
    req.call('keypairs', 'delete', action)
    return (204 if req.at_least('2.2') else 202), None


# -- server groups ---------------------------------------------------------------------------


def _group_view(req, body):
    out = {'id': body['id'], 'name': body['name'], 'members': body['members']}
    if req.at_least('2.64'):
        out.update(policy=body['policy'], rules=body['rules'])
    else:
        out.update(policies=[body['policy']], metadata={})
    if req.at_least('2.13'):
        out.update(project_id=body['project_id'], user_id=body['user_id'])
    return out


@SERVICE.route('GET', '/v2.1/os-server-groups')
def list_server_groups(req):
    found = req.call('server_groups', 'list', lambda op: op.find('server_groups'))
    return 200, {'server_groups': [_group_view(req, g) for g in found]}


@SERVICE.route('POST', '/v2.1/os-server-groups')
def create_server_group(req):
    spec = req.json_body('server_group')
    key, other = ('policy', 'policies') if req.at_least('2.64') else ('policies', 'policy')
    if other in spec or key not in spec or ('rules' in spec and key == 'policies'):
        raise bad_request("Invalid input for field/attribute server_group: at microversion "
                          "%d.%d it takes '%s'" % (req.version + (key,)))
    name = spec.get('name') if isinstance(spec.get('name'), str) else None
    body = req.call('server_groups', 'create',
                    lambda op: kinds.create_object(op, 'server_groups', spec), token=name)
    return 200, {'server_group': _group_view(req, body)}


@SERVICE.route('GET', '/v2.1/os-server-groups/{group_id}')
def show_server_group(req):
    body = req.call('server_groups', 'get',
                    lambda op: op.require('server_groups', req.params['group_id']))
    return 200, {'server_group': _group_view(req, body)}


@SERVICE.route('DELETE', '/v2.1/os-server-groups/{group_id}')
def delete_server_group(req):
    req.call('server_groups', 'delete',
             lambda op: kinds.delete_object(op, 'server_groups', req.params['group_id']))
    return 204, None


# -- version documents -----------------------------------------------------------------------


def _v21(req):
    return framework.version_entry(req, 'v2.1', 'compute/v2.1', minimum=MIN_VERSION,
                                   maximum=MAX_VERSION)


@SERVICE.route('GET', '/', auth=False)
def versions(req):
    return 200, {'versions': [_v21(req)]}


@SERVICE.route('GET', '/v2.1', auth=False)
def version(req):
    return 200, {'version': _v21(req)}
