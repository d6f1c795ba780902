"""OS::Cinder::Volume: a Cinder block storage volume, through openstacksdk.

Heat's properties: size, name, description, volume_type, metadata, availability_zone, image
(name or id), snapshot_id, source_volid, backup_id, read_only, multiattach, scheduler_hints.
In place, as Heat: size (extend only; an attached volume is detached, extended and attached
again, as Heat does), name, description, metadata, volume_type (retype), read_only; the rest
replaces.

The intent token is the volume metadata key ``heat_taskflow_token``, found again with ``GET
/volumes/detail?metadata={"heat_taskflow_token": TOKEN}``. That key is this resource's own:
it is kept through metadata updates and left out of the drift check and of the ``metadata``
and ``metadata_values`` attributes. Creation waits for ``available`` (then sets read_only,
as Heat); an error status fails with the cloud's message. Attributes (Heat's, strings where
Heat gives strings): availability_zone, size, snapshot_id, display_name, display_description,
volume_type, metadata (JSON), metadata_values, source_volid, status, created_at, bootable,
encrypted, attachments, attachments_list, multiattach, show. Check: the volume exists, is not
in an error status; size, name, volume_type and metadata match.
"""

import json

from openstack import exceptions as sdk_exc
from openstack.block_storage.v3 import volume as sdk_volume

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

TOKEN_METADATA = 'heat_taskflow_token'
REATTACH_KEY = 'reattach'
# Heat's attribute -> the openstacksdk Volume field; Heat gives these as strings.
STRING_FIELDS = {'availability_zone': 'availability_zone', 'size': 'size',
                 'snapshot_id': 'snapshot_id', 'display_name': 'name',
                 'display_description': 'description', 'volume_type': 'volume_type',
                 'source_volid': 'source_volume_id', 'status': 'status',
                 'created_at': 'created_at', 'bootable': 'is_bootable',
                 'encrypted': 'is_encrypted'}


class Volume(common.CloudResource):
    """A resource that implements Cinder volumes."""

    type_name = 'OS::Cinder::Volume'
    kind = 'volume'
    ready_status = 'available'
    failed_statuses = ('error', 'error_extending', 'error_restoring', 'error_deleting')
    observed = {'size': 'size', 'name': 'name', 'volume_type': 'volume_type'}

    properties_schema = {
        'size': Schema(Schema.INTEGER, 'The size of the volume in GB; on update only an '
                       'increase is supported. Required unless backup_id, source_volid or '
                       'snapshot_id is given.', update_allowed=True,
                       constraints=[constr.Range(min=1)]),
        'name': Schema(Schema.STRING, 'A name used to distinguish the volume.',
                       update_allowed=True),
        'description': Schema(Schema.STRING, 'A description of the volume.',
                              update_allowed=True),
        'volume_type': Schema(Schema.STRING, 'If specified, the type of volume to use, '
                              'mapping to a specific backend.', update_allowed=True),
        'metadata': Schema(Schema.MAP, 'Key/value pairs to associate with the volume.',
                           default={}, update_allowed=True),
        'availability_zone': Schema(Schema.STRING, 'The availability zone in which the volume '
                                    'will be created.'),
        'image': Schema(Schema.STRING, 'If specified, the name or ID of the image to create '
                        'the volume from.'),
        'snapshot_id': Schema(Schema.STRING, 'If specified, the snapshot to create the volume '
                              'from.'),
        'source_volid': Schema(Schema.STRING, 'If specified, the volume to use as source.'),
        'backup_id': Schema(Schema.STRING, 'If specified, the backup to create the volume '
                            'from.'),
        'read_only': Schema(Schema.BOOLEAN, 'Enables or disables read-only access mode of '
                            'volume.', update_allowed=True),
        'multiattach': Schema(Schema.BOOLEAN, 'Whether allow the volume to be attached more '
                              'than once.'),
        'scheduler_hints': Schema(Schema.MAP, 'Arbitrary key-value pairs specified by the '
                                  'client to help the Cinder scheduler creating a volume.'),
    }

    attributes_schema = dict(
        {name: attributes.Schema('The %s of the volume.' % name.replace('_', ' '),
                                 attributes.Schema.STRING) for name in STRING_FIELDS},
        metadata=attributes.Schema('Key/value pairs associated with the volume (JSON).',
                                   attributes.Schema.STRING),
        metadata_values=attributes.Schema('Key/value pairs associated with the volume in raw '
                                          'dict form.', attributes.Schema.MAP),
        attachments=attributes.Schema('A string representation of the list of attachments '
                                      'of the volume.', attributes.Schema.STRING),
        attachments_list=attributes.Schema('The list of attachments of the volume.',
                                           attributes.Schema.LIST),
        multiattach=attributes.Schema('Whether the volume may be attached more than once.',
                                      attributes.Schema.BOOLEAN))

    def validate(self, partial=False):
        """A volume needs a size unless it is made from another volume, snapshot or backup."""
        super().validate(partial)
        p = self.properties
        if not partial and p['size'] is None and not (
                p['source_volid'] or p['snapshot_id'] or p['backup_id']):
            raise self.invalid('size', 'size is required unless source_volid, snapshot_id '
                               'or backup_id is given')

    # -- create ----------------------------------------------------------------------------

    def create_object(self, token):
        p = self.properties
        attrs = {'name': p['name'] or self.physical_resource_name(),
                 'metadata': dict(p['metadata'] or {}, **{TOKEN_METADATA: token})}
        for prop, attr in (('size', 'size'), ('description', 'description'),
                           ('volume_type', 'volume_type'),
                           ('availability_zone', 'availability_zone'),
                           ('snapshot_id', 'snapshot_id'), ('backup_id', 'backup_id'),
                           ('multiattach', 'is_multiattach'),
                           ('scheduler_hints', 'scheduler_hints')):
            if p[prop] is not None:
                attrs[attr] = p[prop]
        if p['image']:
            attrs['image_id'] = self.lookup('image', p['image']).id
        if p['source_volid']:
            attrs['source_volume_id'] = self.lookup('volume', p['source_volid']).id
        return self.conn.block_storage.create_volume(**attrs)

    def check_create_complete(self, cookie):
        """Available; then read_only is set, as Heat does (Cinder takes it only then)."""
        if not super().check_create_complete(cookie):
            return False
        if self.properties['read_only'] is not None:
            self.call(base.CREATE, self.conn.block_storage.set_volume_readonly,
                      self.physical_id, self.properties['read_only'])
        return True

    # -- the object ------------------------------------------------------------------------

    def find_by_token(self, token):
        query = json.dumps({TOKEN_METADATA: token})
        return next(iter(self.conn.block_storage.volumes(properties=query)), None)

    def get_object(self, physical_id):
        return self.conn.block_storage.get_volume(physical_id)

    def delete_object(self, physical_id):
        self.conn.block_storage.delete_volume(physical_id)

    def poll_object(self, physical_id):
        return common.raw_get(self.conn.block_storage, sdk_volume.Volume, physical_id)

    def adopt_polled(self, polled):
        return sdk_volume.Volume.existing(connection=self.conn, **polled)

    def fault_of(self, obj):
        # Cinder keeps no fault on a volume: its status is the message.
        return 'volume %s is in status %s' % (common.field(obj, 'id'),
                                              common.field(obj, 'status'))

    # -- update ----------------------------------------------------------------------------

    def update_object(self, prop_diff):
        p = self.properties
        storage = self.conn.block_storage
        volume = storage.get_volume(self.physical_id)
        if 'size' in prop_diff and p['size'] is not None and p['size'] != volume.size:
            if p['size'] < volume.size:
                raise ResourceFailure(self.name, 'size: can not shrink volume %s from %s GB '
                                      'to %s GB' % (self.physical_id, volume.size, p['size']),
                                      base.UPDATE)
        changes = {}
        if 'name' in prop_diff:
            changes['name'] = p['name'] or self.physical_resource_name()
        if 'description' in prop_diff:
            changes['description'] = p['description'] or ''
        if changes:
            storage.update_volume(volume, **changes)
        if 'metadata' in prop_diff:
            self._replace_metadata(volume)
        if 'volume_type' in prop_diff and p['volume_type'] and \
                p['volume_type'] != volume.volume_type:
            storage.retype_volume(volume, p['volume_type'], migration_policy='on-demand')
        if 'read_only' in prop_diff and p['read_only'] is not None:
            storage.set_volume_readonly(volume, p['read_only'])

    def _replace_metadata(self, volume):
        """The metadata property, with the token kept (removed keys deleted)."""
        wanted = {str(k): str(v) for k, v in (self.properties['metadata'] or {}).items()}
        gone = [k for k in volume.metadata or {} if k not in wanted and k != TOKEN_METADATA]
        if gone:
            self.conn.block_storage.delete_volume_metadata(volume, gone)
        if wanted:
            self.conn.block_storage.set_volume_metadata(volume, **wanted)

    def check_update_complete(self, cookie):
        """Available again (in-use when attached) with the wanted size."""
        volume = self.call(base.UPDATE, self.observe)
        if volume is None:
            raise ResourceFailure(self.name, 'volume %s vanished while it was updated'
                                  % self.physical_id, base.UPDATE)
        if volume.status in self.failed_statuses:
            raise ResourceFailure(self.name, self.fault_of(volume), base.UPDATE)
        done = self.call(base.UPDATE, self._resize_step, volume)
        if not done:
            self._check_deadline(base.UPDATE, volume.status)
        return done

    def _resize_step(self, volume):
        """One step to the wanted size, as Heat does it: an attached volume is detached
        (where it was attached is recorded first), extended, and attached again; True when
        the volume is there and settled. Each step looks at the volume first, so a re-run
        goes on from where the last one stopped."""
        size = self.properties['size']
        reattach = self.data_get(REATTACH_KEY) or []
        compute = self.conn.compute
        if size is not None and volume.size < size:
            if volume.status == 'available':
                self.conn.block_storage.extend_volume(volume, size)
            elif volume.status == 'in-use':
                if not reattach:
                    reattach = [{'server': a['server_id'], 'device': a.get('device')}
                                for a in volume.attachments or []]
                    self.data_set(REATTACH_KEY, reattach)
                for where in reattach:
                    compute.delete_volume_attachment(common.server_ref(where['server']),
                                                    volume.id)
            return False
        if reattach:
            if volume.status == 'available':
                for where in reattach:
                    if not self._attached(where['server'], volume.id):
                        attrs = {'device': where['device']} if where['device'] else {}
                        compute.create_volume_attachment(where['server'], volume.id, **attrs)
            elif volume.status == 'in-use':
                self.data_set(REATTACH_KEY, [])
                return True
            return False
        return volume.status in ('available', 'in-use')

    def _attached(self, server_id, volume_id):
        try:
            self.conn.compute.get_volume_attachment(server_id, volume_id)
        except sdk_exc.NotFoundException:
            return False
        return True

    # -- check and attributes --------------------------------------------------------------

    def user_metadata(self, volume):
        """The volume's metadata without this resource's token."""
        return {k: v for k, v in (volume.metadata or {}).items() if k != TOKEN_METADATA}

    def drift(self, obj):
        out = super().drift(obj)
        wanted = {str(k): str(v) for k, v in (self.properties['metadata'] or {}).items()}
        if self.user_metadata(obj) != wanted:
            out.append('metadata is %r, expected %r' % (self.user_metadata(obj), wanted))
        return out

    def show(self):
        out = super().show()
        if out is not None and out.get('metadata'):
            out['metadata'] = self.user_metadata(self.current())
        return out

    def resolve_attribute(self, name):
        volume = self.current()
        if volume is None:
            return None
        if name == 'metadata':
            return json.dumps(self.user_metadata(volume))
        if name == 'metadata_values':
            return self.user_metadata(volume)
        if name == 'attachments':
            return str(volume.attachments or [])
        if name == 'attachments_list':
            return volume.attachments or []
        if name == 'multiattach':
            return volume.is_multiattach
        if name in STRING_FIELDS:
            return _as_heat_string(getattr(volume, STRING_FIELDS[name]))
        return None


def _as_heat_string(value):
    """A field as Heat's volume attributes give it: a string as Cinder spells it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)
