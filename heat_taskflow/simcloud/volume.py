"""Cinder v3 as the simulator serves it under ``/volume``: version documents (this step).

Its catalog endpoint carries the project: ``/volume/v3/PROJECT_ID``.
"""

from heat_taskflow.simcloud import framework

MIN_VERSION, MAX_VERSION = '3.0', '3.71'
SERVICE = framework.Service(
    'volume', '/volume', framework.nova_error,
    framework.Microversions('volume', MIN_VERSION, MAX_VERSION))


def _v3(req):
    return framework.version_entry(req, 'v3.0', 'volume/v3', minimum=MIN_VERSION,
                                   maximum=MAX_VERSION,
                                   media='application/vnd.openstack.volume+json;version=3')


@SERVICE.route('GET', '/', auth=False)
@SERVICE.route('GET', '/v3', auth=False)
@SERVICE.route('GET', '/v3/{project_id}', auth=False)
def versions(req):
    return 200, {'versions': [_v3(req)]}
