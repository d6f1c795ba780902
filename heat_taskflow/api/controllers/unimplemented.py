"""The rest of Heat's v1 routes: operations heat-taskflow does not have (yet). Each answers
Heat's fault JSON with 501 after the policy check (and, under a stack, after finding the
stack: an unknown one is 404 as in Heat). The router consults this table last, so a
controller that serves one of these routes later (listed before it) takes it over."""

import functools

from heat_taskflow.api import faults
from heat_taskflow.api.controllers import base

STACK = '/stacks/{stack_name}/{stack_id}'

# (path, method, action, Heat's policy rule, what is missing)
TABLE = [
    (STACK + '/preview', 'PUT', 'preview_update', 'stacks:preview_update',
     'Stack update preview'),
    (STACK + '/preview', 'PATCH', 'preview_update_patch', 'stacks:preview_update_patch',
     'Stack update preview'),
    (STACK + '/abandon', 'DELETE', 'abandon', 'stacks:abandon', 'Stack abandon'),
    (STACK + '/export', 'GET', 'export', 'stacks:export', 'Stack export'),
    (STACK + '/snapshots', 'POST', 'snapshot', 'stacks:snapshot', 'Stack snapshots'),
    (STACK + '/snapshots', 'GET', 'list_snapshots', 'stacks:list_snapshots',
     'Stack snapshots'),
    (STACK + '/snapshots/{snapshot_id}', 'GET', 'show_snapshot', 'stacks:show_snapshot',
     'Stack snapshots'),
    (STACK + '/snapshots/{snapshot_id}', 'DELETE', 'delete_snapshot',
     'stacks:delete_snapshot', 'Stack snapshots'),
    (STACK + '/snapshots/{snapshot_id}/restore', 'POST', 'restore_snapshot',
     'stacks:restore_snapshot', 'Stack snapshots'),
    ('/software_configs', 'GET', 'config_index', 'software_configs:index',
     'Software configs'),
    ('/software_configs', 'POST', 'config_create', 'software_configs:create',
     'Software configs'),
    ('/software_configs/{config_id}', 'GET', 'config_show', 'software_configs:show',
     'Software configs'),
    ('/software_configs/{config_id}', 'DELETE', 'config_delete', 'software_configs:delete',
     'Software configs'),
    ('/software_deployments', 'GET', 'deployment_index', 'software_deployments:index',
     'Software deployments'),
    ('/software_deployments', 'POST', 'deployment_create', 'software_deployments:create',
     'Software deployments'),
    ('/software_deployments/metadata/{server_id}', 'GET', 'deployment_metadata',
     'software_deployments:metadata', 'Software deployments'),
    ('/software_deployments/{deployment_id}', 'GET', 'deployment_show',
     'software_deployments:show', 'Software deployments'),
    ('/software_deployments/{deployment_id}', 'PUT', 'deployment_update',
     'software_deployments:update', 'Software deployments'),
    ('/software_deployments/{deployment_id}', 'DELETE', 'deployment_delete',
     'software_deployments:delete', 'Software deployments'),
    ('/services', 'GET', 'services', 'service:index', 'The engine service list'),
]

ROUTES = [(path, method, action) for path, method, action, _, _ in TABLE]
_ACTIONS = {action: (rule, what) for _, _, action, rule, what in TABLE}


class Controller(base.Controller):
    """501 for every route of TABLE."""

    def __getattr__(self, action):
        if action not in _ACTIONS:
            raise AttributeError(action)
        return functools.partial(self._unimplemented, *_ACTIONS[action])

    def _unimplemented(self, rule, what, req, tenant_id, stack_name=None, stack_id=None,
                       **ignored):
        self.authorize(req, rule, tenant_id)
        if stack_id is not None:
            self.identified(self.engine(req), stack_name, stack_id)
        raise faults.NotImplementedYet('%s is not implemented yet.' % what)
