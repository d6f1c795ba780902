"""Who calls: the authentication middleware and the request context (``[api] auth_strategy``).

``pipeline(conf, app)`` wraps the router app in, outermost first:

- ``noauth``: ``NoAuthMiddleware``, which drops every identity header the client sent and
  makes the caller a member and reader of the project named in the URL (``/v1/PROJECT/...``),
  never an admin;
- ``keystone``: keystonemiddleware's ``auth_token`` (its options in ``[keystone_authtoken]``
  of our configuration), which validates the token, drops the client's identity headers and
  sets the token's;

then ``ContextMiddleware``, which builds ``api.context.RequestContext`` from those headers
into ``environ['heat_taskflow.context']``.
"""

from heat_taskflow.api import context, faults, policy, wsgi
from heat_taskflow.conf import auth as auth_conf

CONTEXT_KEY = wsgi.CONTEXT_KEY

NOAUTH_USER = 'noauth'
NOAUTH_ROLES = ('member', 'reader')

# WSGI environ keys of the headers that say who the caller is (keystonemiddleware's
# set, Heat's own X-Auth-* and the pre-Keystone-v3 names): a prefix drops the whole family.
IDENTITY_PREFIXES = (
    'HTTP_X_IDENTITY_STATUS',
    'HTTP_X_SERVICE_',          # X-Service-Identity-Status, -Catalog, -Roles, -Project-*...
    'HTTP_X_PROJECT',
    'HTTP_X_TENANT',
    'HTTP_X_USER',
    'HTTP_X_DOMAIN',
    'HTTP_X_ROLE',              # X-Role, X-Roles
    'HTTP_X_IS_ADMIN_PROJECT',
    'HTTP_X_SYSTEM_SCOPE',
    'HTTP_OPENSTACK_SYSTEM_SCOPE',
    'HTTP_X_AUTH_USER',
    'HTTP_X_AUTH_KEY',
    'HTTP_X_AUTH_URL',
    'HTTP_X_AUTH_PROJECT',
    'HTTP_X_TRUST',
    'HTTP_X_APP_CRED',
)
# What keystonemiddleware puts beside the headers; a client cannot send these, but a
# middleware in front might.
IDENTITY_KEYS = ('keystone.token_info', 'keystone.token_auth')


def strip_identity(environ):
    """Remove every identity header (and token info) from a WSGI environ."""
    for key in [k for k in environ if k.startswith(IDENTITY_PREFIXES)]:
        del environ[key]
    for key in IDENTITY_KEYS:
        environ.pop(key, None)


def url_project(environ):
    """The project of a ``/v1/{project}/...`` URL, or None when the path names none."""
    path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
    segments = [segment for segment in path.split('/') if segment]
    if 'v1' not in segments:
        return None
    rest = segments[segments.index('v1') + 1:]
    return rest[0] if rest else None


class NoAuthMiddleware:
    """The caller is a member and reader of the URL's project, whatever headers it sent."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        strip_identity(environ)
        project = url_project(environ)
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        environ['HTTP_X_USER_ID'] = NOAUTH_USER
        environ['HTTP_X_USER_NAME'] = NOAUTH_USER
        environ['HTTP_X_ROLES'] = ','.join(NOAUTH_ROLES)
        environ['HTTP_X_IS_ADMIN_PROJECT'] = 'False'
        if project is not None:
            environ['HTTP_X_PROJECT_ID'] = project
            environ['HTTP_X_PROJECT_NAME'] = project
        return self.app(environ, start_response)


class ContextMiddleware:
    """Build the RequestContext from the auth headers into environ['heat_taskflow.context'].

    With require_identity, a request whose identity keystonemiddleware did not confirm
    (possible only with [keystone_authtoken] delay_auth_decision) is answered 401 here.
    """

    def __init__(self, app, require_identity=False, enforcer=None):
        self.app = app
        self.require_identity = require_identity
        self.enforcer = enforcer

    def __call__(self, environ, start_response):
        if self.require_identity and environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            resp = faults.fault_response(401, 'HTTPUnauthorized', 'The request you have '
                                         'made requires authentication.')
            return resp(environ, start_response)
        environ[CONTEXT_KEY] = context.RequestContext.from_environ(environ,
                                                                   enforcer=self.enforcer)
        return self.app(environ, start_response)


def keystone_middleware(conf, app):
    """keystonemiddleware's auth_token in front of app, configured from conf."""
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(app, {'oslo_config_config': conf})


def pipeline(conf, app):
    """Wrap the router app in the authentication and context middleware of conf."""
    auth_conf.register_opts(conf)
    enforcer = policy.make_enforcer(conf)
    strategy = conf.api.auth_strategy
    if strategy == 'keystone':
        return keystone_middleware(conf, ContextMiddleware(app, require_identity=True,
                                                           enforcer=enforcer))
    return NoAuthMiddleware(ContextMiddleware(app, enforcer=enforcer))


def request_context(environ):
    """The RequestContext ContextMiddleware stored in a WSGI environ."""
    return environ[CONTEXT_KEY]
