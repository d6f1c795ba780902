"""GET /stacks/{name}/{id}/drift (microversion 1.2): the continuous observer's last look
at a stack (conductors/observer.py): when, by which conductor, and what had drifted."""

import datetime

from heat_taskflow.api import faults, versions
from heat_taskflow.api.controllers import base
from heat_taskflow.conductors import observer

SINCE = versions.Version(1, 2)

ROUTES = [
    ('/stacks/{stack_name}/{stack_id}/drift', 'GET', 'show'),
]


class Controller(base.Controller):
    """A stack's drift record."""

    def show(self, req, tenant_id, stack_name, stack_id):
        if req.api_version < SINCE:
            # The route does not exist before 1.2: a client that asks for nothing sees
            # exactly Heat's v1, where this path is unknown.
            raise faults.APIError('The resource could not be found.', code=404)
        self.authorize(req, 'stacks:show', tenant_id)
        view = self.identified(self.engine(req), stack_name, stack_id)
        seen = observer.last_observation(self.service.database, view['id'])
        if seen is None:
            return {'drift': {'observed_at': None, 'observed_by': None, 'resources': []}}
        when = seen['observed_at']
        if when is not None:
            when = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%SZ')
        return {'drift': {'observed_at': when, 'observed_by': seen['observed_by'],
                          'resources': seen['drift']}}
