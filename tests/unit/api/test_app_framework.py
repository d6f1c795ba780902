"""The pipeline's own answers: faults, router 404/405/OPTIONS, versions and microversions,
the body size limit, malformed bodies, the access log and the request id."""

import io
import logging

import pytest
import webob

from heat_taskflow.api import app as app_mod
from heat_taskflow.api import faults, policy, versions
from heat_taskflow.engine import exceptions as engine_exc
from heat_taskflow.persistence import exceptions as db_exc
from heat_taskflow.template.errors import TemplateError

BASE = 'http://api.example:8004/v1/demo'


def assert_fault(resp, code, message=None):
    assert resp.status_int == code, resp.text
    assert resp.content_type == 'application/json'
    body = resp.json
    assert body['code'] == code
    assert set(body) == {'code', 'title', 'explanation', 'error'}
    assert set(body['error']) == {'type', 'message', 'traceback'}
    assert body['error']['traceback'] is None
    if message is not None:
        assert body['error']['message'] == message
    return body


# -- faults ------------------------------------------------------------------------------

@pytest.mark.parametrize('exc, code', [
    (engine_exc.StackNotFound('s1'), 404),
    (engine_exc.ResourceNotFound('s1', 'r'), 404),
    (engine_exc.StackExists('s1'), 409),
    (engine_exc.ActionInProgress('s1', 'CREATE'), 409),
    (engine_exc.InvalidInput('bad'), 400),
    (db_exc.StackExists('s1'), 409),
    (db_exc.StackNotFound('x'), 404),
    (TemplateError('nope', ('resources', 'a'), 3, 't.yaml'), 400),
    (policy.Forbidden('You are not authorized to use stacks:create.'), 403),
    (faults.RequestTooLarge('big'), 413),
    (faults.NotImplementedYet('later'), 501),
    (RuntimeError('boom'), 500),
])
def test_status_of_exceptions(exc, code):
    assert faults.status_of(exc) == code


def test_template_error_message_names_file_line_and_path():
    resp = faults.response_for(TemplateError('no such thing', ('resources', 'a'), 3, 't.yaml'))
    body = assert_fault(resp, 400, 't.yaml:3: resources.a: no such thing')
    assert body['error']['type'] == 'StackValidationFailed'


def test_unexpected_error_hides_its_message_unless_debug():
    try:
        raise RuntimeError('secret detail')
    except RuntimeError as exc:
        quiet = faults.response_for(exc, debug=False)
        loud = faults.response_for(exc, debug=True)
    assert 'secret detail' not in quiet.text
    assert quiet.json['error']['traceback'] is None
    assert loud.json['error']['message'] == 'secret detail'
    assert 'Traceback (most recent call last)' in loud.json['error']['traceback']


def test_policy_denial_is_403_naming_the_rule(call):
    resp = call('GET', BASE + '/services', headers={'X-Roles': 'admin'})
    body = assert_fault(resp, 403, 'You are not authorized to use service:index.')
    assert body['error']['type'] == 'Forbidden'
    assert_fault(call('GET', BASE + '/stacks?global_tenant=true'), 403,
                 'You are not authorized to use stacks:global_index.')


# -- router ------------------------------------------------------------------------------

def test_unknown_route_is_heat_json_404(call):
    body = assert_fault(call('GET', BASE + '/nothing/here'), 404)
    assert body['error']['type'] == 'HTTPNotFound'
    assert_fault(call('GET', BASE + '/stacks/a/b/c/d/e/f'), 404)


def test_wrong_method_is_405_with_allow(call):
    resp = call('DELETE', BASE + '/stacks')
    body = assert_fault(resp, 405)
    assert resp.headers['Allow'] == 'GET, POST'
    assert body['error']['type'] == 'HTTPMethodNotAllowed'


def test_options_is_204_with_allow(call):
    resp = call('OPTIONS', BASE + '/stacks/s1/some-id')
    assert resp.status_int == 204
    assert set(resp.headers['Allow'].split(', ')) == {'GET', 'PUT', 'PATCH', 'DELETE'}
    assert resp.body == b''


def test_router_table_has_every_heat_route(app, conf, service):
    from heat_taskflow.api import router
    table = router.Router(conf, service).routes_table()
    pairs = {(m, path) for methods, path, _, _ in table for m in methods}
    # Heat's 53 routes, 61 method x path pairs (two 5-method lookups); the ARN lookup is one
    # of them. Spot-check a few from each section.
    for pair in [('POST', '/v1/{tenant_id}/validate'),
                 ('GET', '/v1/{tenant_id}/resource_types/{type_name}/template'),
                 ('PATCH', '/v1/{tenant_id}/stacks/{stack_name}/{stack_id}'),
                 ('DELETE', '/v1/{tenant_id}/stacks/{stack_name}/{stack_id}/abandon'),
                 ('GET', '/v1/{tenant_id}/software_deployments/metadata/{server_id}'),
                 ('GET', '/v1/{tenant_id}/services'),
                 ('GET', '/v1/{tenant_id}/build_info')]:
        assert pair in pairs
    assert len({(m, p) for m, p in pairs}) >= 61


# -- versions ----------------------------------------------------------------------------

@pytest.mark.parametrize('path', ['/', '/versions', '/v2'])
def test_version_list_is_300(call, path):
    resp = call('GET', 'http://api.example:8004' + path)
    assert resp.status_int == 300
    assert resp.content_type == 'application/json'
    [entry] = resp.json['versions']
    assert entry['id'] == 'v1.0' and entry['status'] == 'CURRENT'
    assert entry['links'] == [{'rel': 'self', 'href': 'http://api.example:8004/v1/'}]
    assert entry['min_version'] == '1.0' and entry['version'] == str(versions.MAX_VERSION)


@pytest.mark.parametrize('path', ['/v1', '/v1/', '/v1/demo'])
def test_one_version_document_for_discovery(call, path):
    resp = call('GET', 'http://api.example:8004' + path)
    assert resp.status_int == 200
    assert resp.json['version']['id'] == 'v1.0'
    assert resp.json['version']['links'][0]['href'] == 'http://api.example:8004/v1/'


@pytest.mark.parametrize('header, answered', [
    (None, '1.0'),
    ('orchestration 1.1', '1.1'),
    ('orchestration latest', str(versions.MAX_VERSION)),
    ('compute 2.90', '1.0'),
    ('compute 2.1, orchestration 1.0', '1.0'),
])
def test_microversion_echoed_with_vary(call, header, answered):
    headers = {'OpenStack-API-Version': header} if header else {}
    resp = call('GET', BASE + '/build_info', headers=headers)
    assert resp.status_int == 200
    assert resp.headers['OpenStack-API-Version'] == 'orchestration ' + answered
    assert 'OpenStack-API-Version' in resp.headers['Vary']


def test_malformed_microversion_is_400_and_unknown_406(call):
    assert_fault(call('GET', BASE + '/stacks',
                      headers={'OpenStack-API-Version': 'orchestration one'}), 400)
    body = assert_fault(call('GET', BASE + '/stacks',
                             headers={'OpenStack-API-Version': 'orchestration 1.99'}), 406)
    assert '1.99' in body['error']['message']


def test_every_microversion_says_what_it_adds():
    listed = [v for v, _ in versions.MICROVERSIONS]
    assert listed == sorted(listed) and listed[0] == versions.Version(1, 0)
    assert all(text for _, text in versions.MICROVERSIONS)


# -- bodies ------------------------------------------------------------------------------

def test_body_over_the_limit_is_413_and_stores_nothing(conf, service):
    conf.set_override('max_request_body_size', 200, group='api')
    app = app_mod.build_app(conf, service)
    body = b'{"stack_name": "big", "template": "%s"}' % (b'x' * 300)
    req = webob.Request.blank(BASE + '/stacks', method='POST', body=body,
                              content_type='application/json')
    resp = req.get_response(app)
    payload = assert_fault(resp, 413)
    assert payload['error']['type'] == 'RequestLimitExceeded'
    assert '200 bytes' in payload['error']['message']
    # A chunked body (no Content-Length) is cut off at the limit too.
    req = webob.Request.blank(BASE + '/stacks', method='POST',
                              content_type='application/json')
    req.environ['wsgi.input'] = io.BytesIO(body)
    req.environ.pop('CONTENT_LENGTH', None)
    req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
    req.environ['wsgi.input_terminated'] = True        # what gunicorn sets for chunked
    assert_fault(req.get_response(app), 413)
    assert service.scoped('demo').list_stacks() == []


@pytest.mark.parametrize('raw, problem', [
    ('{"stack_name": ', 'Malformed JSON body: Expecting value'),
    ('[1, 2]', 'Malformed JSON body: expected a JSON object, got list'),
])
def test_malformed_bodies_are_400(call, raw, problem):
    resp = call('POST', BASE + '/stacks', raw, headers={'Content-Type': 'application/json'})
    body = assert_fault(resp, 400)
    assert body['error']['message'].startswith(problem)


def test_create_without_name_or_template(call):
    assert_fault(call('POST', BASE + '/stacks', {'template': {}}), 400,
                 'No stack name specified')
    assert_fault(call('POST', BASE + '/stacks', {'stack_name': 's'}), 400,
                 'No template specified')
    resp = call('POST', BASE + '/stacks', {'stack_name': 's', 'template_url': 'http://x/t'})
    assert_fault(resp, 400)
    assert 'template_url' in resp.json['error']['message']


# -- access log and request id -----------------------------------------------------------

def test_one_access_log_line_per_request(call, caplog):
    with caplog.at_level(logging.INFO, logger='heat_taskflow.api.access'):
        resp = call('GET', BASE + '/stacks?limit=2')
    request_id = resp.headers['x-openstack-request-id']
    assert request_id.startswith('req-')
    lines = [r.getMessage() for r in caplog.records if r.name == 'heat_taskflow.api.access']
    assert len(lines) == 1
    method, path, status, duration, rid = lines[0].split(' ')
    assert (method, path, status, rid) == ('GET', '/v1/demo/stacks?limit=2', '200',
                                           request_id)
    assert duration.endswith('ms') and float(duration[:-2]) >= 0


def test_every_rule_a_controller_names_is_registered():
    """A rule missing from api/policies would be a 500 (PolicyNotRegistered) at run time."""
    import pathlib
    import re

    from heat_taskflow.api import controllers, policies
    registered = {rule.name for rule in policies.list_rules()}
    scopes = 'stacks|actions|resource|events|software_configs|software_deployments|service|' \
             'build_info'
    used = set()
    for path in pathlib.Path(controllers.__file__).parent.glob('*.py'):
        used |= set(re.findall(r"'((?:%s):[a-z_]+)'" % scopes, path.read_text()))
    assert 'stacks:create' in used and 'actions:check' in used
    assert used - registered == set()
