"""OS::Cinder::Volume: a Cinder block storage volume.

Supported subset of Heat's type — properties: size, name, description, volume_type,
metadata, availability_zone, image, snapshot_id, source_volid, backup_id, read_only,
multiattach, scheduler_hints. In place: size (extend only, while not attached), name,
description, volume_type (retype), metadata, read_only; the rest replaces.
Attributes: availability_zone, size, snapshot_id, display_name, display_description,
volume_type, metadata, metadata_values, source_volid, status, created_at, bootable,
encrypted, attachments, attachments_list, multiattach.
Check: the volume exists, is not in an error status; size, name, volume_type match.
"""

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

PLAIN = ('size', 'name', 'description', 'volume_type', 'metadata', 'availability_zone',
         'image', 'snapshot_id', 'source_volid', 'backup_id', 'read_only', 'multiattach',
         'scheduler_hints')
IN_PLACE = ('size', 'name', 'description', 'volume_type', 'metadata', 'read_only')
FIELDS = {'availability_zone': 'availability_zone', 'size': 'size',
          'snapshot_id': 'snapshot_id', 'display_name': 'name',
          'display_description': 'description', 'volume_type': 'volume_type',
          'metadata_values': 'metadata', 'source_volid': 'source_volid', 'status': 'status',
          'created_at': 'created_at', 'bootable': 'bootable', 'encrypted': 'encrypted',
          'attachments_list': 'attachments', 'multiattach': 'multiattach'}


class Volume(common.CloudResource):
    """A resource that implements Cinder volumes."""

    type_name = 'OS::Cinder::Volume'
    kind = 'volumes'
    ready_status = 'available'
    failed_statuses = ('error', 'error_extending', 'error_restoring', 'ERROR')

    properties_schema = {
        'size': Schema(Schema.INTEGER, 'The size of the volume in GB.', update_allowed=True,
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
        {name: attributes.Schema('The %s of the volume.' % name.replace('_', ' '))
         for name in FIELDS},
        metadata=attributes.Schema('Key/value pairs associated with the volume in raw dict '
                                   'form.', attributes.Schema.STRING),
        attachments=attributes.Schema('The list of attachments of the volume (a string, as '
                                      'Heat).', attributes.Schema.STRING))

    observed = {'size': 'size', 'name': 'name', 'volume_type': 'volume_type'}

    def validate(self, partial=False):
        """A volume needs a size unless it is made from another volume, snapshot or backup."""
        super().validate(partial)
        p = self.properties
        if not partial and p['size'] is None and not (
                p['source_volid'] or p['snapshot_id'] or p['backup_id']):
            raise self.invalid('size', 'size is required unless source_volid, snapshot_id '
                               'or backup_id is given')

    def create_body(self):
        p = self.properties
        body = {k: p[k] for k in PLAIN if p[k] is not None}
        if p['source_volid']:
            body['source_volid'] = self.resolve('volumes', p['source_volid'])
        body.setdefault('name', self.physical_resource_name())
        return body

    def update_body(self, prop_diff):
        p = self.properties
        obj = self.current() or {}
        if 'size' in prop_diff and p['size'] is not None and obj.get('size') is not None \
                and p['size'] < obj['size']:
            raise ResourceFailure(self.name, 'Can not shrink volume %s from %s GB to %s GB'
                                  % (self.physical_id, obj['size'], p['size']), base.UPDATE)
        body = {k: p[k] for k in IN_PLACE if k in prop_diff and p[k] is not None}
        if 'metadata' in prop_diff and p['metadata'] is None:
            body['metadata'] = {}
        return body

    def check_update_complete(self, cookie):
        """Done when the volume is available again, or in-use when it is attached."""
        obj = self.call(base.UPDATE, self.observe)
        if obj is None:
            raise ResourceFailure(self.name, 'volume %s vanished while updating'
                                  % self.physical_id, base.UPDATE)
        if obj.get('status') in self.failed_statuses:
            raise ResourceFailure(self.name, 'volume %s went to status %s'
                                  % (self.physical_id, obj['status']), base.UPDATE)
        return obj.get('status') in ('available', 'in-use')

    def resolve_attribute(self, name):
        obj = self.current()
        if obj is None:
            return None
        if name == 'metadata':
            return obj.get('metadata')
        if name == 'attachments':
            return str(obj.get('attachments') or [])
        if name in FIELDS:
            return obj.get(FIELDS[name])
        return None
