"""Glance v2 as the simulator serves it under ``/image``: version documents (this step)."""

from heat_taskflow.simcloud import framework

SERVICE = framework.Service('image', '/image', framework.plain_error)


@SERVICE.route('GET', '/', auth=False)
@SERVICE.route('GET', '/v2', auth=False)
def versions(req):
    media = 'application/vnd.openstack.image+json'
    return 200, {'versions': [
        framework.version_entry(req, 'v2.%d' % minor, 'image/v2',
                                status='CURRENT' if minor == 17 else 'SUPPORTED', media=media)
        for minor in range(17, -1, -1)]}
