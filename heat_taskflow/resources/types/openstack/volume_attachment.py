"""OS::Cinder::VolumeAttachment: a volume attached to a server, through Nova.

Heat's properties: instance_uuid (the server's id), volume_id, mountpoint (all updatable:
an update detaches and attaches again, as Heat does). Attached with Nova's
``os-volume_attachments``; the physical id is Nova's attachment id, which is the volume's
id, as in Heat. Create waits for the volume to be ``in-use``; delete detaches and waits for
it to be ``available`` again (a volume or attachment already gone is fine).

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
                            required=True, update_allowed=True),
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

    def _volume_reached(self, action, volume_id, status):
        """Whether the volume is in ``status`` (True when it is gone and ``status`` is
        available); an error status fails."""
        with self.failing(action):
            try:
                volume = cloud.call(common.raw_get, self.conn.block_storage, sdk_volume.Volume,
                                    volume_id)
            except cloud.NotFound:
                return status == 'available'
        if volume['status'] in ATTACH_ERRORS:
            raise ResourceFailure(self.name, 'volume %s went to status %s while it was %s'
                                  % (volume_id, volume['status'],
                                     'attached' if status == 'in-use' else 'detached'), action)
        if volume['status'] == status:
            return True
        self._check_deadline(action, volume['status'])
        return False

    def check_create_complete(self, cookie):
        """The volume is in-use."""
        return self._volume_reached(base.CREATE, self.attached()['volume'], 'in-use')

    def check_delete_complete(self, cookie):
        """The attachment is gone and the volume available again."""
        if not super().check_delete_complete(cookie):
            return False
        if not cookie or not cookie['ids']:
            return True
        return self._volume_reached(base.DELETE, self.attached()['volume'], 'available')

    # -- update ----------------------------------------------------------------------------

    def handle_update(self, new_properties, prop_diff):
        """Detach what is attached when it is not what is wanted; check_update_complete
        attaches the new one once the old volume is available."""
        old = self.attached()
        if old == self.wanted() or self.physical_id is None:
            return {'detached': old['volume']}
        with self.failing(base.UPDATE):
            try:
                cloud.call(self.conn.compute.delete_volume_attachment,
                           common.server_ref(old['server']), self.physical_id)
            except cloud.NotFound:
                pass
        return {'detached': old['volume']}

    def check_update_complete(self, cookie):
        want = self.wanted()
        if self.data_get(ATTACHED_KEY) != want:
            if not self._volume_reached(base.UPDATE, cookie['detached'], 'available'):
                return False
            self._attach_once(want, base.UPDATE)
            return False
        if self.call(base.UPDATE, self._find, want['server'], want['volume']) is None:
            # A re-run after the record and before the attach was made.
            self._attach_once(want, base.UPDATE)
            return False
        return self._volume_reached(base.UPDATE, want['volume'], 'in-use')

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
