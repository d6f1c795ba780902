"""Cinder v3 as the simulator serves it under ``/volume``: volumes and attachments.

The catalog endpoint carries the project: ``/volume/v3/PROJECT_ID``. Routes (below it):
``volumes`` (POST; GET, ``detail``, filters ``name``, ``status`` and ``metadata`` (a JSON or
Python dict: every pair must match)), ``volumes/ID`` (GET, PUT, DELETE: 400 while attached),
``volumes/ID/action`` (``os-extend``), ``volumes/ID/metadata[/KEY]``, ``attachments``
(+ ``detail``, ``attachments/ID``: the volume attachments Nova made, and a create/delete for a
volume attached to a server without Nova). A volume is ``creating`` for ``build_time`` seconds,
then ``available``; its creation is audited with its ``heat_taskflow_token`` metadata (or a
description starting with ``htf-``). Errors are Nova's format, as Cinder writes them.
"""

import ast
import json

from heat_taskflow.simcloud import compute, framework, kinds
from heat_taskflow.simcloud.kinds import ApiError, Kind, bad_request, register

MIN_VERSION, MAX_VERSION = '3.0', '3.71'
SERVICE = framework.Service(
    'volume', '/volume', framework.nova_error,
    framework.Microversions('volume', MIN_VERSION, MAX_VERSION))

CREATE_FIELDS = ('name', 'description', 'size', 'volume_type', 'availability_zone', 'metadata',
                 'imageRef', 'snapshot_id', 'source_volid', 'backup_id', 'multiattach',
                 'consistencygroup_id', 'group_id')
DELETABLE = ('available', 'error', 'error_restoring', 'error_extending', 'error_managing')


@register
class Volumes(Kind):
    name, label = 'volumes', 'Volume'

    def over_quota(self, limit):
        return ApiError(413, 'VolumeLimitExceeded', "Maximum number of volumes allowed (%d) "
                        "exceeded for quota 'volumes'." % limit)

    def create(self, op, spec):
        unknown = sorted(set(spec) - set(CREATE_FIELDS))
        if unknown:
            raise bad_request('Invalid input for field/attribute volume. Additional '
                              'properties are not allowed (%s were unexpected)'
                              % ', '.join(unknown))
        size = spec.get('size')
        if spec.get('source_volid'):
            source = op.require('volumes', spec['source_volid'], status=400)
            size = size or source['size']
        if spec.get('imageRef'):
            kinds.KINDS['images'].require_active(op, spec['imageRef'])
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise bad_request('Invalid input received: size %r must be an integer >= 1'
                              % (size,))
        body = {'name': spec.get('name'), 'description': spec.get('description'),
                'size': size, 'volume_type': spec.get('volume_type') or '__DEFAULT__',
                'availability_zone': spec.get('availability_zone') or 'nova',
                'metadata': _metadata(spec.get('metadata') or {}),
                'snapshot_id': spec.get('snapshot_id'),
                'source_volid': spec.get('source_volid'),
                'multiattach': bool(spec.get('multiattach')),
                'bootable': 'true' if spec.get('imageRef') else 'false', 'encrypted': False,
                'created_at': compute.iso(op.now), 'updated_at': None,
                'user_id': op.user, 'project_id': op.project,
                'os-vol-tenant-attr:tenant_id': op.project,
                'replication_status': None, 'consistencygroup_id': None,
                'group_id': None, 'shared_targets': False, 'service_uuid': None}
        if spec.get('imageRef'):
            body['volume_image_metadata'] = {'image_id': spec['imageRef']}
        return self.transition(op, body, 'creating', 'available')

    def update(self, op, body, patch):
        unknown = sorted(set(patch) - {'name', 'description', 'metadata'})
        if unknown:
            raise bad_request('Invalid input for field/attribute volume. Additional '
                              'properties are not allowed (%s were unexpected)'
                              % ', '.join(unknown))
        body = self.settle(op, body)
        body.update(patch)
        if 'metadata' in patch:
            body['metadata'] = _metadata(patch['metadata'])
        body['updated_at'] = compute.iso(op.now)
        return body

    def extend(self, op, body, new_size):
        body = self.settle(op, body)
        if not isinstance(new_size, int) or new_size <= body['size']:
            raise bad_request('New size for extend must be greater than current size. '
                              '(current: %s, extended: %s)' % (body['size'], new_size))
        if body['status'] != 'available':
            raise bad_request('Invalid volume: Volume %s status must be available or in-use, '
                              'but current status is: %s.' % (body['id'], body['status']))
        body['size'] = new_size
        return self.transition(op, body, 'extending', 'available')

    def view(self, op, body):
        out = super().view(op, body)
        out['attachments'] = [
            {'id': body['id'], 'attachment_id': a['id'], 'volume_id': body['id'],
             'server_id': a['server_id'], 'host_name': None, 'device': a['device'],
             'attached_at': a.get('attached_at')}
            for a in op.tx.find('volume_attachments', volume_id=body['id'])]
        return out

    def delete(self, op, body):
        body = self.settle(op, body)
        if body['status'] not in DELETABLE or op.tx.find('volume_attachments',
                                                         volume_id=body['id']):
            raise bad_request('Invalid volume: Volume status must be available or error or '
                              'error_restoring or error_extending or error_managing and must '
                              'not be migrating, attached, belong to a group, have snapshots, '
                              'awaiting a transfer, or be disassociated from snapshots after '
                              'volume transfer.')


def _metadata(metadata):
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise bad_request('Invalid input for field/attribute metadata: a map of strings')
    return dict(metadata)


def _links(req, body):
    return [{'rel': rel, 'href': framework.link(req, prefix, req.project, 'volumes',
                                                body['id'])}
            for rel, prefix in (('self', 'volume/v3'), ('bookmark', 'volume'))]


def _check_project(req):
    if req.params['project_id'] != req.project:
        raise ApiError(400, 'BadRequest', 'Malformed request url: project %s is not the '
                       "token's project" % req.params['project_id'])


def _metadata_filter(text):
    """The pairs of a ``metadata`` filter (JSON or a Python dict); Cinder ignores others.

    openstacksdk's ``volumes(metadata={...})`` sends only the keys and filters on the client;
    ``volumes(properties=json.dumps({...}))`` filters here.
    """
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return value
    return {}


def _list(req, detail):
    _check_project(req)
    metadata = _metadata_filter(req.query['metadata']) if 'metadata' in req.query else {}
    plain = {k: req.query[k] for k in ('name', 'status') if k in req.query}

    def action(op):
        # Metadata and name first, on the stored bodies: views cost a query each.
        bodies = [b for b in op.find('volumes')
                  if all(b['metadata'].get(k) == v for k, v in metadata.items())
                  and b['name'] == plain.get('name', b['name'])]
        views = [kinds.view(op, 'volumes', b) for b in bodies]
        return [v for v in views if v['status'] == plain.get('status', v['status'])]
    views = req.call('volumes', 'list', action)
    if detail:
        for view in views:
            view['links'] = _links(req, view)
        return 200, {'volumes': views}
    return 200, {'volumes': [{'id': v['id'], 'name': v['name'], 'links': _links(req, v)}
                             for v in views]}


@SERVICE.route('GET', '/v3/{project_id}/volumes')
def list_volumes(req):
    return _list(req, detail=False)


@SERVICE.route('GET', '/v3/{project_id}/volumes/detail')
def list_volumes_detail(req):
    return _list(req, detail=True)


def _volume(req, body):
    view = dict(body, links=_links(req, body))
    return {'volume': view}


@SERVICE.route('POST', '/v3/{project_id}/volumes')
def create_volume(req):
    _check_project(req)
    spec = req.json_body('volume')
    token = compute.intent_token(metadata=spec.get('metadata') if isinstance(
        spec.get('metadata'), dict) else None, description=spec.get('description'))

    def action(op):
        return kinds.view(op, 'volumes', kinds.create_object(op, 'volumes', spec))
    return 202, _volume(req, req.call('volumes', 'create', action, token=token))


@SERVICE.route('GET', '/v3/{project_id}/volumes/{volume_id}')
def show_volume(req):
    _check_project(req)
    return 200, _volume(req, req.call('volumes', 'get', lambda op: kinds.view(
        op, 'volumes', op.require('volumes', req.params['volume_id']))))


@SERVICE.route('PUT', '/v3/{project_id}/volumes/{volume_id}')
def update_volume(req):
    _check_project(req)
    patch = req.json_body('volume')
    return 200, _volume(req, req.call('volumes', 'update', lambda op: kinds.view(
        op, 'volumes', kinds.update_object(op, 'volumes', req.params['volume_id'], patch))))


@SERVICE.route('DELETE', '/v3/{project_id}/volumes/{volume_id}')
def delete_volume(req):
    _check_project(req)
    req.call('volumes', 'delete',
             lambda op: kinds.delete_object(op, 'volumes', req.params['volume_id']))
    return 202, None


@SERVICE.route('POST', '/v3/{project_id}/volumes/{volume_id}/action')
def volume_action(req):
    _check_project(req)
    body = req.json_body()
    if list(body) != ['os-extend']:
        raise bad_request('There is no such action: %s' % ', '.join(body))
    new_size = (body['os-extend'] or {}).get('new_size')

    def action(op):
        volume = Volumes().extend(op, op.require('volumes', req.params['volume_id']),
                                  new_size)
        op.tx.update('volumes', volume)
    req.call('volumes', 'update', action)
    return 202, None


def _change_metadata(req, change):
    def action(op):
        volume = op.require('volumes', req.params['volume_id'])
        volume['metadata'] = change(dict(volume['metadata']))
        op.tx.update('volumes', volume)
        return volume['metadata']
    return req.call('volumes', 'update', action)


@SERVICE.route('GET', '/v3/{project_id}/volumes/{volume_id}/metadata')
def show_metadata(req):
    _check_project(req)
    return 200, {'metadata': req.call('volumes', 'get', lambda op: op.require(
        'volumes', req.params['volume_id'])['metadata'])}


@SERVICE.route(('POST', 'PUT'), '/v3/{project_id}/volumes/{volume_id}/metadata')
def set_metadata(req):
    _check_project(req)
    new = _metadata(req.json_body().get('metadata'))
    if req.method == 'PUT':
        return 200, {'metadata': _change_metadata(req, lambda old: new)}
    return 200, {'metadata': _change_metadata(req, lambda old: dict(old, **new))}


@SERVICE.route('DELETE', '/v3/{project_id}/volumes/{volume_id}/metadata/{key}')
def delete_metadata_key(req):
    _check_project(req)

    def change(old):
        if req.params['key'] not in old:
            raise ApiError(404, 'NotFound', 'Volume %s has no metadata with key %s.'
                           % (req.params['volume_id'], req.params['key']))
        old.pop(req.params['key'])
        return old
    _change_metadata(req, change)
    return 200, None


# -- attachments (Cinder's view of the volume attachments) ------------------------------------


def _attachment(body):
    return {'id': body['id'], 'volume_id': body['volume_id'],
            'instance': body['server_id'], 'attach_mode': 'rw', 'status': 'attached',
            'attached_at': body.get('attached_at'), 'detached_at': None,
            'connection_info': {}}


@SERVICE.route('GET', '/v3/{project_id}/attachments')
@SERVICE.route('GET', '/v3/{project_id}/attachments/detail')
def list_attachments(req):
    _check_project(req)
    volume_id = req.query.get('volume_id')

    def action(op):
        return [_attachment(a) for a in op.find('volume_attachments')
                if volume_id is None or a['volume_id'] == volume_id]
    return 200, {'attachments': req.call('volume_attachments', 'list', action)}


@SERVICE.route('GET', '/v3/{project_id}/attachments/{attachment_id}')
def show_attachment(req):
    _check_project(req)
    return 200, {'attachment': _attachment(req.call('volume_attachments', 'get', lambda op: (
        op.require('volume_attachments', req.params['attachment_id']))))}


@SERVICE.route('POST', '/v3/{project_id}/attachments')
def create_attachment(req):
    _check_project(req)
    spec = req.json_body('attachment')
    if not req.at_least('3.27'):
        raise ApiError(404, 'NotFound', 'The attachments API needs microversion 3.27')

    def action(op):
        return _attachment(kinds.create_object(op, 'volume_attachments', {
            'server_id': spec.get('instance_uuid'), 'volume_id': spec.get('volume_uuid')},
            parent=spec.get('instance_uuid')))
    return 200, {'attachment': req.call('volume_attachments', 'create', action)}


@SERVICE.route('DELETE', '/v3/{project_id}/attachments/{attachment_id}')
def delete_attachment(req):
    _check_project(req)
    req.call('volume_attachments', 'delete', lambda op: kinds.delete_object(
        op, 'volume_attachments', req.params['attachment_id']))
    return 200, {'attachments': []}


# -- version documents --------------------------------------------------------------------------


def _v3(req):
    return framework.version_entry(req, 'v3.0', 'volume/v3', minimum=MIN_VERSION,
                                   maximum=MAX_VERSION,
                                   media='application/vnd.openstack.volume+json;version=3')


@SERVICE.route('GET', '/', auth=False)
@SERVICE.route('GET', '/v3', auth=False)
@SERVICE.route('GET', '/v3/{project_id}', auth=False)
def versions(req):
    return 200, {'versions': [_v3(req)]}
