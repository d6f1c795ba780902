"""GET /build_info: the version of the API and of the engine (one package here)."""

from heat_taskflow.api.controllers import base
from heat_taskflow.common import version

ROUTES = [
    ('/build_info', 'GET', 'build_info'),
]


class Controller(base.Controller):
    """Build information."""

    def build_info(self, req, tenant_id):
        self.authorize(req, 'build_info:build_info', tenant_id)
        rev = version.version_string()
        return {'api': {'revision': rev}, 'engine': {'revision': rev}}
