"""Resources of one stack: /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/resources[...]
(heat/api/openstack/v1/resources.py: list, show, metadata, signal, mark unhealthy)."""

from heat_taskflow.api import faults
from heat_taskflow.api import views_resources as views
from heat_taskflow.api.controllers import base

# Query keys GET .../resources accepts besides its filters; any other is a 400, as Heat.
_LIST_OPTIONS = ('nested_depth', 'with_detail')
_MARK_KEYS = ('mark_unhealthy', 'resource_status_reason')

_RESOURCE = '/stacks/{stack_name}/{stack_id}/resources/{resource_name}'

ROUTES = [
    ('/stacks/{stack_name}/{stack_id}/resources', 'GET', 'index'),
    (_RESOURCE, 'GET', 'show'),
    (_RESOURCE, 'PATCH', 'mark_unhealthy'),
    (_RESOURCE + '/metadata', 'GET', 'metadata'),
    (_RESOURCE + '/signal', 'POST', 'signal'),
]


class Controller(base.Controller):
    """Heat's resource routes (policy scope ``resource``)."""

    def index(self, req, tenant_id, stack_name, stack_id):
        """{"resources": [...]}: nested_depth, with_detail, filters type, status, name,
        action, id, physical_resource_id (repeatable); 400 on any other query key."""
        self.authorize(req, 'resource:index', tenant_id)
        engine = self.engine(req)
        params = req.params
        invalid = sorted(set(params) - set(views.RESOURCE_FILTERS) - set(_LIST_OPTIONS))
        if invalid:
            raise faults.BadRequest('Invalid filter parameters %s' % str(invalid))
        nested_depth = base.extract_int('nested_depth', params.get('nested_depth', 0))
        with_detail = base.extract_bool('with_detail', params.get('with_detail', False))
        filters = base.get_allowed_params(params, views.RESOURCE_FILTERS)
        stack = self.identified(engine, stack_name, stack_id)
        rows = engine.list_resources(stack['id'], nested_depth=nested_depth,
                                     filters=filters or None, with_detail=with_detail)
        tenant = stack.get('project') or tenant_id
        return {'resources': [views.format_resource(req, tenant, r, detail=with_detail)
                              for r in rows]}

    def show(self, req, tenant_id, stack_name, stack_id, resource_name):
        """{"resource": {..., "attributes", "links"}}; with_attr is accepted (every stored
        attribute is shown)."""
        self.authorize(req, 'resource:show', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id)
        res = engine.show_resource(stack['id'], resource_name)
        return {'resource': views.format_resource(req, stack.get('project') or tenant_id,
                                                  res, detail=True)}

    def metadata(self, req, tenant_id, stack_name, stack_id, resource_name):
        """{"metadata": {...}}."""
        self.authorize(req, 'resource:metadata', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id)
        return {'metadata': engine.resource_metadata(stack['id'], resource_name) or {}}

    def signal(self, req, tenant_id, stack_name, stack_id, resource_name):
        """Signal a resource with the JSON object of the body; no body or a JSON null (what
        ``openstack stack resource signal`` sends without --data) is a signal without
        data. 200, body null. A resource that takes no signals is the engine's 400."""
        body = None if req.body.strip() == b'null' else req.json_body()
        self.authorize(req, 'resource:signal', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id)
        engine.signal_resource(stack['id'], resource_name, body)
        return None

    def mark_unhealthy(self, req, tenant_id, stack_name, stack_id, resource_name):
        """{"mark_unhealthy": bool, "resource_status_reason": str} marks the resource
        CHECK_FAILED (false: back to CHECK_COMPLETE); 200, body null."""
        body = req.json_body()
        self.authorize(req, 'resource:mark_unhealthy', tenant_id)
        engine = self.engine(req)
        if body is None:
            raise faults.BadRequest('Missing mandatory (mark_unhealthy) key from mark '
                                    'unhealthy request')
        invalid = set(body) - set(_MARK_KEYS)
        if invalid:
            raise faults.BadRequest('Invalid keys in resource mark unhealthy %s' % invalid)
        if 'mark_unhealthy' not in body:
            raise faults.BadRequest('Missing mandatory (mark_unhealthy) key from mark '
                                    'unhealthy request')
        mark = base.extract_bool('mark_unhealthy', body['mark_unhealthy'])
        reason = body.get('resource_status_reason') or ''
        stack = self.identified(engine, stack_name, stack_id)
        engine.mark_resource_unhealthy(stack['id'], resource_name, reset=not mark,
                                       reason=str(reason))
        return None
