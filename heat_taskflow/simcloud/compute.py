"""Nova v2.1 as the simulator serves it under ``/compute``: version documents (this step)."""

from heat_taskflow.simcloud import framework

MIN_VERSION, MAX_VERSION = '2.1', '2.100'
SERVICE = framework.Service(
    'compute', '/compute', framework.nova_error,
    framework.Microversions('compute', MIN_VERSION, MAX_VERSION,
                            legacy_header='X-OpenStack-Nova-API-Version'))


def _v21(req):
    return framework.version_entry(req, 'v2.1', 'compute/v2.1', minimum=MIN_VERSION,
                                   maximum=MAX_VERSION)


@SERVICE.route('GET', '/', auth=False)
def versions(req):
    return 200, {'versions': [_v21(req)]}


@SERVICE.route('GET', '/v2.1', auth=False)
def version(req):
    return 200, {'version': _v21(req)}
