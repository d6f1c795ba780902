"""Stacks: the collection, the 302 lookups, one stack (show, template, environment, files,
update, delete). Heat's StackController (heat/api/openstack/v1/stacks.py)."""

import json
from urllib import parse

from heat_taskflow.api import faults, views, wsgi
from heat_taskflow.api.controllers import base
from heat_taskflow.common.text import shown
from heat_taskflow.engine import exceptions

LOOKUP_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
STACK = '/stacks/{stack_name}/{stack_id}'

ROUTES = [
    ('/stacks', 'GET', 'index'),
    ('/stacks', 'POST', 'create'),
    ('/stacks/preview', 'POST', 'preview'),
    ('/stacks/detail', 'GET', 'detail'),
    ('/stacks/{stack_name:arn\\x3A.*}', LOOKUP_METHODS, 'lookup'),
    ('/stacks/{stack_name}', LOOKUP_METHODS, 'lookup'),
    ('/stacks/{stack_name}/{path:resources|events|template|actions|environment|files}',
     'GET', 'lookup'),
    ('/stacks/{stack_name}/{path:resources|events|template|actions}', 'POST', 'lookup'),
    (STACK, 'GET', 'show'),
    (STACK + '/template', 'GET', 'template'),
    (STACK + '/environment', 'GET', 'environment'),
    (STACK + '/files', 'GET', 'files'),
    (STACK, 'PUT', 'update'),
    (STACK, 'PATCH', 'update_patch'),
    (STACK, 'DELETE', 'delete'),
]

# Query parameters of GET /stacks (Heat's _index): the filters, then the rest.
FILTER_PARAMS = dict.fromkeys(('id', 'status', 'name', 'action', 'tenant', 'username',
                               'owner_id'), base.MIXED)
INDEX_PARAMS = {
    'limit': base.SINGLE, 'marker': base.SINGLE, 'sort_dir': base.SINGLE,
    'sort_keys': base.MULTI, 'show_deleted': base.SINGLE, 'show_nested': base.SINGLE,
    'show_hidden': base.SINGLE, 'tags': base.SINGLE, 'tags_any': base.SINGLE,
    'not_tags': base.SINGLE, 'not_tags_any': base.SINGLE,
}
SORT_KEYS = ('stack_name', 'stack_status', 'creation_time', 'updated_time')
SORT_DIRS = ('asc', 'desc')

# Body keys of create/update (Heat's InstantiationData.PARAMS); others are "args".
BODY_KEYS = ('stack_name', 'template', 'template_url', 'parameters', 'environment',
             'files', 'environment_files', 'files_container')
# Args heat-taskflow honours or accepts and ignores (tags: no stack tags yet).
KNOWN_ARGS = ('timeout_mins', 'disable_rollback', 'tags', 'existing', 'converge',
              'adopt_stack_data', 'clear_parameters')


class Instantiation:
    """The body of a create, update or validate request, read as Heat reads it."""

    def __init__(self, body, patch=False):
        self.data = body or {}
        self.patch = patch

    def stack_name(self):
        name = self.data.get('stack_name')
        if not name:
            raise faults.BadRequest('No stack name specified')
        if not isinstance(name, str):
            raise faults.BadRequest('stack_name must be a string')
        return name

    def template(self):
        """(text, filename) of the template; (None, None) for a PATCH that keeps it."""
        if 'adopt_stack_data' in self.data:
            raise faults.NotImplementedYet('Stack adopt is not implemented yet.')
        tpl = self.data.get('template')
        if tpl is None and self.data.get('template_url'):
            raise faults.BadRequest('template_url is not supported: send the template '
                                    'itself in "template" (heatclient and openstack stack '
                                    'do so for local files)')
        if self.data.get('files_container'):
            raise faults.BadRequest('files_container is not supported (no object store)')
        if tpl is None:
            if self.patch:
                return None, None
            raise faults.BadRequest('No template specified')
        if isinstance(tpl, dict):
            return json.dumps(tpl, indent=2), 'template'
        if isinstance(tpl, str):
            return tpl, 'template'
        raise faults.BadRequest('Template not in valid format: expected a JSON object or '
                                'a YAML/JSON string, got %s' % type(tpl).__name__)

    def files(self):
        files = self.data.get('files') or {}
        if not isinstance(files, dict):
            raise faults.BadRequest('files must be a JSON object of file name to content')
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in files.items()}

    def environments(self):
        """[(filename, text)]: the environment_files from files, in order, else the
        merged environment the client sent (Heat ignores it when environment_files are
        given: they are the same environment, unmerged)."""
        names = self.data.get('environment_files')
        if names:
            if not isinstance(names, list):
                raise faults.BadRequest('environment_files must be a list of file names')
            files = self.files()
            missing = [n for n in names if n not in files]
            if missing:
                raise faults.BadRequest('environment_files not found in files: %s'
                                        % ', '.join(map(shown, missing)))
            return [(n, files[n]) for n in names]
        env = self.data.get('environment')
        if not env:
            return []
        if isinstance(env, dict):
            return [('environment', json.dumps(env, indent=2))]
        if isinstance(env, str):
            return [('environment', env)]
        raise faults.BadRequest('Environment not in valid format: expected a JSON object '
                                'or a YAML/JSON string')

    def parameters(self):
        params = self.data.get('parameters') or {}
        if not isinstance(params, dict):
            raise faults.BadRequest('parameters must be a JSON object')
        return params

    def args(self, is_update=False):
        """timeout_mins, disable_rollback and (updates) converge, checked (Heat's
        prepare_args)."""
        out = {}
        if self.data.get('timeout_mins') is not None:
            out['timeout_mins'] = base.extract_int('timeout_mins', self.data['timeout_mins'])
        if self.data.get('disable_rollback') is not None:
            out['disable_rollback'] = base.extract_bool('disable_rollback',
                                                        self.data['disable_rollback'])
        if 'converge' in self.data:
            if not is_update:
                raise faults.BadRequest('converge flag only supported in stack update (or '
                                        'update preview) request.')
            # Heat's "observe reality and repair it", which the engine's converge does.
            out['converge'] = base.extract_bool('converge', self.data['converge'])
        if self.data.get('clear_parameters'):
            raise faults.NotImplementedYet('clear_parameters is not implemented yet.')
        return out

    def no_change(self):
        """A PATCH that changes nothing (Heat's policy update_no_change)."""
        return (self.data.get('template') is None and not self.data.get('environment')
                and not self.data.get('parameters') and not self.data.get('files')
                and not self.data.get('environment_files')
                and not any(k not in BODY_KEYS and k != 'existing' for k in self.data))


class Controller(base.Controller):
    """Heat's stacks routes."""

    # -- the collection ----------------------------------------------------------------

    def index(self, req, tenant_id):
        """GET /stacks: this project's stacks, filtered, sorted and paged."""
        self.authorize(req, 'stacks:index', tenant_id)
        all_projects = False
        if 'global_tenant' in req.GET:
            all_projects = base.extract_bool('global_tenant', req.GET['global_tenant'])
            if all_projects:
                self.authorize(req, 'stacks:global_index', tenant_id)
        params = base.get_allowed_params(req.GET, INDEX_PARAMS)
        filters = base.get_allowed_params(req.GET, FILTER_PARAMS)
        flags = {name: base.extract_bool(name, params[name])
                 for name in ('show_deleted', 'show_nested', 'show_hidden') if name in params}
        limit = base.extract_int('limit', params.get('limit'))
        sort_dir = params.get('sort_dir', 'desc')          # Heat's default: newest first
        if sort_dir not in SORT_DIRS:
            raise faults.BadRequest("Unknown sort direction, must be one of: %s"
                                    % ', '.join(SORT_DIRS))
        sort_keys = params.get('sort_keys')
        for key in sort_keys or ():
            if key not in SORT_KEYS:
                raise faults.BadRequest('Invalid sort key "%s"; valid keys: %s'
                                        % (key, ', '.join(SORT_KEYS)))
        with_count = False
        if req.GET.get('with_count'):
            with_count = base.extract_bool('with_count', req.GET['with_count'])
        selection = dict(show_deleted=flags.get('show_deleted', False),
                         show_nested=flags.get('show_nested', False),
                         all_projects=all_projects)
        engine = self.engine(req)
        if params.get('tags') or params.get('tags_any') or filters.pop('username', None):
            # heat-taskflow records neither stack tags nor the creating user: none matches.
            stacks, count = [], 0
        else:
            stacks = engine.list_stacks(filters=filters or None, sort_keys=sort_keys,
                                        sort_dir=sort_dir, limit=limit,
                                        marker=params.get('marker'), **selection)
            count = (engine.count_stacks(filters=filters or None, **selection)
                     if with_count else None)
        return views.collection(req, stacks, req.context.project_id,
                                count=count if with_count else None,
                                include_project=base.is_admin(req.context))

    def detail(self, req, tenant_id):
        """GET /stacks/detail: every stack of the project, shown in full."""
        self.authorize(req, 'stacks:detail', tenant_id)
        stacks = self.engine(req).list_stacks()
        return views.collection(req, stacks, req.context.project_id, full=True,
                                include_project=base.is_admin(req.context))

    def create(self, req, tenant_id):
        """POST /stacks: validate, store and start a stack; 201 at once."""
        self.authorize(req, 'stacks:create', tenant_id)
        data = Instantiation(req.json_body())
        name = data.stack_name()
        text, filename = data.template()
        view = self.engine(req).create_stack(
            name, text, filename, files=data.files(), environments=data.environments(),
            parameters=data.parameters(), **_create_args(data.args()))
        link = base.stack_link(req, view, req.context.project_id)
        return wsgi.json_response({'stack': {'id': view['id'], 'links': [link]}}, status=201,
                                  headers={'Location': link['href']})

    def preview(self, req, tenant_id):
        """POST /stacks/preview (stack create --dry-run): not there yet."""
        self.authorize(req, 'stacks:preview', tenant_id)
        raise faults.NotImplementedYet('Stack preview is not implemented yet.')

    # -- lookups -----------------------------------------------------------------------

    def lookup(self, req, tenant_id, stack_name, path=None):
        """302 to /v1/{project}/stacks/{name}/{id}[/path][?query] for a name or an id."""
        self.authorize(req, 'stacks:lookup', tenant_id)
        if stack_name.startswith('arn:'):
            project, name, stack_id = _parse_arn(stack_name)
            view = self.identified(self.engine(req), name, stack_id)
        else:
            view = self.engine(req).get_stack(stack_name, outputs=False)
        location = base.stack_url(req, view.get('project') or req.context.project_id,
                                  view['stack_name'], view['id'], *([path] if path else []))
        if req.query_string:
            location += '?' + parse.urlencode(list(req.GET.items()))
        return wsgi.empty_response(302, {'Location': location})

    # -- one stack ---------------------------------------------------------------------

    def show(self, req, tenant_id, stack_name, stack_id):
        """GET a stack with its outputs (unless resolve_outputs=false)."""
        self.authorize(req, 'stacks:show', tenant_id)
        view = self.identified(self.engine(req), stack_name, stack_id, outputs=True)
        if 'resolve_outputs' in req.GET and not base.extract_bool(
                'resolve_outputs', req.GET['resolve_outputs']):
            view.pop('outputs', None)
        return {'stack': views.format_stack(req, view, req.context.project_id,
                                            include_project=base.is_admin(req.context))}

    def template(self, req, tenant_id, stack_name, stack_id):
        """The stack's current template."""
        self.authorize(req, 'stacks:template', tenant_id)
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        return engine.get_template(stack_id)

    def environment(self, req, tenant_id, stack_name, stack_id):
        """The stack's environment (hidden parameter values masked)."""
        self.authorize(req, 'stacks:environment', tenant_id)
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        return engine.get_environment(stack_id)

    def files(self, req, tenant_id, stack_name, stack_id):
        """The stack's files map."""
        self.authorize(req, 'stacks:files', tenant_id)
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        return engine.get_files(stack_id)

    def update(self, req, tenant_id, stack_name, stack_id):
        """PUT: update to a new template (required) and parameters; 202 at once."""
        self.authorize(req, 'stacks:update', tenant_id)
        return self._update(req, Instantiation(req.json_body()), stack_name, stack_id)

    def update_patch(self, req, tenant_id, stack_name, stack_id):
        """PATCH: update keeping what is not given (no template: the current one;
        parameters merged into the current ones); 202 at once."""
        data = Instantiation(req.json_body(), patch=True)
        rule = 'stacks:update_no_change' if data.no_change() else 'stacks:update_patch'
        self.authorize(req, rule, tenant_id)
        return self._update(req, data, stack_name, stack_id)

    def _update(self, req, data, stack_name, stack_id):
        """Start the update the body asks for (a PATCH keeps what it does not give)."""
        text, filename = data.template()
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        engine.update_stack(stack_id, text, filename, files=data.files(),
                            environments=data.environments(), parameters=data.parameters(),
                            existing=data.patch, **data.args(is_update=True))
        return wsgi.empty_response(202)

    def delete(self, req, tenant_id, stack_name, stack_id):
        """DELETE: start deleting the stack; 204 at once."""
        self.authorize(req, 'stacks:delete', tenant_id)
        engine = self.engine(req)
        self.identified(engine, stack_name, stack_id)
        engine.delete_stack(stack_id)
        return wsgi.empty_response(204)


def _create_args(args):
    """Heat's defaults for a create: without disable_rollback, no rollback (Heat's Stack
    defaults to disable_rollback=True; `openstack stack create` always sends it)."""
    out = dict(args)
    out.setdefault('disable_rollback', True)
    return out


def _parse_arn(arn):
    """(project, name, id) of arn:openstack:heat::{project}:stacks/{name}/{id}; 404 else."""
    prefix = 'arn:openstack:heat::'
    rest = arn[len(prefix):] if arn.startswith(prefix) else ''
    project, _, path = rest.partition(':')
    parts = [parse.unquote(p) for p in path.split('/')]
    if not project or len(parts) < 3 or parts[0] != 'stacks':
        raise exceptions.StackNotFound(arn)
    return parse.unquote(project), parts[1], parts[2]
