"""Heat's JSON views of resources and events, with their links, and the filters
of their lists (heat/api/openstack/v1/resources.py, events.py).

Links are absolute, built from the request's host (X-Forwarded-* already applied by the
proxy middleware) as Heat's ``util.make_url`` does:
``/v1/{tenant}/stacks/{name}/{id}[/resources/{r}[/events/{e}]]``. heatclient reads them:
a resource's stack name is the stack link's second-last segment, and ``--wait`` ends at an
event whose stack link ends with its ``physical_resource_id``.
"""

from heat_taskflow.api import views
from heat_taskflow.api.controllers import base

# Filters of the lists: given once or repeated (Heat's PARAM_TYPE_MIXED).
RESOURCE_FILTERS = {key: base.MIXED for key in
                    ('type', 'status', 'name', 'action', 'id', 'physical_resource_id')}
EVENT_FILTERS = {key: base.MIXED for key in
                 ('resource_status', 'resource_action', 'resource_name', 'resource_type')}


def link(href, rel='self'):
    """{'href', 'rel'}."""
    return {'href': href, 'rel': rel}


def format_resource(req, tenant, res, detail=False):
    """Heat's resource dict from the engine's resource view.

    The stack the resource belongs to (its own, for a nested one) names the links; a
    resource owning a nested stack gets a 'nested' link too. ``detail`` keeps the
    description and attributes (show, or a list with_detail).
    """
    stack_name, stack_id = res['stack_name'], res['stack_id']
    links = [link(base.stack_url(req, tenant, stack_name, stack_id,
                                 'resources', res['resource_name'])),
             link(base.stack_url(req, tenant, stack_name, stack_id), 'stack')]
    nested = res.get('nested_stack_id')
    if nested:
        links.append(link(base.stack_url(req, tenant, res['nested_stack_name'], nested),
                          'nested'))
    out = {
        'resource_name': res['resource_name'],
        'logical_resource_id': res.get('logical_resource_id') or res['resource_name'],
        'physical_resource_id': res.get('physical_resource_id') or '',
        'resource_type': res.get('resource_type'),
        'resource_status': res.get('resource_status'),
        'resource_status_reason': res.get('resource_status_reason'),
        'creation_time': views.isotime(res.get('creation_time')),
        'updated_time': views.isotime(res.get('updated_time') or res.get('creation_time')),
        'required_by': list(res.get('required_by') or []),
        'links': links,
    }
    if res.get('parent_resource'):
        out['parent_resource'] = res['parent_resource']
    if detail:
        out['description'] = res.get('description') or ''
        if 'attributes' in res:
            out['attributes'] = res['attributes']
    return out


def format_event(req, tenant, event, detail=False, root=None):
    """Heat's event dict from the engine's event view.

    Links: self (``.../resources/{resource_name}/events/{id}``), resource and stack (the
    event's own stack, whose href ends with its id), and root_stack when ``root`` (the
    top stack's (name, id)) is given, as Heat does with nested_depth.
    """
    stack = (tenant, event['stack_name'], event['stack_id'])
    resource = ('resources', event['resource_name'])
    links = [link(base.stack_url(req, *stack, *resource, 'events', event['id'])),
             link(base.stack_url(req, *stack, *resource), 'resource'),
             link(base.stack_url(req, *stack), 'stack')]
    if root is not None:
        links.append(link(base.stack_url(req, tenant, *root), 'root_stack'))
    out = {
        'id': event['id'],
        'links': links,
        'event_time': views.isotime(event.get('event_time')),
        'resource_name': event['resource_name'],
        'logical_resource_id': event.get('logical_resource_id') or event['resource_name'],
        'resource_status': event.get('resource_status'),
        'resource_status_reason': event.get('resource_status_reason'),
        'physical_resource_id': event.get('physical_resource_id'),
    }
    if detail:
        out['resource_type'] = event.get('resource_type')
        out['resource_properties'] = event.get('resource_properties') or {}
    return out
