"""api.context.RequestContext: oslo.context's, with is_admin from the policy."""

from heat_taskflow.api import context, policy
from tests.unit.api import policy_fixtures
from tests.unit.api.policy_fixtures import make_conf

api_conf = policy_fixtures.api_conf


def environ(**headers):
    return {'HTTP_' + name.upper().replace('-', '_'): value for name, value in headers.items()}


def test_from_environ_reads_the_auth_headers(api_conf):
    env = environ(x_project_id='p1', x_user_id='u1', x_roles='member, reader',
                  x_is_admin_project='False', x_auth_token='tok')
    env['openstack.request_id'] = 'req-1234'
    ctx = context.RequestContext.from_environ(env)
    assert ctx.project_id == 'p1'
    assert ctx.tenant_id == 'p1'
    assert ctx.user_id == 'u1'
    assert ctx.roles == ['member', 'reader']
    assert ctx.request_id == 'req-1234'
    assert ctx.auth_token == 'tok'
    assert ctx.is_admin_project is False
    assert ctx.is_admin is False


def test_from_environ_keyword_arguments_win(api_conf):
    ctx = context.RequestContext.from_environ(environ(x_project_id='p1'), project_id='p2')
    assert ctx.project_id == 'p2'


def test_admin_in_the_admin_project_is_admin(api_conf):
    ctx = context.RequestContext.from_environ(environ(
        x_project_id='adm', x_roles='admin,member,reader', x_is_admin_project='True'))
    assert ctx.is_admin is True


def test_admin_of_another_project_is_not_admin(api_conf):
    ctx = context.RequestContext.from_environ(environ(
        x_project_id='p1', x_roles='admin,member,reader', x_is_admin_project='False'))
    assert ctx.is_admin is False


def test_member_of_the_admin_project_is_not_admin(api_conf):
    ctx = context.RequestContext(project_id='adm', roles=['member', 'reader'],
                                 is_admin_project=True)
    assert ctx.is_admin is False


def test_explicit_is_admin_is_kept(api_conf):
    assert context.RequestContext(project_id='p', roles=[], is_admin=True).is_admin is True
    ctx = context.RequestContext(project_id='p', roles=['admin'], is_admin_project=True,
                                 is_admin=False)
    assert ctx.is_admin is False


def test_context_is_admin_follows_a_policy_file(tmp_path):
    (tmp_path / 'policy.yaml').write_text('"context_is_admin": "role:cloud_operator"\n')
    (tmp_path / 'api.conf').write_text(
        '[oslo_policy]\npolicy_file = %s\n' % (tmp_path / 'policy.yaml'))
    policy.init(make_conf(tmp_path / 'api.conf'))
    try:
        assert context.RequestContext(project_id='p', roles=['cloud_operator']).is_admin
        assert not context.RequestContext(project_id='p', roles=['admin'],
                                          is_admin_project=True).is_admin
    finally:
        policy.reset()
