"""Stacks through the whole WSGI pipeline on SQLite: create, lookup, show, update, delete."""

import json

import pytest

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'description': 'two values',
    'parameters': {
        'greeting': {'type': 'string', 'default': 'hello'},
        'secret': {'type': 'string', 'default': 'sesame', 'hidden': True},
    },
    'resources': {
        'first': {'type': 'OS::Heat::Value', 'properties': {'value': {'get_param': 'greeting'}}},
    },
    'outputs': {
        'said': {'description': 'what first holds', 'value': {'get_attr': ['first', 'value']}},
    },
}

BASE = 'http://api.example:8004/v1/demo'


def create(call, name='s1', template=TEMPLATE, **extra):
    body = dict(stack_name=name, template=template, **extra)
    return call('POST', BASE + '/stacks', body)


def test_create_answers_201_with_location_and_links(call):
    resp = create(call)
    assert resp.status_int == 201, resp.text
    assert resp.content_type == 'application/json'
    stack = resp.json['stack']
    href = '%s/stacks/s1/%s' % (BASE, stack['id'])
    assert resp.headers['Location'] == href
    assert stack['links'] == [{'href': href, 'rel': 'self'}]


def test_lookup_redirects_every_method_keeping_the_query(call):
    stack_id = create(call).json['stack']['id']
    for method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE'):
        resp = call(method, BASE + '/stacks/s1?resolve_outputs=False')
        assert resp.status_int == 302, (method, resp.text)
        assert resp.headers['Location'] == '%s/stacks/s1/%s?resolve_outputs=False' % (
            BASE, stack_id)
    by_id = call('GET', BASE + '/stacks/%s/events?sort_dir=asc&limit=1' % stack_id)
    assert by_id.status_int == 302
    assert by_id.headers['Location'] == '%s/stacks/s1/%s/events?sort_dir=asc&limit=1' % (
        BASE, stack_id)


def test_lookup_location_honours_forwarded_headers(call):
    stack_id = create(call).json['stack']['id']
    resp = call('GET', BASE + '/stacks/s1/template',
                headers={'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'heat.example.org'})
    assert resp.status_int == 302
    assert resp.headers['Location'] == (
        'https://heat.example.org/v1/demo/stacks/s1/%s/template' % stack_id)


def test_lookup_of_unknown_stack_is_heat_json_404(call):
    resp = call('GET', BASE + '/stacks/nope')
    assert resp.status_int == 404
    assert resp.content_type == 'application/json'
    assert 'nope' in resp.json['error']['message']
    assert resp.json['code'] == 404 and resp.json['title'] == 'Not Found'


def test_show_masks_hidden_parameters_and_has_outputs(call):
    stack_id = create(call).json['stack']['id']
    resp = call('GET', '%s/stacks/s1/%s' % (BASE, stack_id))
    assert resp.status_int == 200, resp.text
    stack = resp.json['stack']
    assert stack['stack_status'] == 'CREATE_COMPLETE'
    assert stack['parameters']['secret'] == '******'
    assert stack['parameters']['greeting'] == 'hello'
    assert stack['outputs'] == [{'output_key': 'said', 'output_value': 'hello',
                                 'description': 'what first holds'}]
    assert 'project' not in stack and 'path' not in stack
    no_outputs = call('GET', '%s/stacks/s1/%s?resolve_outputs=false' % (BASE, stack_id))
    assert 'outputs' not in no_outputs.json['stack']


def test_show_with_a_wrong_name_is_404(call):
    stack_id = create(call).json['stack']['id']
    create(call, name='s2')
    assert call('GET', '%s/stacks/s2/%s' % (BASE, stack_id)).status_int == 404


def test_microversion_1_1_adds_path(call):
    stack_id = create(call).json['stack']['id']
    resp = call('GET', '%s/stacks/s1/%s' % (BASE, stack_id),
                headers={'OpenStack-API-Version': 'orchestration 1.1'})
    assert resp.json['stack']['path'] == 'legacy'
    assert resp.headers['OpenStack-API-Version'] == 'orchestration 1.1'


def test_update_put_and_patch_then_delete(call):
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s' % (BASE, stack_id)
    put = call('PUT', url, {'template': TEMPLATE, 'parameters': {'greeting': 'hi'}})
    assert put.status_int == 202, put.text
    assert call('GET', url).json['stack']['outputs'][0]['output_value'] == 'hi'
    patch = call('PATCH', url, {'template': None, 'parameters': {'secret': 'x'}})
    assert patch.status_int == 202, patch.text
    shown = call('GET', url).json['stack']
    assert shown['stack_status'] == 'UPDATE_COMPLETE'
    assert shown['outputs'][0]['output_value'] == 'hi'     # greeting kept by the PATCH
    assert call('GET', url + '/template').json['description'] == 'two values'
    assert call('DELETE', url).status_int == 204
    assert call('GET', BASE + '/stacks/s1').status_int == 404


def test_put_without_template_is_400(call):
    stack_id = create(call).json['stack']['id']
    resp = call('PUT', '%s/stacks/s1/%s' % (BASE, stack_id), {'parameters': {}})
    assert resp.status_int == 400
    assert resp.json['error']['message'] == 'No template specified'


def test_duplicate_create_is_409(call):
    create(call)
    resp = create(call)
    assert resp.status_int == 409
    assert 's1' in resp.json['error']['message']


def test_refused_create_stores_nothing(call, service):
    bad = dict(TEMPLATE, resources={'first': {'type': 'OS::Heat::Value',
                                              'properties': {'nope': 1}}})
    resp = create(call, template=bad)
    assert resp.status_int == 400, resp.text
    assert 'nope' in resp.json['error']['message']
    assert service.list_stacks() == []
    malformed = call('POST', BASE + '/stacks', '{"stack_name": "s1", ',
                     headers={'Content-Type': 'application/json'})
    assert malformed.status_int == 400
    assert malformed.json['error']['message'].startswith('Malformed JSON body: ')
    assert service.list_stacks() == []


def names(resp):
    assert resp.status_int == 200, resp.text
    return [s['stack_name'] for s in resp.json['stacks']]


def test_list_sorts_filters_and_pages_with_a_next_link(call):
    for name in ('a', 'b', 'c'):
        create(call, name=name)
    resp = call('GET', BASE + '/stacks')
    assert names(resp) == ['c', 'b', 'a']                       # Heat: newest first
    assert all(s['stack_status'] == 'CREATE_COMPLETE' for s in resp.json['stacks'])
    assert set(resp.json['stacks'][0]) >= {'id', 'links', 'stack_name', 'stack_status',
                                           'stack_status_reason', 'creation_time'}
    assert 'parameters' not in resp.json['stacks'][0] and 'links' not in resp.json
    assert names(call('GET', BASE + '/stacks?sort_keys=stack_name&sort_dir=asc')) == [
        'a', 'b', 'c']
    assert names(call('GET', BASE + '/stacks?name=b')) == ['b']
    assert names(call('GET', BASE + '/stacks?name=a&name=c&sort_dir=asc')) == ['a', 'c']
    assert names(call('GET', BASE + '/stacks?status=COMPLETE&action=CREATE')) == [
        'c', 'b', 'a']
    assert names(call('GET', BASE + '/stacks?tags=x')) == []
    page = call('GET', BASE + '/stacks?limit=2&sort_dir=asc&with_count=true')
    assert names(page) == ['a', 'b'] and page.json['count'] == 3
    [link] = page.json['links']
    assert link['rel'] == 'next'
    assert link['href'].startswith(BASE + '/stacks?')
    assert 'marker=%s' % page.json['stacks'][1]['id'] in link['href']
    rest = call('GET', link['href'])
    assert names(rest) == ['c'] and 'links' not in rest.json
    # Another project sees none of them.
    assert names(call('GET', 'http://api.example:8004/v1/other/stacks')) == []


@pytest.mark.parametrize('query, message', [
    ('limit=x', "Only integer is acceptable by 'limit'."),
    ('limit=-1', "Value '-1' is invalid for 'limit' which only accepts non-negative "
                 "integer."),
    ('show_deleted=maybe', 'Unrecognized value "maybe" for "show_deleted", acceptable '
                           'values are: true, false.'),
    ('sort_dir=up', 'Unknown sort direction, must be one of: asc, desc'),
    ('with_count=2', 'Unrecognized value "2" for "with_count", acceptable values are: '
                     'true, false.'),
])
def test_list_refuses_bad_parameters(call, query, message):
    resp = call('GET', BASE + '/stacks?' + query)
    assert resp.status_int == 400
    assert resp.json['error']['message'] == message


def test_list_at_1_1_has_path(call):
    create(call)
    [stack] = call('GET', BASE + '/stacks', headers={
        'OpenStack-API-Version': 'orchestration 1.1'}).json['stacks']
    assert stack['path'] == 'legacy' and 'current_traversal' in stack


def test_environment_and_files(call):
    env = {'parameters': {'greeting': 'bonjour'}}
    stack_id = create(call, environment=env, files={'extra.txt': 'data'}).json['stack']['id']
    url = '%s/stacks/s1/%s' % (BASE, stack_id)
    got = call('GET', url + '/environment')
    assert got.status_int == 200, got.text
    assert got.json['parameters']['greeting'] == 'bonjour'
    files = call('GET', url + '/files')
    assert files.status_int == 200 and files.json == {'extra.txt': 'data'}
    assert call('GET', url).json['stack']['outputs'][0]['output_value'] == 'bonjour'


def test_actions_check_and_bad_actions(call):
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s/actions' % (BASE, stack_id)
    check = call('POST', url, {'check': None})
    assert check.status_int == 200, check.text
    assert json.loads(check.body) is None
    assert call('GET', BASE + '/stacks/s1').status_int == 302
    two = call('POST', url, {'check': None, 'suspend': None})
    assert two.status_int == 400 and two.json['error']['message'] == 'Multiple actions specified'
    resume = call('POST', url, {'resume_interrupted': None})
    assert resume.status_int == 400
    suspend = call('POST', url, {'suspend': None})
    assert suspend.status_int == 501
    assert suspend.json['error']['message'] == 'Stack suspend is not implemented yet.'


def test_resume_interrupted_from_1_1(call):
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s/actions' % (BASE, stack_id)
    old = call('POST', url, {'resume_interrupted': None})
    assert old.status_int == 400
    assert old.json['error']['message'] == 'Invalid action resume_interrupted specified'
    new = call('POST', url, {'resume_interrupted': None},
               headers={'OpenStack-API-Version': 'orchestration 1.1'})
    # A stack that is not interrupted: the engine's own refusal reaches the client.
    assert new.status_int == 400, new.text
    assert 'nothing to resume' in new.json['error']['message']


def test_lookup_by_arn(call):
    stack_id = create(call).json['stack']['id']
    arn = 'arn:openstack:heat::demo:stacks/s1/%s' % stack_id
    resp = call('GET', BASE + '/stacks/' + arn)
    assert resp.status_int == 302, resp.text
    assert resp.headers['Location'] == '%s/stacks/s1/%s' % (BASE, stack_id)
    wrong = call('GET', BASE + '/stacks/arn:openstack:heat::demo:stacks/s2/%s' % stack_id)
    assert wrong.status_int == 404


def test_refused_update_changes_nothing(call):
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s' % (BASE, stack_id)
    bad = dict(TEMPLATE, resources={'first': {'type': 'OS::No::Such'}})
    resp = call('PUT', url, {'template': bad})
    assert resp.status_int == 400, resp.text
    assert 'OS::No::Such' in resp.json['error']['message']
    assert call('GET', url).json['stack']['stack_status'] == 'CREATE_COMPLETE'
    assert call('GET', url + '/template').json['resources']['first']['type'] == \
        'OS::Heat::Value'


def test_hidden_parameters_are_masked_everywhere(call):
    stack_id = create(call, parameters={'secret': 'open-sesame'}).json['stack']['id']
    url = '%s/stacks/s1/%s' % (BASE, stack_id)
    for path in ('', '/environment'):
        resp = call('GET', url + path)
        assert resp.status_int == 200, resp.text
        assert 'open-sesame' not in resp.text, path
    listed = call('GET', BASE + '/stacks/detail')
    assert 'open-sesame' not in listed.text


def test_converge_is_for_updates_only(call):
    resp = create(call, converge=True)
    assert resp.status_int == 400
    assert resp.json['error']['message'].startswith('converge flag only supported')
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s' % (BASE, stack_id)
    assert call('PATCH', url, {'converge': 'maybe'}).status_int == 400
    patch = call('PATCH', url, {'converge': True})
    assert patch.status_int == 202, patch.text
    assert call('GET', url).json['stack']['stack_status'] == 'UPDATE_COMPLETE'


def test_a_refused_create_does_not_echo_a_hidden_value(call):
    # issue #14: the 400's message is built from the resolved property (a type error)
    template = dict(TEMPLATE, resources={'bad': {'type': 'OS::Heat::Value', 'properties': {
        'type': 'number', 'value': {'get_param': 'secret'}}}}, outputs={})
    resp = create(call, template=template, parameters={'secret': 'SeCrEt-xyz-123'})
    assert resp.status_int == 400, resp.text
    assert 'SeCrEt-xyz-123' not in resp.text
    assert '******' in resp.json['error']['message']


@pytest.mark.parametrize('name', [' ', 'a b', 'x\x1b[2J', 'y' * 300, '9to5',
                                  '0b1c4f4e-8a47-4a6c-9a8e-1c2d3e4f5a6b'])
def test_create_with_a_bad_stack_name_is_400_and_stores_nothing(call, name):
    resp = create(call, name=name)
    assert resp.status_int == 400, resp.text
    assert 'stack name' in resp.json['error']['message']
    assert '\x1b' not in resp.text
    assert call('GET', BASE + '/stacks').json['stacks'] == []
