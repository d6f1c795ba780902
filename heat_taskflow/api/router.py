"""The router: Heat's v1 URLs (Routes) to controller actions, gathered from the controllers.

Each module named in ``CONTROLLER_MODULES`` exports

    ROUTES = [(path, methods, action), ...]   # path below /v1/{tenant_id}, Routes syntax
    Controller                                # built once as Controller(conf, service)

and the router connects ``/v1/{tenant_id}`` + path for each entry, in the order of the
modules and of their entries: the first route whose path and method match wins. An action
is a method of the controller called as ``action(req, tenant_id=..., **path variables)``;
it returns a dict/list/None (a 200 JSON answer) or a webob Response, or raises.

Answers of the router itself, all in Heat's fault JSON: no route for the path, 404; a
route for the path but not the method, 405 with ``Allow``; ``OPTIONS`` on any routed
path, 204 with ``Allow``.

``unimplemented`` comes last: it holds every route of Heat's table, answering 501, so a
route no controller serves yet is still Heat's URL with Heat's error format, and a module
that serves it later (listed before) shadows it.
"""

import importlib
import logging

import routes
import webob

from heat_taskflow.api import faults, wsgi

LOG = logging.getLogger(__name__)

PREFIX = '/v1/{tenant_id}'

CONTROLLER_MODULES = (
    'heat_taskflow.api.controllers.stacks',
    'heat_taskflow.api.controllers.actions',
    'heat_taskflow.api.controllers.resources',
    'heat_taskflow.api.controllers.events',
    'heat_taskflow.api.controllers.outputs',
    'heat_taskflow.api.controllers.templates',
    'heat_taskflow.api.controllers.build_info',
    'heat_taskflow.api.controllers.drift',
    'heat_taskflow.api.controllers.unimplemented',
)
def load_modules(names=CONTROLLER_MODULES):
    """The controller modules, in order."""
    return [importlib.import_module(name) for name in names]


class Router:
    """The WSGI application at the end of the pipeline."""

    def __init__(self, conf, service, modules=None):
        self.mapper = routes.Mapper()
        self.controllers = {}
        for module in modules if modules is not None else load_modules():
            controller = module.Controller(conf, service)
            key = module.__name__
            self.controllers[key] = controller
            for path, methods, action in module.ROUTES:
                if isinstance(methods, str):
                    methods = (methods,)
                if not callable(getattr(controller, action, None)):
                    raise TypeError('%s: route %s %s names no action "%s"'
                                    % (key, ','.join(methods), path, action))
                self.mapper.connect(PREFIX + path, controller=key, action=action,
                                    conditions={'method': list(methods)})

    def routes_table(self):
        """[(methods, path, module, action)] in matching order (for the docs and tests)."""
        return [(tuple(r.conditions['method']), r.routepath, r.defaults['controller'],
                 r.defaults['action']) for r in self.mapper.matchlist]

    def allowed_methods(self, path):
        """Every method some route serves on path, in a stable order."""
        allowed = []
        for route in self.mapper.matchlist:
            if route.match(path) is not False:
                for method in route.conditions['method']:
                    if method not in allowed:
                        allowed.append(method)
        return allowed

    def __call__(self, environ, start_response):
        # Errors are raised up to the FaultWrapper (never as webob HTTP errors, which a
        # webob.dec.wsgify middleware on the way would answer in webob's format).
        return self.dispatch(wsgi.Request(environ))(environ, start_response)

    def dispatch(self, req):
        """The response to a request (errors raised)."""
        path = req.path_info or '/'
        match = self.mapper.match(path, environ={'REQUEST_METHOD': req.method})
        if match is None:
            allowed = self.allowed_methods(path)
            if not allowed:
                raise faults.APIError('The resource could not be found.', code=404)
            allow = ', '.join(allowed)
            if req.method == 'OPTIONS':
                return wsgi.empty_response(204, {'Allow': allow})
            raise faults.APIError('The method %s is not allowed for this resource; allowed: '
                                  '%s.' % (req.method, allow), code=405,
                                  headers={'Allow': allow})
        match = dict(match)
        controller = self.controllers[match.pop('controller')]
        action = match.pop('action')
        result = getattr(controller, action)(req, **match)
        if isinstance(result, webob.Response):
            return result
        return wsgi.json_response(result)
