"""OS::Cinder::VolumeAttachment: a volume attached to a server.

Supported subset of Heat's type — properties: instance_uuid (server), volume_id, mountpoint
(all required except mountpoint, all updatable: an update detaches and attaches again, as
Heat does). No attributes besides show. Check: the attachment exists with the same server,
volume and (when given) device.
"""

import hashlib

from heat_taskflow.resources import base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common


class VolumeAttachment(common.CloudResource):
    """Attaches a volume to a server."""

    type_name = 'OS::Cinder::VolumeAttachment'
    kind = 'volume_attachments'

    properties_schema = {
        'instance_uuid': Schema(Schema.STRING, 'The ID of the server to which the volume '
                                'attaches.', required=True, update_allowed=True),
        'volume_id': Schema(Schema.STRING, 'The ID of the volume to be attached.',
                            required=True, update_allowed=True),
        'mountpoint': Schema(Schema.STRING, 'The location where the volume is exposed on the '
                             'instance.', update_allowed=True),
    }

    def create_body(self, action=base.CREATE):
        p = self.properties
        body = {'server_id': self.resolve('servers', p['instance_uuid'], action),
                'volume_id': self.resolve('volumes', p['volume_id'], action)}
        if p['mountpoint']:
            body['device'] = p['mountpoint']
        return body

    def handle_update(self, new_properties, prop_diff):
        """Detach, then attach to the new server/volume/device with a token of its own."""
        body = self.create_body(base.UPDATE)
        current = self.call(base.UPDATE, self.observe)
        if current is not None and all(current.get(k) == v for k, v in body.items()):
            return {'id': self.physical_id}
        if current is not None:
            self.call(base.UPDATE, self.client.delete, self.kind, current['id'])
        digest = hashlib.sha1(repr(sorted(body.items())).encode()).hexdigest()[:12]
        obj = self.call(base.UPDATE, self.client.create, self.kind, body,
                        '%s#update-%s' % (self.token(), digest))
        self.set_physical_id(obj['id'])
        self._obj = obj
        return {'id': obj['id']}

    def check_update_complete(self, cookie):
        return True

    def drift(self, obj):
        out = []
        for key, value in self.create_body(base.CHECK).items():
            if obj.get(key) != value:
                out.append('%s is %r, expected %r' % (key, obj.get(key), value))
        return out
