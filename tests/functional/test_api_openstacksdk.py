"""openstacksdk against heat-taskflow-api (noauth, SQLite, legacy path), with both ways of
reaching a service without Keystone:

    openstack.connect(auth_type='none', auth={'endpoint': URL})
        (discovers the service's versions: needs the API's GET /v1 version document, which
        Heat itself does not serve)
    openstack.connect(auth_type='admin_token', auth={'endpoint': URL, 'token': T})

create_stack(wait=True), get_stack, list_stacks, the stack's resources, delete_stack(wait=True),
and get_stack of a missing stack returning None.
"""

import pytest

from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

api_server_module = api.api_server_module

TEMPLATE = """\
heat_template_version: 2018-08-31
description: An SDK stack.
parameters:
  word:
    type: string
    default: one
resources:
  value:
    type: OS::Heat::Value
    properties:
      value: {get_param: word}
  test:
    type: OS::Heat::TestResource
    properties:
      value: {get_attr: [value, value]}
outputs:
  word:
    value: {get_attr: [test, output]}
"""


def connect(server, auth_type):
    import openstack

    auth = {'endpoint': server.endpoint}
    if auth_type == 'admin_token':
        auth['token'] = 'any-token'
    return openstack.connect(auth_type=auth_type, auth=auth, load_yaml_config=False,
                             load_envvars=False)


@pytest.mark.parametrize('auth_type', ['none', 'admin_token'])
def test_sdk_stack_lifecycle(api_server_module, tmp_path, auth_type):
    server = api_server_module
    template = tmp_path / 'sdk.yaml'
    template.write_text(TEMPLATE)
    name = 'sdk-%s' % auth_type.replace('_', '-')
    conn = connect(server, auth_type)
    try:
        assert conn.get_stack('no-such-stack') is None

        created = conn.create_stack(name, template_file=str(template), wait=True, word='two')
        assert created['status'] == 'CREATE_COMPLETE', server.log_tail()
        assert created['name'] == name

        stack = conn.get_stack(name)
        assert stack is not None and stack['id'] == created['id']
        assert stack['status'] == 'CREATE_COMPLETE'
        assert {o['output_key']: o['output_value'] for o in stack['outputs']} == {
            'word': 'two'}
        assert stack['parameters']['word'] == 'two'
        assert conn.get_stack(created['id'])['name'] == name

        listed = [s for s in conn.list_stacks() if s['name'] == name]
        assert [s['id'] for s in listed] == [created['id']]

        resources = {r['name']: r for r in conn.orchestration.resources(stack)}
        assert set(resources) == {'value', 'test'}
        assert resources['test']['resource_type'] == 'OS::Heat::TestResource'
        assert resources['test']['status'] == 'CREATE_COMPLETE'

        assert conn.delete_stack(name, wait=True) is True
        assert conn.get_stack(name) is None
        assert name not in [s['name'] for s in conn.list_stacks()]
        assert conn.delete_stack(name) is False       # not found
    finally:
        conn.close()
