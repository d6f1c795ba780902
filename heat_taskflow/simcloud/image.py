"""Glance v2 as the simulator serves it under ``/image``: a seeded, read-only image catalog.

Routes: ``GET /v2/images`` (filters ``name``, ``status``, ``visibility``, ``id``; ``limit``
and ``marker``), ``GET /v2/images/ID``, and the version documents. The catalog (``CATALOG``)
is stored at every start with fixed ids, public, owned by the admin project. Errors are
Glance's text bodies.
"""

import hashlib
import uuid

from heat_taskflow.simcloud import framework, identity
from heat_taskflow.simcloud.kinds import ApiError, Kind, register

SERVICE = framework.Service('image', '/image', framework.plain_error)

# name -> (disk format, size in bytes, min_disk GB, min_ram MB)
CATALOG = {'cirros-0.6.2-x86_64-disk': ('qcow2', 21430272, 1, 0),
           'ubuntu-24.04': ('qcow2', 593232384, 10, 512),
           'centos-stream-9': ('qcow2', 1181416448, 10, 1024),
           'overcloud-full': ('qcow2', 1610612736, 40, 4096)}
CREATED = '2026-01-01T00:00:00Z'


def image_id(name):
    """The fixed id of a catalog image."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, 'simcloud-image:' + name))


@register
class Images(Kind):
    name, label = 'images', 'Image'

    def seed(self, op):
        for name, (disk_format, size, min_disk, min_ram) in CATALOG.items():
            if op.tx.get('images', image_id(name)) is not None:
                continue
            digest = hashlib.sha512(name.encode()).hexdigest()
            op.tx.insert('images', {
                'id': image_id(name), 'name': name, 'status': 'active',
                'visibility': 'public', 'protected': False, 'os_hidden': False,
                'owner': identity.PROJECTS['admin']['id'], 'disk_format': disk_format,
                'container_format': 'bare', 'size': size, 'virtual_size': size,
                'min_disk': min_disk, 'min_ram': min_ram,
                'checksum': hashlib.md5(name.encode()).hexdigest(),
                'os_hash_algo': 'sha512', 'os_hash_value': digest, 'tags': [],
                'created_at': CREATED, 'updated_at': CREATED}, audited=False)

    def require_active(self, op, ref):
        """An active image by id (Nova's 400 when there is none)."""
        image = op.get('images', ref)
        if image is None:
            raise ApiError(400, 'ImageNotFound', 'Image %s could not be found.' % ref)
        if image['status'] != 'active':
            raise ApiError(400, 'ImageNotActive', 'Image %s is not active.' % ref)
        return image


def _view(body):
    out = {k: v for k, v in body.items() if not k.startswith('_')}
    out.update({'self': '/v2/images/%s' % body['id'], 'file': '/v2/images/%s/file' % body['id'],
                'schema': '/v2/schemas/image'})
    return out


FILTERS = ('name', 'status', 'visibility', 'id', 'disk_format', 'container_format', 'owner')


@SERVICE.route('GET', '/v2/images')
def list_images(req):
    filters = {k: req.query[k] for k in FILTERS if k in req.query}

    def action(op):
        return [_view(b) for b in op.tx.find('images')
                if op.visible(b) and all(str(b.get(k)) == v for k, v in filters.items())]
    images = req.call('images', 'list', action)
    marker = req.query.get('marker')
    if marker:
        ids = [i['id'] for i in images]
        images = images[ids.index(marker) + 1:] if marker in ids else []
    out = {'first': '/v2/images', 'schema': '/v2/schemas/images'}
    limit = req.query.get('limit')
    if limit and limit.isdigit() and len(images) > int(limit):
        images = images[:int(limit)]
        out['next'] = '/v2/images?marker=%s&limit=%s' % (images[-1]['id'], limit)
    out['images'] = images
    return 200, out


@SERVICE.route('GET', '/v2/images/{image_id}')
def show_image(req):
    def action(op):
        body = op.get('images', req.params['image_id'])
        if body is None:
            raise ApiError(404, 'NotFound', 'No image found with ID %s'
                           % req.params['image_id'])
        return _view(body)
    return 200, req.call('images', 'get', action)


@SERVICE.route('GET', '/', auth=False)
@SERVICE.route('GET', '/v2', auth=False)
def versions(req):
    media = 'application/vnd.openstack.image+json'
    return 200, {'versions': [
        framework.version_entry(req, 'v2.%d' % minor, 'image/v2',
                                status='CURRENT' if minor == 17 else 'SUPPORTED', media=media)
        for minor in range(17, -1, -1)]}


