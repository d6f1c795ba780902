"""What each kind of object in the simulated cloud is, and how it behaves like OpenStack's.

One class per kind, in a table (``KINDS``; the Neutron kinds are in ``network`` and register
themselves there): which fields a client may set on create and on
update, what the stored body turns into when shown (``view``), and the checks Nova, Neutron
and Cinder make (a port needs its network; a network with ports cannot be deleted; an
attached volume cannot be deleted; a floating IP needs a router to the external network).
Creating and updating servers and volumes takes ``build_time`` seconds: the status stays
BUILD/creating until then, so clients poll as they do against a real cloud.
"""

import ipaddress
import json
import random
import uuid

FLAVORS = {f['name']: f for f in (
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


class ApiError(Exception):
    """An error answer: HTTP status, an OpenStack-like code and a message naming the thing."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(kind, obj_id):
    return ApiError(404, '%sNotFound' % KINDS[kind].label, '%s %s could not be found'
                    % (KINDS[kind].label, obj_id))


def bad_request(message):
    return ApiError(400, 'BadRequest', message)


def conflict(code, message):
    return ApiError(409, code, message)


class Op:
    """One request's view of the store: transaction, time, build time, token and project.

    ``project`` is the id of the requester's project: objects are made in it, and an object
    of another project is not found (``require``, ``find``).
    """

    def __init__(self, tx, build_time=0.0, token=None, project=None):
        self.tx = tx
        self.now = tx.now
        self.build_time = build_time
        self.token = token
        self.project = project

    def visible(self, body):
        """Whether the requester's project may see a stored body."""
        owner = body.get('project_id')
        return owner is None or self.project is None or owner == self.project

    def get(self, kind, obj_id):
        """The body of an object the requester may see, or None."""
        body = self.tx.get(kind, obj_id) if obj_id else None
        return body if body is not None and self.visible(body) else None

    def find(self, kind, **fields):
        """``tx.find`` restricted to the requester's project."""
        if self.project is not None:
            fields['project_id'] = self.project
        return self.tx.find(kind, **fields)

    def require(self, kind, obj_id, status=404):
        """The object, or an error (404, or 400 when it is referred to from a request body)."""
        body = self.get(kind, obj_id)
        if body is None:
            if status == 400:
                raise bad_request('%s %s could not be found' % (KINDS[kind].label, obj_id))
            raise not_found(kind, obj_id)
        return body

    def sub_token(self, suffix):
        """A token for an object this request makes on the side (None without a token)."""
        return None if self.token is None else '%s#%s' % (self.token, suffix)


def _pick(spec, fields):
    """The known fields of a request body, with their defaults (copied)."""
    unknown = sorted(set(spec) - set(fields))
    if unknown:
        raise bad_request('unrecognised attribute(s) %s' % ', '.join(unknown))
    out = {}
    for key, default in fields.items():
        value = spec.get(key, default)
        out[key] = json.loads(json.dumps(value))
    return out


KINDS = {}


def register(*classes):
    """Add kinds (Kind subclasses) to ``KINDS`` under their collection names."""
    for cls in classes:
        KINDS[cls.name] = cls()


class Kind:
    """Base class: a collection of objects with create/update fields and checks."""

    name = None          # collection name in URLs
    label = None         # singular name in messages
    create_fields = {}   # field -> default
    update_fields = frozenset()
    async_build = False  # create/update go through a transitional status for build_time

    def create(self, op, spec):
        """Check a create request and return the body to store (side effects allowed)."""
        return _pick(spec, self.create_fields)

    def update(self, op, body, patch):
        """Apply an update request to a stored body and return it."""
        bad = sorted(set(patch) - set(self.update_fields))
        if bad:
            raise bad_request('cannot update %s of a %s' % (', '.join(bad), self.label))
        body.update(json.loads(json.dumps(patch)))
        return body

    def after_insert(self, op, body):
        """Make what belongs to a new object once it is stored (its token is known)."""

    def seed(self, op):
        """Store the objects every cloud starts with (called at every start: idempotent)."""

    def delete(self, op, body):
        """Check a delete request and undo side effects (raise to refuse)."""

    def view(self, op, body):
        """What a client sees of a stored body (transitional status resolved)."""
        out = {k: v for k, v in body.items() if not k.startswith('_')}
        ready_at = body.get('_ready_at')
        if ready_at is not None and op.now >= ready_at:
            out['status'] = body.get('_ready_status', out.get('status'))
        return out

    def settle(self, op, body):
        """Persist a finished transition (before the body is changed again)."""
        ready_at = body.get('_ready_at')
        if ready_at is not None and op.now >= ready_at:
            body['status'] = body.pop('_ready_status', body.get('status'))
            body.pop('_ready_at', None)
        return body

    def transition(self, op, body, during, after):
        """Put a body through a transitional status that ends after build_time."""
        if op.build_time > 0:
            body['status'] = during
            body['_ready_at'] = op.now + op.build_time
            body['_ready_status'] = after
        else:
            body['status'] = after
            body.pop('_ready_at', None)
            body.pop('_ready_status', None)
        return body


def _new_id():
    return str(uuid.uuid4())


# -- Nova ------------------------------------------------------------------------------------


def _flavor(ref):
    for flavor in FLAVORS.values():
        if ref in (flavor['id'], flavor['name']):
            return dict(flavor)
    raise bad_request('Flavor %s could not be found.' % ref)


class Servers(Kind):
    """Servers; ``networks`` entries name a port, or a network (a port is made for them)."""

    name, label = 'servers', 'Server'
    async_build = True
    create_fields = {'name': '', 'image': None, 'flavor': None, 'key_name': None,
                     'availability_zone': 'nova', 'metadata': {}, 'user_data': None,
                     'networks': [], 'security_groups': [], 'config_drive': False,
                     'admin_pass': None, 'scheduler_hints': {}, 'tags': []}
    update_fields = frozenset(('name', 'metadata', 'flavor', 'image', 'admin_pass', 'tags'))

    def create(self, op, spec):
        body = super().create(op, spec)
        if not body['image']:
            raise bad_request('Server %s has no image' % body['name'])
        body['flavor'] = _flavor(body['flavor'])
        body['id'] = _new_id()
        security_groups = network.security_group_ids(op, body['security_groups'])
        for index, entry in enumerate(body['networks']):
            if entry.get('port'):
                port = op.require('ports', entry['port'], status=400)
                if port.get('device_id'):
                    raise conflict('PortInUse', 'Port %s is still in use.' % port['id'])
                port.update(device_id=body['id'], device_owner='compute:%s'
                            % body['availability_zone'])
                op.tx.update('ports', port)
                continue
            net = op.require('networks', entry.get('uuid') or entry.get('network'), status=400)
            requested = []
            if entry.get('subnet') or entry.get('fixed_ip'):
                requested = [{k: v for k, v in (('subnet_id', entry.get('subnet')),
                                                ('ip_address', entry.get('fixed_ip'))) if v}]
            port = KINDS['ports'].create(op, {
                'network_id': net['id'], 'fixed_ips': requested,
                'security_groups': security_groups, 'device_id': body['id'],
                'device_owner': 'compute:%s' % body['availability_zone']})
            op.tx.insert('ports', port, token=op.sub_token('port-%d' % index),
                         parent=body['id'])
        body.update(tenant_id=op.project, project_id=op.project, accessIPv4='',
                    accessIPv6='', created=op.now, updated=op.now,
                    **{'OS-EXT-SRV-ATTR:instance_name': 'instance-%08x'
                       % random.randrange(1 << 32)})
        return self.transition(op, body, 'BUILD', 'ACTIVE')

    def update(self, op, body, patch):
        body = self.settle(op, body)
        patch = dict(patch)
        if body['status'] not in ('ACTIVE', 'SHUTOFF') and ('flavor' in patch or
                                                            'image' in patch):
            raise conflict('InstanceInvalidState', "Cannot resize or rebuild server %s while "
                           "it is in status %s" % (body['id'], body['status']))
        resize = 'flavor' in patch and _flavor(patch['flavor']) != body['flavor']
        rebuild = 'image' in patch and patch['image'] != body['image']
        if 'flavor' in patch:
            patch['flavor'] = _flavor(patch['flavor'])
        body = super().update(op, body, patch)
        body['updated'] = op.now
        if resize:
            self.transition(op, body, 'RESIZE', 'ACTIVE')
        elif rebuild:
            self.transition(op, body, 'REBUILD', 'ACTIVE')
        return body

    def view(self, op, body):
        out = super().view(op, body)
        out.pop('admin_pass', None)
        addresses = {}
        for port in op.tx.find('ports', device_id=body['id']):
            net = op.tx.get('networks', port['network_id']) or {'name': port['network_id']}
            label = net.get('name') or port['network_id']
            for ip in port['fixed_ips']:
                addresses.setdefault(label, []).append({
                    'addr': ip['ip_address'], 'OS-EXT-IPS:type': 'fixed',
                    'version': ipaddress.ip_address(ip['ip_address']).version,
                    'OS-EXT-IPS-MAC:mac_addr': port['mac_address'],
                    'port': port['id'], 'network_id': port['network_id'],
                    'subnet_id': ip['subnet_id']})
            for fip in op.tx.find('floatingips', port_id=port['id']):
                addresses.setdefault(label, []).append({
                    'addr': fip['floating_ip_address'], 'OS-EXT-IPS:type': 'floating',
                    'version': ipaddress.ip_address(fip['floating_ip_address']).version,
                    'OS-EXT-IPS-MAC:mac_addr': port['mac_address'], 'port': port['id'],
                    'network_id': port['network_id']})
        out['addresses'] = addresses
        out['volumes_attached'] = [{'id': a['volume_id'], 'device': a['device']}
                                   for a in op.tx.find('volume_attachments',
                                                       server_id=body['id'])]
        return out

    def delete(self, op, body):
        owned = {p['id'] for p in op.tx.find('ports', parent=body['id'])}
        for port in op.tx.find('ports', device_id=body['id']):
            if port['id'] in owned:
                KINDS['ports'].delete(op, port)
                op.tx.delete('ports', port['id'])
            else:
                port.update(device_id='', device_owner='')
                op.tx.update('ports', port)
        for attachment in op.tx.find('volume_attachments', server_id=body['id']):
            KINDS['volume_attachments'].delete(op, attachment)
            op.tx.delete('volume_attachments', attachment['id'])


# -- Cinder ----------------------------------------------------------------------------------


class Volumes(Kind):
    name, label = 'volumes', 'Volume'
    async_build = True
    create_fields = {'name': '', 'description': '', 'size': None, 'volume_type': 'standard',
                     'availability_zone': 'nova', 'metadata': {}, 'image': None,
                     'snapshot_id': None, 'source_volid': None, 'backup_id': None,
                     'multiattach': False, 'read_only': False, 'scheduler_hints': {}}
    update_fields = frozenset(('name', 'description', 'size', 'volume_type', 'metadata',
                               'read_only'))

    def create(self, op, spec):
        body = super().create(op, spec)
        if body['source_volid']:
            source = op.require('volumes', body['source_volid'], status=400)
            body['size'] = body['size'] or source['size']
        if not isinstance(body['size'], int) or isinstance(body['size'], bool) or \
                body['size'] < 1:
            raise bad_request('Invalid input received: size %r must be an integer >= 1'
                              % body['size'])
        body.update(bootable='true' if body['image'] else 'false', encrypted=False,
                    created_at=op.now, user_id='simcloud-user')
        return self.transition(op, body, 'creating', 'available')

    def update(self, op, body, patch):
        body = self.settle(op, body)
        if 'size' in patch and patch['size'] != body['size']:
            if not isinstance(patch['size'], int) or patch['size'] < body['size']:
                raise bad_request('New size for extend must be greater than current size. '
                                  '(current: %s, extended: %s)' % (body['size'], patch['size']))
            if body['status'] != 'available':
                raise bad_request('Volume %s status must be available to extend, but current '
                                  'status is: %s.' % (body['id'], body['status']))
            body = super().update(op, body, patch)
            return self.transition(op, body, 'extending', 'available')
        if 'volume_type' in patch and patch['volume_type'] != body['volume_type']:
            body = super().update(op, body, patch)
            return self.transition(op, body, 'retyping', self._rest_status(op, body))
        return super().update(op, body, patch)

    def _rest_status(self, op, body):
        return 'in-use' if op.tx.find('volume_attachments', volume_id=body['id']) \
            else 'available'

    def view(self, op, body):
        out = super().view(op, body)
        out['attachments'] = [
            {'id': a['id'], 'attachment_id': a['id'], 'server_id': a['server_id'],
             'volume_id': body['id'], 'device': a['device']}
            for a in op.tx.find('volume_attachments', volume_id=body['id'])]
        return out

    def delete(self, op, body):
        body = self.settle(op, body)
        if op.tx.find('volume_attachments', volume_id=body['id']) or \
                body['status'] not in ('available', 'error', 'error_restoring',
                                       'error_extending'):
            raise bad_request('Invalid volume: Volume status must be available or error or '
                              'error_restoring or error_extending or error_managing and must '
                              'not be migrating, attached, belong to a group, have snapshots '
                              'or be disassociated from snapshots after volume transfer. '
                              '(volume %s is %s)' % (body['id'], body['status']))


class VolumeAttachments(Kind):
    name, label = 'volume_attachments', 'VolumeAttachment'
    create_fields = {'server_id': None, 'volume_id': None, 'device': None}

    def create(self, op, spec):
        body = super().create(op, spec)
        servers, volumes = KINDS['servers'], KINDS['volumes']
        server = servers.settle(op, op.require('servers', body['server_id'], status=400))
        volume = volumes.settle(op, op.require('volumes', body['volume_id'], status=400))
        if server['status'] != 'ACTIVE':
            raise conflict('InstanceInvalidState', "Cannot 'attach_volume' instance %s while "
                           "it is in status %s" % (server['id'], server['status']))
        others = op.tx.find('volume_attachments', volume_id=volume['id'])
        if volume['status'] not in ('available', 'in-use') or (
                others and not volume.get('multiattach')):
            raise bad_request('Invalid volume: volume %s status must be available, but the '
                              'current status is: %s' % (volume['id'], volume['status']))
        used = {a['device'] for a in op.tx.find('volume_attachments', server_id=server['id'])}
        if body['device'] in used:
            raise bad_request('The supplied device path (%s) is in use.' % body['device'])
        if not body['device']:
            body['device'] = next('/dev/vd%s' % c for c in 'bcdefghijklmnopqrstuvwxyz'
                                  if '/dev/vd%s' % c not in used)
        volume['status'] = 'in-use'
        op.tx.update('volumes', volume)
        return body

    def delete(self, op, body):
        volume = op.tx.get('volumes', body['volume_id'])
        if volume is not None:
            others = [a for a in op.tx.find('volume_attachments', volume_id=volume['id'])
                      if a['id'] != body['id']]
            volume = KINDS['volumes'].settle(op, volume)
            volume['status'] = 'in-use' if others else 'available'
            op.tx.update('volumes', volume)


register(Servers, Volumes, VolumeAttachments)


# -- operations a route handler runs inside ``Request.call`` ---------------------------------


def check_quota(op, kind):
    """403 when one more object of ``kind`` would pass its quota (``/admin/quotas``)."""
    limit = op.tx.quotas().get(kind)
    if limit is not None and op.tx.count(kind) >= limit:
        raise ApiError(403, 'QuotaExceeded', 'Quota exceeded for %s: limit %d reached'
                       % (kind, limit))


def create_object(op, kind, spec, parent=None):
    """Check the quota, make and store an object from a request body; its stored body.

    The creation is audited with ``op.token``.
    """
    if not isinstance(spec, dict):
        raise bad_request('a create request body must be a JSON object')
    check_quota(op, kind)
    body = KINDS[kind].create(op, spec)
    body = op.tx.insert(kind, body, token=op.token, parent=parent)
    KINDS[kind].after_insert(op, body)
    return op.tx.get(kind, body['id'])


def update_object(op, kind, obj_id, patch):
    """Apply an update request to a visible object; its stored body."""
    if not isinstance(patch, dict):
        raise bad_request('an update request body must be a JSON object')
    body = KINDS[kind].update(op, op.require(kind, obj_id), patch)
    return op.tx.update(kind, body)


def delete_object(op, kind, obj_id):
    """Check and delete a visible object (404 when there is none)."""
    body = op.require(kind, obj_id)
    KINDS[kind].delete(op, body)
    op.tx.delete(kind, obj_id)


def view(op, kind, body):
    """What a client sees of a stored body."""
    return KINDS[kind].view(op, body)


# The Neutron kinds live in network.py and register themselves when it is imported.
from heat_taskflow.simcloud import network  # noqa: E402,F401
