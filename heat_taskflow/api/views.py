"""Stack views in Heat's shape (heat/api/openstack/v1/views/stacks_view.py), built from the
engine service's stack dicts."""

import json
from urllib import parse

from heat_taskflow.api import versions
from heat_taskflow.api.controllers import base

# What a stack list shows of each stack (Heat's basic_keys); show adds the rest.
BASIC_KEYS = ('id', 'stack_name', 'description', 'stack_status', 'stack_status_reason',
              'creation_time', 'deletion_time', 'updated_time', 'stack_owner', 'parent',
              'stack_user_project_id', 'tags')


def isotime(value):
    """Heat's time format (``2026-12-07T11:37:21Z``, UTC, whole seconds) of the engine's
    ISO text (naive UTC, microseconds); None stays None."""
    if not value:
        return None
    return str(value)[:19] + 'Z'


# Added by microversion 1.1 to show and list.
PATH_KEYS = ('path', 'current_traversal')


def format_stack(req, view, project_id, full=True, include_project=False):
    """Heat's dict for one stack; ``full`` for show (parameters, outputs, ...)."""
    out = {
        'id': view['id'],
        'links': [base.stack_link(req, view, project_id)],
        'stack_name': view['stack_name'],
        'description': view.get('description') or '',
        'stack_status': view['stack_status'],
        'stack_status_reason': view.get('stack_status_reason') or '',
        'creation_time': isotime(view.get('creation_time')),
        'deletion_time': isotime(view.get('deletion_time')),
        'updated_time': isotime(view.get('updated_time')),
        'stack_owner': None,
        'parent': view.get('parent'),
        'stack_user_project_id': None,
        'tags': None,
    }
    if include_project:
        out['project'] = view.get('project') or project_id
    if full:
        out.update({
            'template_description': view.get('description') or '',
            'parameters': {k: parameter_text(v)                     # hidden ones masked
                           for k, v in (view.get('parameters') or {}).items()},
            'timeout_mins': view.get('timeout_mins'),
            'disable_rollback': view.get('disable_rollback'),
            'capabilities': [],
            'notification_topics': [],
        })
        if 'outputs' in view:
            out['outputs'] = [format_output(o) for o in view['outputs']]
    if req.api_version >= versions.Version(1, 1):
        for key in PATH_KEYS:
            out[key] = view.get(key)
    return out


def parameter_text(value):
    """A parameter value as Heat shows it: a string (a list comma-joined, a map JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ','.join(parameter_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def format_output(output, with_value=True):
    """Heat's output dict; output_error only when the output failed to resolve."""
    out = {'output_key': output['output_key'],
           'description': output.get('description') or 'No description given'}
    if with_value:
        out['output_value'] = output.get('output_value')
        if output.get('output_error'):
            out['output_error'] = output['output_error']
    return out


def collection(req, views, project_id, count=None, include_project=False, full=False):
    """{'stacks': [...], 'links': [next]?, 'count'?} of a stack list."""
    stacks = [format_stack(req, v, project_id, full=full, include_project=include_project)
              for v in views]
    result = {'stacks': stacks}
    links = next_links(req, stacks)
    if links:
        result['links'] = links
    if count is not None:
        result['count'] = count
    return result


def next_links(req, items):
    """[{'rel': 'next', 'href'}] when the page is full (as many items as the limit)."""
    try:
        limit = int(req.GET.get('limit') or 0)
    except ValueError:
        limit = 0
    if limit <= 0 or len(items) != limit:
        return []
    params = req.GET.copy()
    params['marker'] = items[-1]['id']
    return [{'rel': 'next',
             'href': '%s?%s' % (req.path_url, parse.urlencode(list(params.items())))}]
