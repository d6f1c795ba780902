"""GET /build_info: the version of the API and of the engine (one package here)."""

from importlib import metadata

from heat_taskflow.api.controllers import base

ROUTES = [
    ('/build_info', 'GET', 'build_info'),
]


def revision():
    """heat-taskflow's installed version."""
    try:
        return metadata.version('heat-taskflow')
    except metadata.PackageNotFoundError:
        return 'unknown'


class Controller(base.Controller):
    """Build information."""

    def build_info(self, req, tenant_id):
        self.authorize(req, 'build_info:build_info', tenant_id)
        rev = revision()
        return {'api': {'revision': rev}, 'engine': {'revision': rev}}
