"""OS::Cinder::VolumeAttachment: a volume attached to a server, through Nova.

Heat's properties: instance_uuid (the server's id), volume_id, mountpoint (all updatable:
an update detaches and attaches again, as Heat does). Attached with Nova's
``os-volume_attachments``; the physical id is Nova's attachment id, which is the volume's
id, as in Heat. Create waits for the volume to be ``in-use`` (a volume that vanishes fails
it); delete detaches and waits until Cinder no longer shows the volume attached to the
server (available, or in-use for another server only, as Heat checks). A volume, attachment
or server already gone is fine: a server removed behind the engine's back may leave its
volume in-use for ever, and the delete must not wait for that.

No token is carried: Nova keeps one attachment per (server, volume), so a re-run (or a retry
after a lost answer) looks for the server's attachment of the volume and adopts it; a first
run attaches without looking, so attaching a volume attached already fails, as in Heat.
What was last asked for (server, volume, device) is recorded before each attach, so that an
update or a delete detaches the attachment that exists even when the properties have changed
since.
No attributes besides show. Check: the attachment exists, and the device matches the
mountpoint when one was given.
"""

from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume

from heat_taskflow.resources import base, cloud
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

ATTACHED_KEY = 'attached'
ATTACH_ERRORS = ('error', 'error_attaching', 'error_detaching')


class VolumeAttachment(common.CloudResource):
    """Attaches a volume to a server."""

    type_name = 'OS::Cinder::VolumeAttachment'
    kind = 'volume attachment'

    properties_schema = {
        'instance_uuid': Schema(Schema.STRING, 'The ID of the server to which the volume '
                                'attaches.', required=True, update_allowed=True),
        'volume_id': Schema(Schema.STRING, 'The ID of the volume to be attached.',
                            required=True, update_allowed=True,
                            constraints=[constr.CustomConstraint('cinder.volume')]),
        'mountpoint': Schema(Schema.STRING, 'The location where the volume is exposed on the '
                             'instance.', update_allowed=True),
    }

    def wanted(self):
        """What the properties ask for: ``{server, volume, device}``."""
        p = self.properties
        return {'server': p['instance_uuid'], 'volume': p['volume_id'],
                'device': p['mountpoint']}

    def attached(self):
        """What was last asked of Nova (recorded), else what the properties ask for."""
        return self.data_get(ATTACHED_KEY) or self.wanted()

    def _find(self, server_id, volume_id):
        try:
            return self.conn.compute.get_volume_attachment(server_id, volume_id)
        except sdk_exc.NotFoundException:
            return None

    def _attach(self, want):
        """Record, then attach (the first call of a run: no lookup)."""
        self.data_set(ATTACHED_KEY, want)
        attrs = {'device': want['device']} if want['device'] else {}
        return self.conn.compute.create_volume_attachment(want['server'], want['volume'],
                                                          **attrs)

    def _attach_once(self, want, action):
        """Attach as a create is made: a lost answer is looked up before the retry."""
        with self.failing(action):
            obj = cloud.find_or_create(lambda: self._find(want['server'], want['volume']),
                                       lambda: self._attach(want))
        self.set_physical_id(self.physical_id_of(obj))

    # -- the object ------------------------------------------------------------------------

    def create_object(self, token):
        return self._attach(self.wanted())

    def find_by_token(self, token):
        want = self.attached()
        return self._find(want['server'], want['volume'])

    def physical_id_of(self, obj):
        # Nova's attachment id is the volume's (the ``id`` field is gone since 2.89).
        return obj.volume_id

    def get_object(self, physical_id):
        return self.conn.compute.get_volume_attachment(self.attached()['server'], physical_id)

    def delete_object(self, physical_id):
        self.conn.compute.delete_volume_attachment(common.server_ref(self.attached()['server']),
                                                   physical_id)

    # -- waits on the volume ---------------------------------------------------------------

    def _volume(self, action, volume_id):
        """The volume, or None when it is gone; an error status fails."""
        with self.failing(action):
            try:
                volume = cloud.call(common.raw_get, self.conn.block_storage, sdk_volume.Volume,
                                    volume_id)
            except cloud.NotFound:
                return None
        if volume['status'] in ATTACH_ERRORS:
            raise ResourceFailure(self.name, 'volume %s went to status %s while it was %s'
                                  % (volume_id, volume['status'], 'detached'
                                     if action == base.DELETE else 'attached'), action)
        return volume

    def _in_use(self, action, volume_id):
        """Whether the volume is in-use (a volume gone fails: it never will be)."""
        volume = self._volume(action, volume_id)
        if volume is None:
            raise ResourceFailure(self.name, 'volume %s vanished while it was attached'
                                  % volume_id, action)
        if volume['status'] == 'in-use':
            return True
        self._check_deadline(action, volume['status'])
        return False

    def _detached(self, action, volume_id, server_id):
        """Whether Cinder has finished detaching the volume from the server: it is gone,
        available, or no longer lists the server (Heat's test: it may stay in-use for
        another server), or the server is gone (a server removed behind the engine's back
        leaves its volumes in-use, and nothing will ever detach them)."""
        volume = self._volume(action, volume_id)
        if volume is None or volume['status'] == 'available':
            return True
        if server_id not in {a.get('server_id') for a in volume.get('attachments') or ()}:
            return True
        with self.failing(action):
            if cloud.call(self.conn.compute.find_server, server_id) is None:
                return True
        self._check_deadline(action, volume['status'])
        return False

    def check_create_complete(self, cookie):
        """The volume is in-use."""
        return self._in_use(base.CREATE, self.attached()['volume'])

    def check_delete_complete(self, cookie):
        """The attachment is gone and Cinder shows the volume detached from the server."""
        if not super().check_delete_complete(cookie):
            return False
        if not cookie or not cookie['ids']:
            return True
        old = self.attached()
        return self._detached(base.DELETE, old['volume'], old['server'])

    # -- update ----------------------------------------------------------------------------

    def handle_update(self, new_properties, prop_diff):
        """Detach what is attached when it is not what is wanted; check_update_complete
        attaches the new one once the old volume is detached."""
        old = self.attached()
        if old == self.wanted() or self.physical_id is None:
            return {'detached': old}
        with self.failing(base.UPDATE):
            try:
                cloud.call(self.conn.compute.delete_volume_attachment,
                           common.server_ref(old['server']), self.physical_id)
            except cloud.NotFound:
                pass
        return {'detached': old}

    def check_update_complete(self, cookie):
        want = self.wanted()
        if self.data_get(ATTACHED_KEY) != want:
            old = cookie['detached']
            if not self._detached(base.UPDATE, old['volume'], old['server']):
                return False
            self._attach_once(want, base.UPDATE)
            return False
        if self.call(base.UPDATE, self._find, want['server'], want['volume']) is None:
            # A re-run after the record and before the attach was made.
            self._attach_once(want, base.UPDATE)
            return False
        return self._in_use(base.UPDATE, want['volume'])

    # -- check -----------------------------------------------------------------------------

    def drift(self, obj):
        want = self.wanted()
        out = []
        if obj.server_id != want['server'] or obj.volume_id != want['volume']:
            out.append('attaches volume %s to server %s, expected volume %s to server %s'
                       % (obj.volume_id, obj.server_id, want['volume'], want['server']))
        if want['device'] and obj.device != want['device']:
            out.append('mountpoint is %r, expected %r' % (obj.device, want['device']))
        return out
