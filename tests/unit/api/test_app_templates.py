"""Template and resource type routes, build info, and the routes answering 501."""

import pytest

from tests.unit.api.test_app_stacks import BASE, TEMPLATE, create


def test_template_versions_with_aliases(call):
    resp = call('GET', BASE + '/template_versions')
    assert resp.status_int == 200
    versions = resp.json['template_versions']
    assert len(versions) >= 2
    by_name = {v['version']: v for v in versions}
    assert by_name['heat_template_version.2016-10-14'] == {
        'version': 'heat_template_version.2016-10-14', 'type': 'hot',
        'aliases': ['heat_template_version.newton']}
    assert by_name['heat_template_version.2013-05-23']['aliases'] == []


def test_template_functions_and_condition_functions(call):
    url = BASE + '/template_versions/heat_template_version.2016-10-14/functions'
    plain = {f['functions']: f['description'] for f in call('GET', url).json[
        'template_functions']}
    assert 'get_param' in plain and 'equals' not in plain
    assert all(isinstance(d, str) for d in plain.values())
    with_cond = call('GET', url + '?with_condition_func=true').json['template_functions']
    assert 'equals' in {f['functions'] for f in with_cond}
    by_alias = call('GET', BASE + '/template_versions/heat_template_version.newton/functions')
    assert by_alias.status_int == 200
    missing = call('GET', BASE + '/template_versions/heat_template_version.1999-01-01/functions')
    assert missing.status_int == 404
    assert call('GET', url + '?with_condition_func=maybe').status_int == 400


def test_resource_type_list_filters(call):
    names = call('GET', BASE + '/resource_types').json['resource_types']
    assert 'OS::Heat::Value' in names and names == sorted(names)
    only = call('GET', BASE + '/resource_types?name=Random').json['resource_types']
    assert only == ['OS::Heat::RandomString']
    described = call('GET', BASE + '/resource_types?name=Random&with_description=true')
    [entry] = described.json['resource_types']
    assert entry['resource_type'] == 'OS::Heat::RandomString' and entry['description']
    assert call('GET', BASE + '/resource_types?support_status=SUPPORTED').json[
        'resource_types'] == names
    assert call('GET', BASE + '/resource_types?support_status=DEPRECATED').json[
        'resource_types'] == []
    assert call('GET', BASE + '/resource_types?support_status=bogus').status_int == 400


def test_resource_type_schema(call):
    resp = call('GET', BASE + '/resource_types/OS::Heat::RandomString')
    assert resp.status_int == 200
    schema = resp.json
    assert schema['resource_type'] == 'OS::Heat::RandomString'
    assert schema['properties']['length']['type'] == 'integer'
    assert 'value' in schema['attributes'] and 'show' in schema['attributes']
    assert schema['support_status']['status'] == 'SUPPORTED'
    assert 'description' not in schema
    assert 'description' in call('GET', BASE + '/resource_types/OS::Heat::RandomString'
                                             '?with_description=true').json
    assert call('GET', BASE + '/resource_types/OS::No::Such').status_int == 404


@pytest.mark.parametrize('kind, version_key', [('hot', 'heat_template_version'),
                                               ('cfn', 'HeatTemplateFormatVersion')])
def test_resource_type_template(call, kind, version_key):
    resp = call('GET', BASE + '/resource_types/OS::Heat::Value/template?template_type=' + kind)
    assert resp.status_int == 200
    assert version_key in resp.json


def test_generated_hot_template_creates_a_stack(call):
    tpl = call('GET', BASE + '/resource_types/OS::Heat::None/template?template_type=hot').json
    resp = create(call, name='generated', template=tpl)
    assert resp.status_int == 201, resp.text
    bad = call('GET', BASE + '/resource_types/OS::Heat::None/template?template_type=xml')
    assert bad.status_int == 400
    assert bad.json['error']['message'].startswith('Template type is not supported')


def test_validate_good_and_bad(call):
    ok = call('POST', BASE + '/validate', {'template': TEMPLATE})
    assert ok.status_int == 200, ok.text
    params = ok.json['Parameters']
    assert params['secret']['NoEcho'] == 'true' and params['secret']['Default'] == '******'
    assert ok.json['Description'] == 'two values'
    bad = dict(TEMPLATE, resources={'first': {'type': 'OS::Heat::Value',
                                              'properties': {'value': {'get_param': 'nah'}}}})
    resp = call('POST', BASE + '/validate', {'template': bad})
    assert resp.status_int == 400
    assert resp.json['error']['type'] == 'StackValidationFailed'
    assert 'nah' in resp.json['error']['message']
    assert 'resources.first' in resp.json['error']['message']


def test_build_info(call):
    resp = call('GET', BASE + '/build_info')
    assert resp.status_int == 200
    assert resp.json['api']['revision'] == resp.json['engine']['revision'] != ''


def test_unimplemented_routes_answer_501_in_heat_format(call):
    stack_id = create(call).json['stack']['id']
    stack = '%s/stacks/s1/%s' % (BASE, stack_id)
    for method, url in [('GET', stack + '/export'), ('DELETE', stack + '/abandon'),
                        ('POST', stack + '/snapshots'), ('GET', stack + '/snapshots/x'),
                        ('PUT', stack + '/preview'), ('GET', BASE + '/software_configs'),
                        ('POST', BASE + '/stacks/preview'),
                        ('GET', BASE + '/software_deployments/metadata/srv')]:
        resp = call(method, url, {'name': 'x'} if method in ('POST', 'PUT') else None)
        assert resp.status_int == 501, (method, url, resp.text)
        assert resp.content_type == 'application/json'
        assert resp.json['error']['message'].endswith('is not implemented yet.')
        assert resp.json['error']['traceback'] is None
    # Under an unknown stack the 404 comes first, as in Heat.
    assert call('GET', '%s/stacks/nope/%s/export' % (BASE, stack_id)).status_int == 404


def test_detail_lists_full_stacks(call):
    create(call)
    [stack] = call('GET', BASE + '/stacks/detail').json['stacks']
    assert stack['stack_name'] == 's1' and 'parameters' in stack


def test_test_only_types_are_hidden_unless_enabled(conf, call):
    conf.set_override('enable_test_resource_types', False)
    names = call('GET', BASE + '/resource_types').json['resource_types']
    assert 'OS::Heat::TestLedger' not in names and 'OS::Heat::TestResource' in names
    assert call('GET', BASE + '/resource_types/OS::Heat::TestLedger').status_int == 404
    ledger = {'heat_template_version': '2018-08-31', 'resources': {
        'l': {'type': 'OS::Heat::TestLedger', 'properties': {'ledger': '/tmp/x'}}}}
    resp = create(call, name='ledger', template=ledger)
    assert resp.status_int == 400, resp.text
    assert 'unknown resource type "OS::Heat::TestLedger"' in resp.json['error']['message']
    conf.set_override('enable_test_resource_types', True)
    names = call('GET', BASE + '/resource_types').json['resource_types']
    assert 'OS::Heat::TestLedger' in names
