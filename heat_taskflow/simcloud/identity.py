"""Keystone v3 as the simulator needs it: password and token auth, validation, the catalog.

Two users in domain ``Default``: ``admin``/``password`` (project ``admin``) and
``demo``/``password`` (project ``demo``); ids are fixed, so they survive restarts. Tokens are
signed, not stored: ``PAYLOAD.SIGNATURE`` (user, project, methods, times; an HMAC with a key
kept in the database), so a token stays valid across a restart of the server and checking one
costs no query.
"""

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid

from heat_taskflow.simcloud import framework
from heat_taskflow.simcloud.kinds import ApiError

TOKEN_LIFETIME = 24 * 3600
DOMAIN = {'id': 'default', 'name': 'Default'}


def _fixed_id(name):
    return hashlib.md5(('simcloud-' + name).encode()).hexdigest()


PROJECTS = {name: {'id': _fixed_id('project-' + name), 'name': name, 'domain_id': 'default',
                   'description': '%s project' % name, 'enabled': True, 'is_domain': False,
                   'parent_id': 'default', 'tags': [], 'options': {}}
            for name in ('admin', 'demo')}
USERS = {name: {'id': _fixed_id('user-' + name), 'name': name, 'domain_id': 'default',
                'enabled': True, 'password_expires_at': None, 'options': {},
                'default_project_id': PROJECTS[name]['id'], '_password': 'password',
                '_roles': ['admin', 'member', 'reader'] if name == 'admin'
                else ['member', 'reader']}
         for name in ('admin', 'demo')}
ROLE_IDS = {name: _fixed_id('role-' + name) for name in ('admin', 'member', 'reader')}

# (catalog type, service name, path below the server's URL; PROJECT is the project id)
CATALOG = (('identity', 'keystone', 'identity'),
           ('compute', 'nova', 'compute/v2.1'),
           ('image', 'glance', 'image'),
           ('network', 'neutron', 'network'),
           ('block-storage', 'cinder', 'volume/v3/PROJECT'),
           ('volumev3', 'cinderv3', 'volume/v3/PROJECT'))

SERVICE = framework.Service('identity', '/identity', framework.keystone_error)


class Auth:
    """What a valid token says: its user, project, methods and times."""

    def __init__(self, token_id, user_id, project_id, methods, issued, expires):
        self.token_id = token_id
        self.user_id = user_id
        self.project_id = project_id
        self.methods = methods
        self.issued = issued
        self.expires = expires

    @property
    def user(self):
        return next(u for u in USERS.values() if u['id'] == self.user_id)

    @property
    def project(self):
        return next(p for p in PROJECTS.values() if p['id'] == self.project_id)


class Tokens:
    """Issues and checks signed tokens with a key from the store."""

    def __init__(self, key):
        self._key = key

    def issue(self, user, project, methods, now=None):
        issued = now or time.time()
        payload = {'u': user['id'], 'p': project['id'], 'm': methods, 'i': issued,
                   'e': issued + TOKEN_LIFETIME, 'n': uuid.uuid4().hex[:8]}
        raw = base64.urlsafe_b64encode(json.dumps(payload, separators=(',', ':')).encode())
        text = raw.decode().rstrip('=')
        return '%s.%s' % (text, self._sign(text))

    def check(self, token_id):
        """The Auth of a token; 401 when it is missing, forged or expired."""
        if not token_id:
            raise ApiError(401, 'Unauthorized', 'The request you have made requires '
                           'authentication.')
        text, _, signature = token_id.rpartition('.')
        if not text or not hmac.compare_digest(signature, self._sign(text)):
            raise ApiError(401, 'Unauthorized', 'The request you have made requires '
                           'authentication (invalid token).')
        payload = json.loads(base64.urlsafe_b64decode(text + '=' * (-len(text) % 4)))
        if payload['e'] < time.time():
            raise ApiError(401, 'Unauthorized', 'The token has expired.')
        return Auth(token_id, payload['u'], payload['p'], payload['m'], payload['i'],
                    payload['e'])

    def _sign(self, text):
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:32]


def _iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S.000000Z')


def catalog(req, project_id):
    """This server's endpoints, three interfaces each, in region RegionOne."""
    out = []
    for service_type, name, path in CATALOG:
        url = framework.link(req, path.replace('PROJECT', project_id))
        out.append({'type': service_type, 'name': name, 'id': _fixed_id('service-' + name),
                    'endpoints': [{'id': _fixed_id('endpoint-%s-%s' % (name, interface)),
                                   'interface': interface, 'region': framework.REGION,
                                   'region_id': framework.REGION, 'url': url}
                                  for interface in ('public', 'internal', 'admin')]})
    return out


def token_body(req, auth):
    user, project = auth.user, auth.project
    return {'token': {
        'methods': auth.methods, 'audit_ids': [auth.token_id[-22:]],
        'issued_at': _iso(auth.issued), 'expires_at': _iso(auth.expires),
        'user': {'id': user['id'], 'name': user['name'], 'domain': DOMAIN,
                 'password_expires_at': None},
        'project': {'id': project['id'], 'name': project['name'], 'domain': DOMAIN},
        'is_domain': False,
        'roles': [{'id': ROLE_IDS[r], 'name': r} for r in user['_roles']],
        'catalog': catalog(req, project['id'])}}


def _domain_matches(ref):
    ref = ref or {}
    if not ref:
        return True
    return ref.get('id') == DOMAIN['id'] or ref.get('name') == DOMAIN['name']


def _password_user(identity):
    user_ref = (identity.get('password') or {}).get('user') or {}
    user = None
    if user_ref.get('id'):
        user = next((u for u in USERS.values() if u['id'] == user_ref['id']), None)
    elif user_ref.get('name') and _domain_matches(user_ref.get('domain')):
        user = USERS.get(user_ref['name'])
    if user is None or user_ref.get('password') != user['_password']:
        raise ApiError(401, 'Unauthorized', 'The request you have made requires '
                       'authentication.')
    return user


def _scoped_project(scope, user):
    if not scope:
        return next(p for p in PROJECTS.values() if p['id'] == user['default_project_id'])
    ref = scope.get('project')
    if not isinstance(ref, dict):
        raise ApiError(401, 'Unauthorized', 'Only project scope is supported by simcloud.')
    project = None
    if ref.get('id'):
        project = next((p for p in PROJECTS.values() if p['id'] == ref['id']), None)
    elif ref.get('name') and _domain_matches(ref.get('domain')):
        project = PROJECTS.get(ref['name'])
    if project is None or project['id'] != user['default_project_id']:
        raise ApiError(401, 'Unauthorized', 'User %s has no access to project %s'
                       % (user['id'], ref.get('id') or ref.get('name')))
    return project


@SERVICE.route('POST', '/v3/auth/tokens', auth=False)
def issue_token(req):
    auth_ref = req.json_body('auth')
    identity = auth_ref.get('identity') or {}
    methods = identity.get('methods') or []
    if 'password' in methods:
        user = _password_user(identity)
    elif 'token' in methods:
        previous = req.cloud.tokens.check((identity.get('token') or {}).get('id'))
        user = previous.user
    else:
        raise ApiError(401, 'Unauthorized', 'Unsupported auth methods %s' % methods)
    project = _scoped_project(auth_ref.get('scope'), user)
    token_id = req.cloud.tokens.issue(user, project, methods)
    auth = req.cloud.tokens.check(token_id)
    return 201, token_body(req, auth), {'X-Subject-Token': token_id}


@SERVICE.route(('GET', 'HEAD'), '/v3/auth/tokens')
def validate_token(req):
    auth = req.cloud.tokens.check(req.headers.get('X-Subject-Token'))
    return 200, token_body(req, auth), {'X-Subject-Token': auth.token_id}


def _project_view(req, project):
    out = {k: v for k, v in project.items()}
    out['links'] = {'self': framework.link(req, 'identity/v3/projects', project['id'])}
    return out


@SERVICE.route('GET', '/v3/auth/projects')
def auth_projects(req):
    return 200, {'projects': [_project_view(req, req.auth.project)],
                 'links': {'self': framework.link(req, 'identity/v3/auth/projects'),
                           'next': None, 'previous': None}}


@SERVICE.route('GET', '/v3/projects')
def list_projects(req):
    visible = PROJECTS.values() if 'admin' in req.auth.user['_roles'] else [req.auth.project]
    name = req.query.get('name')
    return 200, {'projects': [_project_view(req, p) for p in visible
                              if name is None or p['name'] == name],
                 'links': {'self': framework.link(req, 'identity/v3/projects'),
                           'next': None, 'previous': None}}


@SERVICE.route('GET', '/v3/projects/{project_id}')
def show_project(req):
    for project in PROJECTS.values():
        if project['id'] == req.params['project_id'] and (
                project['id'] == req.project or 'admin' in req.auth.user['_roles']):
            return 200, {'project': _project_view(req, project)}
    raise ApiError(404, 'NotFound', 'Could not find project: %s.' % req.params['project_id'])


@SERVICE.route('GET', '/v3/users/{user_id}')
def show_user(req):
    for user in USERS.values():
        if user['id'] == req.params['user_id'] and (
                user['id'] == req.auth.user_id or 'admin' in req.auth.user['_roles']):
            out = {k: v for k, v in user.items() if not k.startswith('_')}
            out['domain'] = DOMAIN
            out['links'] = {'self': framework.link(req, 'identity/v3/users', user['id'])}
            return 200, {'user': out}
    raise ApiError(404, 'NotFound', 'Could not find user: %s.' % req.params['user_id'])


def _v3_entry(req):
    return {'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
            'links': [{'rel': 'self', 'href': framework.link(req, 'identity/v3') + '/'}],
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.identity-v3+json'}]}


@SERVICE.route('GET', '/', auth=False)
def versions(req):
    return 300, {'versions': {'values': [_v3_entry(req)]}}


@SERVICE.route('GET', '/v3', auth=False)
def version(req):
    return 200, {'version': _v3_entry(req)}
