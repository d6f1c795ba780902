"""api.auth: the noauth and keystone pipelines and the context they leave for the router."""

import json

import pytest
import webob

from heat_taskflow.api import auth, policy
from tests.unit.api import policy_fixtures
from tests.unit.api.policy_fixtures import make_conf

api_conf = policy_fixtures.api_conf

SPOOFED = {
    'X-Project-Id': 'evil', 'X-Project-Name': 'evil', 'X-Tenant-Id': 'evil',
    'X-Tenant': 'evil', 'X-Tenant-Name': 'evil', 'X-User-Id': 'mallory',
    'X-User': 'mallory', 'X-User-Name': 'mallory', 'X-Roles': 'admin,member,reader',
    'X-Role': 'admin', 'X-Is-Admin-Project': 'True', 'X-Identity-Status': 'Confirmed',
    'X-Service-Roles': 'service,admin', 'X-Service-Project-Id': 'svc',
    'X-Service-Identity-Status': 'Confirmed', 'X-Domain-Id': 'evil',
    'X-User-Domain-Id': 'evil', 'X-Project-Domain-Id': 'evil',
    'OpenStack-System-Scope': 'all', 'X-Auth-User': 'admin', 'X-Auth-Project': 'evil',
}


class Recorder:
    """The router's place: remembers the environ and the context it was given."""

    def __init__(self):
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = dict(environ)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']

    @property
    def context(self):
        return auth.request_context(self.environ)


@pytest.fixture
def noauth():
    conf = make_conf()
    recorder = Recorder()
    app = auth.pipeline(conf, recorder)
    yield app, recorder
    policy.reset()


def test_noauth_is_the_default(noauth):
    app, _ = noauth
    assert isinstance(app, auth.NoAuthMiddleware)


def test_noauth_caller_is_member_and_reader_of_the_urls_project(noauth):
    app, recorder = noauth
    response = webob.Request.blank('/v1/proj-a/stacks').get_response(app)
    assert response.status_int == 200
    ctx = recorder.context
    assert ctx.project_id == 'proj-a'
    assert sorted(ctx.roles) == ['member', 'reader']
    assert ctx.is_admin is False
    assert ctx.is_admin_project is False
    assert ctx.user_id == auth.NOAUTH_USER
    policy.authorize(ctx, 'stacks:create', tenant_id='proj-a')
    policy.authorize(ctx, 'stacks:index', tenant_id='proj-a')


def test_noauth_spoofed_identity_headers_are_ignored(noauth):
    app, recorder = noauth
    request = webob.Request.blank('/v1/proj-a/stacks', headers=SPOOFED)
    assert request.get_response(app).status_int == 200
    ctx = recorder.context
    assert ctx.project_id == 'proj-a'
    assert ctx.project_name == 'proj-a'
    assert ctx.user_id == auth.NOAUTH_USER
    assert sorted(ctx.roles) == ['member', 'reader']
    assert ctx.is_admin is False
    assert ctx.is_admin_project is False
    assert ctx.system_scope is None
    assert ctx.domain_id is None and ctx.user_domain_id is None
    assert ctx.service_roles == [] and ctx.service_project_id is None
    for header in set(SPOOFED) - {'X-Identity-Status'}:     # noauth confirms it itself
        key = 'HTTP_' + header.upper().replace('-', '_')
        assert recorder.environ.get(key) != SPOOFED[header], header
    # what the spoofed headers asked for is still refused
    with pytest.raises(policy.Forbidden):
        policy.authorize(ctx, 'stacks:index', tenant_id='evil')
    with pytest.raises(policy.Forbidden):
        policy.authorize(ctx, 'service:index', tenant_id='proj-a')


def test_noauth_url_project_other_than_the_context_is_impossible(noauth):
    app, recorder = noauth
    webob.Request.blank('/v1/proj-b/stacks/s1', headers={'X-Project-Id': 'proj-a'}) \
        .get_response(app)
    assert recorder.context.project_id == 'proj-b'
    with pytest.raises(policy.Forbidden) as err:
        policy.authorize(recorder.context, 'stacks:show', tenant_id='proj-a')
    assert err.value.code == 403


def test_noauth_path_without_project_has_no_project(noauth):
    app, recorder = noauth
    for path in ('/', '/v1', '/v1/', '/versions'):
        webob.Request.blank(path, headers={'X-Project-Id': 'evil'}).get_response(app)
        assert recorder.context.project_id is None, path
        assert recorder.context.is_admin is False
        with pytest.raises(policy.Forbidden):
            policy.authorize(recorder.context, 'stacks:index')


def test_noauth_project_under_a_script_name(noauth):
    app, recorder = noauth
    request = webob.Request.blank('/v1/proj-c/stacks')
    request.script_name, request.path_info = '/heat', '/v1/proj-c/stacks'
    request.get_response(app)
    assert recorder.context.project_id == 'proj-c'


def test_context_carries_the_request_id(noauth):
    app, recorder = noauth
    request = webob.Request.blank('/v1/p/stacks')
    request.environ['openstack.request_id'] = 'req-abc'
    request.get_response(app)
    assert recorder.context.request_id == 'req-abc'


def test_url_project():
    assert auth.url_project({'PATH_INFO': '/v1/p1/stacks/s/i'}) == 'p1'
    assert auth.url_project({'PATH_INFO': '/v1/p1'}) == 'p1'
    assert auth.url_project({'PATH_INFO': '/v1'}) is None
    assert auth.url_project({'PATH_INFO': '/stacks'}) is None
    assert auth.url_project({'SCRIPT_NAME': '/v1', 'PATH_INFO': '/p2/stacks'}) == 'p2'


def keystone_conf(tmp_path):
    (tmp_path / 'api.conf').write_text(
        '[api]\nauth_strategy = keystone\n'
        '[keystone_authtoken]\n'
        'www_authenticate_uri = http://127.0.0.1:9/v3\n'
        'auth_url = http://127.0.0.1:9/v3\n'
        'auth_type = password\nusername = heat\npassword = secret\n'
        'project_name = service\nuser_domain_id = default\nproject_domain_id = default\n')
    return make_conf(tmp_path / 'api.conf')


def test_keystone_without_a_token_is_401_before_the_app(tmp_path):
    recorder = Recorder()
    app = auth.pipeline(keystone_conf(tmp_path), recorder)
    try:
        from keystonemiddleware.auth_token import AuthProtocol
        assert isinstance(app, AuthProtocol)
        response = webob.Request.blank('/v1/p/stacks', headers=SPOOFED).get_response(app)
        assert response.status_int == 401
        assert response.headers['WWW-Authenticate'] == 'Keystone uri="http://127.0.0.1:9/v3"'
        assert recorder.environ is None
    finally:
        policy.reset()


def test_context_middleware_refuses_an_unconfirmed_identity(api_conf):
    recorder = Recorder()
    app = auth.ContextMiddleware(recorder, require_identity=True)
    response = webob.Request.blank(
        '/v1/p/stacks', headers={'X-Identity-Status': 'Invalid', 'X-Project-Id': 'p',
                                 'X-Roles': 'member,reader'}).get_response(app)
    assert response.status_int == 401
    assert response.content_type == 'application/json'
    assert json.loads(response.body)['error']['type'] == 'HTTPUnauthorized'
    assert recorder.environ is None
    response = webob.Request.blank(
        '/v1/p/stacks', headers={'X-Identity-Status': 'Confirmed', 'X-Project-Id': 'p',
                                 'X-Roles': 'member,reader'}).get_response(app)
    assert response.status_int == 200
    assert recorder.context.project_id == 'p'


def test_auth_strategy_is_checked(tmp_path):
    (tmp_path / 'api.conf').write_text('[api]\nauth_strategy = nonsense\n')
    conf = make_conf(tmp_path / 'api.conf')
    with pytest.raises(ValueError):
        auth.pipeline(conf, Recorder())
