"""Keystone v3 and version discovery of the simulator, through unmodified openstacksdk."""

import openstack
import pytest
from openstack import exceptions as sdk_exc

from heat_taskflow.simcloud import identity


def test_password_auth_gives_a_token_with_this_servers_catalog(simcloud):
    conn = openstack.connect(auth_url=simcloud.url + '/identity', username='admin',
                             password='password', project_name='admin',
                             user_domain_name='Default', project_domain_name='Default')
    conn.authorize()
    assert conn.current_project_id == identity.PROJECTS['admin']['id']
    assert conn.compute.get_endpoint() == simcloud.url + '/compute/v2.1'
    assert conn.block_storage.get_endpoint() == '%s/volume/v3/%s' % (
        simcloud.url, identity.PROJECTS['admin']['id'])
    assert conn.image.get_endpoint().startswith(simcloud.url + '/image')
    assert conn.network.get_endpoint().startswith(simcloud.url + '/network')
    assert conn.compute.get_api_major_version() == (2, 1)


def test_a_wrong_password_or_a_foreign_project_is_refused(simcloud):
    for user, project in (('admin', 'admin'), ('demo', 'admin')):
        conn = openstack.connect(auth_url=simcloud.url + '/identity', username=user,
                                 password='wrong' if user == 'admin' else 'password',
                                 project_name=project, user_domain_name='Default',
                                 project_domain_name='Default')
        with pytest.raises(sdk_exc.SDKException, match="401"):
            conn.authorize()


def test_tokens_validate_and_unknown_ones_are_401(simcloud, http):
    status, body, headers = http('POST', '/identity/v3/auth/tokens', {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'demo', 'domain': {'name': 'Default'}, 'password': 'password'}}},
        'scope': {'project': {'name': 'demo', 'domain': {'id': 'default'}}}}})
    assert status == 201 and body['token']['project']['name'] == 'demo'
    types = {s['type'] for s in body['token']['catalog']}
    assert types >= {'identity', 'compute', 'image', 'network', 'block-storage', 'volumev3'}
    token = headers['X-Subject-Token']
    status, body, _ = http('GET', '/identity/v3/auth/tokens',
                           headers={'X-Auth-Token': token, 'X-Subject-Token': token})
    assert status == 200 and body['token']['user']['name'] == 'demo'
    status, body, _ = http('GET', '/compute/v2.1/flavors', headers={'X-Auth-Token': 'forged'})
    assert status == 401 and body['error']['code'] == 401
    assert http('GET', '/compute/v2.1/flavors')[0] == 401


def test_version_documents_need_no_token(http):
    status, body, headers = http('GET', '/compute/v2.1',
                                 headers={'OpenStack-API-Version': 'compute 2.52'})
    assert status == 200 and body['version']['min_version'] == '2.1'
    assert headers['OpenStack-API-Version'] == 'compute 2.52'
    assert http('GET', '/compute/v2.1', headers={
        'X-OpenStack-Nova-API-Version': '2.60'})[2]['X-OpenStack-Nova-API-Version'] == '2.60'
    assert http('GET', '/compute/v2.1', headers={
        'OpenStack-API-Version': 'compute 9.1'})[0] == 406
    for path in ('/identity', '/identity/v3', '/image', '/network', '/network/v2.0',
                 '/volume', '/volume/v3'):
        assert http('GET', path)[0] in (200, 300), path


def test_identity_reads_through_openstacksdk(simcloud):
    conn = openstack.connect(auth_url=simcloud.url + '/identity', username='demo',
                             password='password', project_name='demo',
                             user_domain_name='Default', project_domain_name='Default')
    user = conn.identity.get_user(conn.current_user_id)
    assert (user.name, user.default_project_id) == ('demo', identity.PROJECTS['demo']['id'])
    assert [p.name for p in conn.identity.projects()] == ['demo']
    admin = openstack.connect(auth_url=simcloud.url + '/identity', username='admin',
                              password='password', project_name='admin',
                              user_domain_name='Default', project_domain_name='Default')
    assert sorted(p.name for p in admin.identity.projects()) == ['admin', 'demo']
    with pytest.raises(sdk_exc.NotFoundException):
        conn.identity.get_user(admin.current_user_id)


def test_a_token_buys_a_token(http):
    first = http('POST', '/identity/v3/auth/tokens', {'auth': {'identity': {
        'methods': ['password'], 'password': {'user': {
            'id': identity.USERS['admin']['id'], 'password': 'password'}}},
        'scope': {'project': {'id': identity.PROJECTS['admin']['id']}}}})[2]['X-Subject-Token']
    status, body, headers = http('POST', '/identity/v3/auth/tokens', {'auth': {'identity': {
        'methods': ['token'], 'token': {'id': first}}}})
    assert status == 201 and body['token']['methods'] == ['token']
    assert headers['X-Subject-Token'] != first
    assert http('HEAD', '/identity/v3/auth/tokens', headers={
        'X-Auth-Token': first, 'X-Subject-Token': 'garbage'})[0] == 401
