"""heat-taskflow-api with ``auth_strategy = keystone`` against a real Keystone.

The API runs as a subprocess whose keystonemiddleware validates tokens as the ``heat`` user
(role ``service`` only) of the ``keystone`` fixture (tests/functional/keystone.py), on the
port the catalog's orchestration endpoint names. Shown: tokens are required and checked
(401), a member's stacks live in its project and are invisible to another project (404 by id,
403 for the other project's URL), identity headers sent by a client change nothing, the
admin (role admin in the admin project) may address any project, a policy denial is a 403
naming the rule, and ``openstack --os-cloud NAME stack ...`` works through the catalog.
"""

import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import pytest
import requests
import yaml

from tests.functional.keystone import keystone  # noqa: F401 - the session fixture

pytestmark = pytest.mark.functional

BIN = pathlib.Path(sys.executable).parent
API = BIN / 'heat-taskflow-api'
OPENSTACK = BIN / 'openstack'

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'parameters': {'length': {'type': 'number', 'default': 8}},
    'resources': {'secret': {'type': 'OS::Heat::RandomString',
                             'properties': {'length': {'get_param': 'length'}}}},
    'outputs': {'value': {'value': {'get_attr': ['secret', 'value']}}},
}
SPOOFED = {'X-Project-Id': None, 'X-Project-Name': None, 'X-Tenant-Id': None,
           'X-Roles': 'admin,member,reader', 'X-Is-Admin-Project': 'True',
           'X-Identity-Status': 'Confirmed', 'X-User-Id': 'mallory'}


@pytest.fixture(scope='module')
def api(keystone, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """Base URL of a heat-taskflow-api in keystone mode on keystone.api_port."""
    if not API.exists():
        pytest.skip('heat-taskflow-api is not installed next to %s' % sys.executable)
    workdir = tmp_path_factory.mktemp('api-keystone')
    lines = ['[DEFAULT]', 'state_dir = %s' % workdir,
             '[api]', 'auth_strategy = keystone', 'bind_host = 127.0.0.1',
             'bind_port = %d' % keystone.api_port, 'workers = 1', 'threads = 4',
             '[keystone_authtoken]']
    lines += ['%s = %s' % item for item in keystone.authtoken_options().items()]
    config = workdir / 'heat-taskflow.conf'
    config.write_text('\n'.join(lines) + '\n')
    log = workdir / 'api.log'
    base = 'http://127.0.0.1:%d' % keystone.api_port
    started = time.monotonic()
    with open(log, 'wb') as err:
        proc = subprocess.Popen([str(API), '--config-file', str(config)], stderr=err,
                                stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, HOME=str(workdir)))
    try:
        while True:
            try:
                requests.get(base + '/', timeout=5)
                break
            except requests.RequestException:     # not listening yet, or still loading
                if proc.poll() is not None or time.monotonic() - started > 60:
                    pytest.fail('heat-taskflow-api did not start:\n%s' % log.read_text())
                time.sleep(0.05)
        sys.stderr.write('heat-taskflow-api (keystone) answered %.2f s after its start\n'
                         % (time.monotonic() - started))
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope='module')
def tokens(keystone):  # noqa: F811
    """A token of each of the fixture's users, by user name."""
    return {user: keystone.token(user) for user in ('member_a', 'member_b', 'reader_a',
                                                     'admin')}


def call(method, url, token=None, body=None, headers=None):
    """(status, headers, JSON body or None); redirects are not followed."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs['X-Auth-Token'] = token
    response = requests.request(method, url, headers=hdrs, json=body, timeout=60,
                                allow_redirects=False)
    try:
        doc = response.json()
    except ValueError:
        doc = None
    return response.status_code, response.headers, doc


def create(base, project, token, name):
    """Create a stack; returns its id."""
    status, headers, doc = call('POST', '%s/v1/%s/stacks' % (base, project), token,
                                {'stack_name': name, 'template': TEMPLATE})
    assert status == 201, doc
    return doc['stack']['id']


def wait_complete(base, project, token, name, stack_id, timeout=60):
    """Poll the stack until it leaves IN_PROGRESS; returns its status."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, doc = call('GET', '%s/v1/%s/stacks/%s/%s' % (base, project, name,
                                                               stack_id), token)
        assert status == 200, doc
        if not doc['stack']['stack_status'].endswith('IN_PROGRESS'):
            return doc['stack']['stack_status']
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)


def names(doc):
    return {stack['stack_name'] for stack in doc['stacks']}


def test_the_heat_service_user_has_only_the_service_role(keystone):  # noqa: F811
    from keystoneclient.v3 import client
    ks = client.Client(session=keystone.session('admin'), interface='public')
    heat = keystone.users['heat']
    roles = {ks.roles.get(a.role['id']).name
             for a in ks.role_assignments.list(user=heat.id)}
    assert roles == {'service'}


def test_no_token_and_a_bad_token_are_401(api, keystone):  # noqa: F811
    project_a = keystone.projects['project-a']
    url = '%s/v1/%s/stacks' % (api, project_a)
    for token in (None, 'garbage', keystone.token('member_a')[:-4] + 'AAAA'):
        status, headers, doc = call('GET', url, token)
        assert status == 401, (token, doc)
        assert headers['WWW-Authenticate'] == 'Keystone uri="%s"' % keystone.url
    # identity headers instead of a token are not an identity
    spoofed = dict(SPOOFED, **{'X-Project-Id': project_a})
    status, _, _ = call('GET', url, None, headers=spoofed)
    assert status == 401
    status, _, _ = call('POST', url, None, {'stack_name': 'nope', 'template': TEMPLATE},
                        headers=spoofed)
    assert status == 401
    # the version documents need no token, as in Heat
    assert call('GET', api + '/')[0] == 300


def test_a_member_creates_and_sees_its_stack(api, keystone, tokens):  # noqa: F811
    project_a = keystone.projects['project-a']
    name = 'ka-%s' % uuid.uuid4().hex[:8]
    stack_id = create(api, project_a, tokens['member_a'], name)
    assert wait_complete(api, project_a, tokens['member_a'], name, stack_id) == \
        'CREATE_COMPLETE'
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_a), tokens['member_a'])
    assert status == 200 and name in names(doc)
    status, headers, _ = call('GET', '%s/v1/%s/stacks/%s' % (api, project_a, name),
                              tokens['member_a'])
    assert status == 302
    assert headers['Location'] == '%s/v1/%s/stacks/%s/%s' % (api, project_a, name, stack_id)
    status, _, doc = call('GET', headers['Location'], tokens['member_a'])
    assert status == 200
    assert len(doc['stack']['outputs'][0]['output_value']) == 8


def test_another_projects_stack_is_404_and_its_url_403(api, keystone, tokens):  # noqa: F811
    project_a, project_b = keystone.projects['project-a'], keystone.projects['project-b']
    name = 'kb-%s' % uuid.uuid4().hex[:8]
    b_id = create(api, project_b, tokens['member_b'], name)
    member_a = tokens['member_a']
    # B's stack through A's URL: it does not exist for A
    for path in ('stacks/%s/%s' % (name, b_id), 'stacks/%s' % b_id, 'stacks/%s' % name,
                 'stacks/%s/%s/template' % (name, b_id), 'stacks/%s/%s/outputs' % (name, b_id)):
        status, _, doc = call('GET', '%s/v1/%s/%s' % (api, project_a, path), member_a)
        assert status == 404, (path, doc)
        assert doc['error']['type'] in ('EntityNotFound', 'StackNotFound', 'NotFound'), doc
    status, _, doc = call('DELETE', '%s/v1/%s/stacks/%s/%s' % (api, project_a, name, b_id),
                          member_a)
    assert status == 404, doc
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_a), member_a)
    assert status == 200 and name not in names(doc)
    # B's URL: forbidden to a member of A, whatever it asks
    for method, path in (('GET', 'stacks'), ('GET', 'stacks/%s/%s' % (name, b_id)),
                         ('DELETE', 'stacks/%s/%s' % (name, b_id)), ('POST', 'stacks')):
        body = {'stack_name': 'x', 'template': TEMPLATE} if method == 'POST' else None
        status, _, doc = call(method, '%s/v1/%s/%s' % (api, project_b, path), member_a, body)
        assert status == 403, (method, path, doc)
        assert doc['error']['type'] == 'Forbidden'
    # B's stack is untouched
    assert wait_complete(api, project_b, tokens['member_b'], name, b_id) == 'CREATE_COMPLETE'


def test_spoofed_identity_headers_change_nothing(api, keystone, tokens):  # noqa: F811
    project_a, project_b = keystone.projects['project-a'], keystone.projects['project-b']
    name = 'ks-%s' % uuid.uuid4().hex[:8]
    b_id = create(api, project_b, tokens['member_b'], name)
    spoofed = dict(SPOOFED, **{'X-Project-Id': project_b, 'X-Project-Name': 'project-b',
                               'X-Tenant-Id': project_b})
    member_a = tokens['member_a']
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_b), member_a,
                          headers=spoofed)
    assert status == 403, doc
    status, _, doc = call('GET', '%s/v1/%s/stacks/%s' % (api, project_a, b_id), member_a,
                          headers=spoofed)
    assert status == 404, doc
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_a), member_a,
                          headers=spoofed)
    assert status == 200 and name not in names(doc)
    # no admin powers either: an admin's listing names each stack's project
    assert all('project' not in stack for stack in doc['stacks']), doc
    # a reader cannot become a member by saying so
    status, _, doc = call('POST', '%s/v1/%s/stacks' % (api, project_a), tokens['reader_a'],
                          {'stack_name': 'x', 'template': TEMPLATE},
                          headers={'X-Roles': 'member,reader,admin'})
    assert status == 403, doc


def test_the_admin_may_address_any_project(api, keystone, tokens):  # noqa: F811
    project_b = keystone.projects['project-b']
    name = 'kd-%s' % uuid.uuid4().hex[:8]
    b_id = create(api, project_b, tokens['member_b'], name)
    admin = tokens['admin']
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_b), admin)
    assert status == 200, doc
    status, _, doc = call('GET', '%s/v1/%s/stacks/%s/%s' % (api, project_b, name, b_id),
                          admin)
    assert status == 200, doc
    assert doc['stack']['id'] == b_id
    assert doc['stack']['project'] == project_b
    # by id alone: the lookup sends the admin to the stack's own project
    status, headers, doc = call('GET', '%s/v1/%s/stacks/%s' % (api, project_b, b_id), admin)
    assert status == 302, doc
    assert headers['Location'] == '%s/v1/%s/stacks/%s/%s' % (api, project_b, name, b_id)


def test_a_policy_denial_names_the_rule(api, keystone, tokens):  # noqa: F811
    project_a = keystone.projects['project-a']
    reader = tokens['reader_a']
    status, _, doc = call('POST', '%s/v1/%s/stacks' % (api, project_a), reader,
                          {'stack_name': 'kr-%s' % uuid.uuid4().hex[:8], 'template': TEMPLATE})
    assert status == 403, doc
    assert doc['code'] == 403
    assert doc['error']['type'] == 'Forbidden'
    assert doc['error']['message'] == 'You are not authorized to use stacks:create.'
    # what a reader may do, it does
    status, _, doc = call('GET', '%s/v1/%s/stacks' % (api, project_a), reader)
    assert status == 200, doc


def openstack(clouds_file, cloud, *args, check=True):
    """Run python-openstackclient; returns (returncode, stdout, stderr)."""
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds_file))
    for key in [k for k in env if k.startswith('OS_') and k != 'OS_CLIENT_CONFIG_FILE']:
        del env[key]
    result = subprocess.run([str(OPENSTACK), '--os-cloud', cloud] + list(args), env=env,
                            capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.slow
def test_openstack_client_through_the_catalog(api, keystone, tmp_path):  # noqa: F811
    if not OPENSTACK.exists():
        pytest.skip('python-openstackclient is not installed next to %s' % sys.executable)
    # --wait follows the stack's events: without their routes the client cannot wait
    project_a, token = keystone.projects['project-a'], keystone.token('member_a')
    probe = 'kp-%s' % uuid.uuid4().hex[:8]
    probe_id = create(api, project_a, token, probe)
    status, _, _ = call('GET', '%s/v1/%s/stacks/%s/%s/events' % (api, project_a, probe,
                                                                probe_id), token)
    if status == 501:
        pytest.skip('the events routes answer 501 in this tree; openstack stack create '
                    '--wait needs them')
    clouds_file = tmp_path / 'clouds.yaml'
    clouds_file.write_text(yaml.safe_dump({'clouds': keystone.clouds()}))
    template = tmp_path / 'secret.yaml'
    template.write_text(yaml.safe_dump(TEMPLATE))
    name = 'kc-%s' % uuid.uuid4().hex[:8]

    _, out, _ = openstack(clouds_file, 'member_a', 'stack', 'create', '--wait', '-t',
                          str(template), '--parameter', 'length=12', '-f', 'json', name)
    # --wait prints the events first, then the stack
    events, _, document = out.partition('\n{')
    assert '[%s]: CREATE_COMPLETE' % name in events, out
    created = json.loads('{' + document)
    assert created['stack_name'] == name
    assert created['stack_status'] == 'CREATE_COMPLETE'

    _, out, _ = openstack(clouds_file, 'member_a', 'stack', 'list', '-f', 'json')
    assert name in {stack['Stack Name'] for stack in json.loads(out)}
    _, out, _ = openstack(clouds_file, 'member_a', 'stack', 'output', 'show', name, 'value',
                          '-f', 'json')
    assert len(json.loads(out)['output_value']) == 12
    # the other project's member sees nothing of it
    _, out, _ = openstack(clouds_file, 'member_b', 'stack', 'list', '-f', 'json')
    assert name not in {stack['Stack Name'] for stack in json.loads(out)}
    code, out, err = openstack(clouds_file, 'member_b', 'stack', 'show', name, check=False)
    assert code == 1 and 'Stack not found: %s' % name in err, (out, err)
    # the reader is refused by the policy, by name
    code, _, err = openstack(clouds_file, 'reader_a', 'stack', 'create', '-t', str(template),
                             name + '-r', check=False)
    assert code == 1 and 'You are not authorized to use stacks:create.' in err, err

    openstack(clouds_file, 'member_a', 'stack', 'delete', '--wait', '-y', name)
    _, out, _ = openstack(clouds_file, 'member_a', 'stack', 'list', '-f', 'json')
    assert name not in {stack['Stack Name'] for stack in json.loads(out)}
