"""python-heatclient as a library against heat-taskflow-api (noauth, SQLite, legacy path):

    heatclient.client.Client('1', endpoint='http://127.0.0.1:PORT/v1/PROJECT', token='any')

Create, get, list (filters, paging), resources, events (marker, limit, sort), outputs,
template, update (PATCH --existing and PUT), check, delete; the errors heatclient turns into
its exceptions (404 HTTPNotFound, 409 HTTPConflict, 400 HTTPBadRequest) with Heat's message;
another project's endpoint sees none of it.
"""

import copy

import pytest
from heatclient import exc

from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

api_server_module = api.api_server_module

BOUND = 120.0

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'description': 'Two values and a test resource that reads one.',
    'parameters': {
        'word': {'type': 'string', 'default': 'alpha'},
        'secret': {'type': 'string', 'default': 'hush', 'hidden': True},
    },
    'resources': {
        'first': {'type': 'OS::Heat::Value',
                  'properties': {'value': {'get_param': 'word'}}},
        'second': {'type': 'OS::Heat::TestResource',
                   'properties': {'value': {'get_attr': ['first', 'value']}}},
    },
    'outputs': {
        'word': {'description': 'the word', 'value': {'get_attr': ['second', 'output']}},
        'upper': {'value': {'str_replace': {'template': 'W!', 'params': {
            'W': {'get_param': 'word'}}}}},
    },
}


@pytest.fixture(scope='module')
def hc(api_server_module):
    return api.heat_client(api_server_module)


def settle(hc, name, want, server=None):
    return api.wait_for_status(lambda: hc.stacks.get(name), want, timeout=BOUND,
                               server=server)


def test_stack_lifecycle(hc, api_server_module):
    server = api_server_module
    body = hc.stacks.create(stack_name='hc1', template=TEMPLATE,
                            parameters={'word': 'beta'})
    stack_id = body['stack']['id']
    links = {link['rel']: link['href'] for link in body['stack']['links']}
    assert links['self'] == '%s/stacks/hc1/%s' % (server.endpoint, stack_id)
    assert settle(hc, 'hc1', 'CREATE_COMPLETE', server) == 'CREATE_COMPLETE'

    stack = hc.stacks.get('hc1')
    assert stack.id == stack_id and stack.stack_name == 'hc1'
    assert stack.description == TEMPLATE['description']
    assert stack.parameters['word'] == 'beta'
    assert stack.parameters['secret'] == '******'          # hidden: masked
    assert {o['output_key']: o['output_value'] for o in stack.outputs} == {
        'word': 'beta', 'upper': 'beta!'}
    assert hc.stacks.get(stack_id).stack_name == 'hc1'      # by id
    assert hc.stacks.get('hc1/%s' % stack_id).id == stack_id

    listed = [s for s in hc.stacks.list() if s.stack_name == 'hc1']
    assert [s.id for s in listed] == [stack_id]
    assert listed[0].stack_status == 'CREATE_COMPLETE'
    assert [s.id for s in hc.stacks.list(filters={'name': 'hc1'})] == [stack_id]
    assert [s.id for s in hc.stacks.list(filters={'status': 'COMPLETE', 'name': 'hc1'})] \
        == [stack_id]
    assert list(hc.stacks.list(filters={'name': 'hc1', 'status': 'FAILED'})) == []

    resources = {r.resource_name: r for r in hc.resources.list('hc1')}
    assert set(resources) == {'first', 'second'}
    assert resources['second'].resource_type == 'OS::Heat::TestResource'
    assert resources['second'].resource_status == 'CREATE_COMPLETE'
    second = hc.resources.get('hc1', 'second')
    assert second.attributes['output'] == 'beta'
    assert second.physical_resource_id == resources['second'].physical_resource_id
    assert hc.resources.metadata('hc1', 'second') == {}
    detailed = hc.resources.list('hc1', with_detail=True)
    assert {r.resource_name for r in detailed} == {'first', 'second'}
    typed = hc.resources.list('hc1', filters={'type': 'OS::Heat::Value'})
    assert [r.resource_name for r in typed] == ['first']

    events = hc.events.list('hc1', sort_dir='asc')
    names = [(e.resource_name, e.resource_status) for e in events]
    assert names[0] == ('hc1', 'CREATE_IN_PROGRESS') and names[-1] == ('hc1', 'CREATE_COMPLETE')
    for resource in ('first', 'second'):
        assert [s for n, s in names if n == resource] == ['CREATE_IN_PROGRESS',
                                                          'CREATE_COMPLETE']
    assert names.index(('first', 'CREATE_COMPLETE')) < names.index(
        ('second', 'CREATE_IN_PROGRESS'))
    ids = [e.id for e in events]
    assert len(set(ids)) == len(ids)
    # marker is exclusive, limit and sort_dir as --wait uses them
    assert [e.id for e in hc.events.list('hc1', sort_dir='asc', marker=ids[1])] == ids[2:]
    assert [e.id for e in hc.events.list('hc1', sort_dir='asc', limit=2)] == ids[:2]
    assert [e.id for e in hc.events.list('hc1', sort_dir='desc', limit=1)] == [ids[-1]]
    assert [e.id for e in hc.events.list('hc1', sort_dir='asc', marker=ids[2],
                                          limit=2)] == ids[3:5]
    per_resource = hc.events.list('hc1', resource_name='second', sort_dir='asc')
    assert [e.resource_status for e in per_resource] == ['CREATE_IN_PROGRESS',
                                                         'CREATE_COMPLETE']
    one = hc.events.get('hc1', 'second', per_resource[-1].id)
    assert one.resource_name == 'second' and one.resource_status == 'CREATE_COMPLETE'
    stack_event = events[-1]
    assert stack_event.physical_resource_id == stack_id
    event_links = {link['rel']: link['href'] for link in stack_event.links}
    assert event_links['stack'].endswith('/stacks/hc1/%s' % stack_id)

    described = {o['output_key']: o['description']
                 for o in hc.stacks.output_list('hc1')['outputs']}
    assert set(described) == {'word', 'upper'} and described['word'] == 'the word'
    output = hc.stacks.output_show('hc1', 'word')['output']
    assert output['output_key'] == 'word' and output['output_value'] == 'beta'
    assert 'output_error' not in output      # present only on error, or OSC fails
    assert hc.stacks.template('hc1') == TEMPLATE

    # PATCH (--existing): the template is kept, only the parameter changes.
    hc.stacks.update('hc1', existing=True, parameters={'word': 'gamma'})
    assert settle(hc, 'hc1', 'UPDATE_COMPLETE', server) == 'UPDATE_COMPLETE'
    stack = hc.stacks.get('hc1')
    assert {o['output_key']: o['output_value'] for o in stack.outputs}['word'] == 'gamma'
    assert hc.stacks.template('hc1') == TEMPLATE
    # PATCH with "template": null as the OpenStack client sends it.
    hc.stacks.update('hc1', existing=True, template=None, parameters={'word': 'delta'})
    settle(hc, 'hc1', 'UPDATE_COMPLETE', server)
    assert hc.stacks.output_show('hc1', 'word')['output']['output_value'] == 'delta'
    # PUT: a new template (one more resource), parameters not given go back to defaults.
    bigger = copy.deepcopy(TEMPLATE)
    bigger['resources']['third'] = {'type': 'OS::Heat::None'}
    hc.stacks.update('hc1', template=bigger)
    settle(hc, 'hc1', 'UPDATE_COMPLETE', server)
    assert {r.resource_name for r in hc.resources.list('hc1')} == {'first', 'second', 'third'}
    assert hc.stacks.output_show('hc1', 'word')['output']['output_value'] == 'alpha'
    assert hc.stacks.template('hc1') == bigger

    hc.actions.check('hc1')
    assert settle(hc, 'hc1', 'CHECK_COMPLETE', server) == 'CHECK_COMPLETE'

    hc.stacks.delete('hc1')
    api.wait_gone(hc, 'hc1', timeout=BOUND, server=server)
    with pytest.raises(exc.HTTPNotFound):
        hc.stacks.get(stack_id)
    assert 'hc1' not in [s.stack_name for s in hc.stacks.list()]


def test_errors(hc, api_server_module):
    with pytest.raises(exc.HTTPNotFound) as missing:
        hc.stacks.get('no-such')
    assert str(missing.value).startswith('ERROR: ')
    assert 'no-such' in str(missing.value)
    with pytest.raises(exc.HTTPNotFound):
        hc.resources.list('no-such')
    with pytest.raises(exc.HTTPNotFound):
        hc.stacks.delete('no-such')

    hc.stacks.create(stack_name='dup', template=TEMPLATE)
    with pytest.raises(exc.HTTPConflict) as conflict:
        hc.stacks.create(stack_name='dup', template=TEMPLATE)
    message = str(conflict.value)
    assert message.startswith('ERROR: ') and 'dup' in message and 'already exists' in message
    assert conflict.value.error['error']['type'] == 'StackExists'
    assert [s.stack_name for s in hc.stacks.list(filters={'name': 'dup'})] == ['dup']
    settle(hc, 'dup', 'CREATE_COMPLETE', api_server_module)
    with pytest.raises(exc.HTTPNotFound):
        hc.resources.get('dup', 'no-such-resource')
    with pytest.raises(exc.HTTPNotFound):
        hc.stacks.output_show('dup', 'no-such-output')

    bad = copy.deepcopy(TEMPLATE)
    bad['resources']['broken'] = {'type': 'OS::No::Such'}
    with pytest.raises(exc.HTTPBadRequest) as refused:
        hc.stacks.create(stack_name='bad', template=bad)
    assert 'OS::No::Such' in str(refused.value)
    with pytest.raises(exc.HTTPBadRequest) as refused:
        hc.stacks.validate(template=bad)
    assert 'OS::No::Such' in str(refused.value)
    with pytest.raises(exc.HTTPBadRequest) as refused:
        hc.stacks.create(stack_name='badparam', template=TEMPLATE,
                         parameters={'nope': 'x'})
    assert 'nope' in str(refused.value)
    names = [s.stack_name for s in hc.stacks.list()]
    assert 'bad' not in names and 'badparam' not in names      # nothing half-stored

    valid = hc.stacks.validate(template=TEMPLATE)
    assert valid['Description'] == TEMPLATE['description']
    assert set(valid['Parameters']) == {'word', 'secret'}
    assert valid['Parameters']['secret']['NoEcho'] == 'true'

    hc.stacks.delete('dup')
    api.wait_gone(hc, 'dup', timeout=BOUND, server=api_server_module)


def test_projects_do_not_see_each_other(hc, api_server_module):
    other = api.heat_client(api_server_module, project='someone-else')
    hc.stacks.create(stack_name='mine', template=TEMPLATE)
    stack_id = hc.stacks.get('mine').id
    with pytest.raises(exc.HTTPNotFound):
        other.stacks.get('mine')
    with pytest.raises(exc.HTTPNotFound):
        other.stacks.get(stack_id)
    with pytest.raises(exc.HTTPNotFound):
        other.events.list(stack_id)
    with pytest.raises(exc.HTTPNotFound):
        other.stacks.delete(stack_id)
    assert 'mine' not in [s.stack_name for s in other.stacks.list()]
    # The same name in another project is another stack.
    other.stacks.create(stack_name='mine', template=TEMPLATE)
    settle(other, 'mine', 'CREATE_COMPLETE', api_server_module)
    settle(hc, 'mine', 'CREATE_COMPLETE', api_server_module)
    assert other.stacks.get('mine').id != stack_id
    for client in (hc, other):
        client.stacks.delete('mine')
        api.wait_gone(client, 'mine', timeout=BOUND, server=api_server_module)


def test_resources_name_what_requires_them(hc, api_server_module):
    """required_by, as Heat fills it: the resources that depend on this one."""
    hc.stacks.create(stack_name='deps', template=TEMPLATE)
    settle(hc, 'deps', 'CREATE_COMPLETE', api_server_module)
    resources = {r.resource_name: r for r in hc.resources.list('deps')}
    assert resources['second'].required_by == []
    assert resources['first'].required_by == ['second']
    assert hc.resources.get('deps', 'first').required_by == ['second']
    hc.stacks.delete('deps')
    api.wait_gone(hc, 'deps', timeout=BOUND, server=api_server_module)
