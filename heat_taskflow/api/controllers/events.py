"""Events of one stack and of one of its resources (heat/api/openstack/v1/events.py):
/v1/{tenant_id}/stacks/{stack_name}/{stack_id}/events and .../resources/{r}/events[/{id}].

These drive every ``openstack stack ... --wait``: heatclient asks for
``sort_dir=asc&marker=<last id>`` (the marker exclusive) or ``limit=1&sort_dir=desc``, and
stops at the stack's own event (resource_name the stack's name, physical_resource_id the
stack's id, its stack link ending with that id).
"""

from heat_taskflow.api import faults
from heat_taskflow.api import views_resources as views
from heat_taskflow.api.controllers import base

_SORT_DIRS = ('asc', 'desc')

_STACK = '/stacks/{stack_name}/{stack_id}'

ROUTES = [
    (_STACK + '/events', 'GET', 'index'),
    (_STACK + '/resources/{resource_name}/events', 'GET', 'index'),
    (_STACK + '/resources/{resource_name}/events/{event_id}', 'GET', 'show'),
]


class Controller(base.Controller):
    """Heat's event routes (policy scope ``events``)."""

    def index(self, req, tenant_id, stack_name, stack_id, resource_name=None):
        """{"events": [...]} in summary form: limit, marker (exclusive), sort_dir,
        sort_keys, nested_depth, filters resource_status, resource_action, resource_name,
        resource_type. For one resource, 404 when it has no events, as Heat."""
        self.authorize(req, 'events:index', tenant_id)
        engine = self.engine(req)
        params = req.params
        limit = base.extract_int('limit', params.get('limit'))
        nested_depth = base.extract_int('nested_depth', params.get('nested_depth')) or 0
        marker = params.get('marker') or None
        sort_dir = params.get('sort_dir') or 'asc'
        if sort_dir.lower() not in _SORT_DIRS:
            raise faults.BadRequest("Unknown sort direction '%s', must be one of: %s"
                                    % (sort_dir, ', '.join(_SORT_DIRS)))
        sort_keys = [k for k in params.getall('sort_keys') if k] or None
        filters = base.get_allowed_params(params, views.EVENT_FILTERS)
        stack = self.identified(engine, stack_name, stack_id)
        events = engine.list_events(stack['id'], resource_name=resource_name, marker=marker,
                                    limit=limit, sort_dir=sort_dir.lower(),
                                    sort_keys=sort_keys, filters=filters or None,
                                    nested_depth=nested_depth)
        if not events and resource_name is not None:
            raise faults.APIError('No events found for resource %s' % resource_name,
                                  code=404)
        tenant = stack.get('project') or tenant_id
        root = (stack['stack_name'], stack['id']) if nested_depth else None
        return {'events': [views.format_event(req, tenant, e, root=root) for e in events]}

    def show(self, req, tenant_id, stack_name, stack_id, resource_name, event_id):
        """{"event": {...}} in detail form."""
        self.authorize(req, 'events:show', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id)
        event = engine.show_event(stack['id'], resource_name, event_id)
        return {'event': views.format_event(req, stack.get('project') or tenant_id, event,
                                            detail=True)}
