"""What an admin sees (Heat's: any project's URL, stacks by id across projects, `project` in
views) and what a member does not; behind a stand-in auth that makes the caller admin."""

import json

import pytest
import webob

from heat_taskflow.api import app as app_mod
from heat_taskflow.api import auth, policy
from heat_taskflow.api import context as context_mod
from tests.unit.api.test_app_stacks import TEMPLATE

HOST = 'http://api.example:8004'


def admin_pipeline(conf, app):
    """The real pipeline; with X-Test-Admin, the caller then replaced by an admin of
    project 'admin' (role admin in the admin project)."""

    enforcer = policy.make_enforcer(conf)

    def as_admin(environ, start_response):
        environ[auth.CONTEXT_KEY] = context_mod.RequestContext(
            project_id='admin', user_id='root', roles=['admin', 'member', 'reader'],
            is_admin=True, enforcer=enforcer)
        return app(environ, start_response)

    members, admins = auth.pipeline(conf, app), auth.pipeline(conf, as_admin)

    def middleware(environ, start_response):
        chosen = admins if environ.get('HTTP_X_TEST_ADMIN') else members
        return chosen(environ, start_response)

    return middleware


@pytest.fixture
def call(conf, service):
    app = app_mod.build_app(conf, service, auth_pipeline=admin_pipeline)

    def do(method, path, body=None, admin=False):
        req = webob.Request.blank(HOST + path, method=method,
                                  headers={'X-Test-Admin': '1'} if admin else {})
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(app)

    return do


def test_admin_finds_another_projects_stack_by_id_and_sees_project(call):
    created = call('POST', '/v1/demo/stacks', {'stack_name': 's1', 'template': TEMPLATE})
    stack_id = created.json['stack']['id']
    # A member of another project: 404 by id (not 403), and 403 on demo's URL.
    assert call('GET', '/v1/other/stacks/%s' % stack_id).status_int == 404
    # The admin, on any project's URL, is redirected to the stack's own project.
    found = call('GET', '/v1/whatever/stacks/%s' % stack_id, admin=True)
    assert found.status_int == 302
    assert found.headers['Location'] == '%s/v1/demo/stacks/s1/%s' % (HOST, stack_id)
    shown = call('GET', '/v1/demo/stacks/s1/%s' % stack_id, admin=True)
    assert shown.status_int == 200, shown.text
    assert shown.json['stack']['project'] == 'demo'
    member_view = call('GET', '/v1/demo/stacks/s1/%s' % stack_id).json['stack']
    assert 'project' not in member_view
