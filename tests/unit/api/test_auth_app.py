"""noauth through the whole WSGI pipeline: the URL's project is the caller's, and nothing a
client puts in a header makes it another project's member or an admin."""

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'resources': {'v': {'type': 'OS::Heat::Value', 'properties': {'value': 'x'}}},
}
SPOOFED = {'X-Project-Id': 'proj-b', 'X-Tenant-Id': 'proj-b', 'X-Project-Name': 'proj-b',
           'X-Roles': 'admin,member,reader', 'X-Is-Admin-Project': 'True',
           'X-Auth-Project': 'proj-b', 'X-User-Id': 'mallory'}
HOST = 'http://api.example:8004'


def names(resp):
    assert resp.status_int == 200, resp.text
    return {stack['stack_name'] for stack in resp.json['stacks']}


def test_noauth_stacks_live_in_the_urls_project_whatever_the_headers(call):
    resp = call('POST', HOST + '/v1/proj-a/stacks', {'stack_name': 'sa', 'template': TEMPLATE},
                headers=SPOOFED)
    assert resp.status_int == 201, resp.text
    stack_id = resp.json['stack']['id']
    assert resp.headers['Location'] == HOST + '/v1/proj-a/stacks/sa/%s' % stack_id

    assert names(call('GET', HOST + '/v1/proj-a/stacks')) == {'sa'}
    assert names(call('GET', HOST + '/v1/proj-b/stacks', headers=SPOOFED)) == set()
    # proj-b's caller cannot reach proj-a's stack by id, with or without the headers
    for headers in ({}, SPOOFED):
        for path in ('/stacks/sa/%s' % stack_id, '/stacks/%s' % stack_id, '/stacks/sa'):
            resp = call('GET', HOST + '/v1/proj-b' + path, headers=headers)
            assert resp.status_int == 404, (path, resp.text)
    # not an admin: no project column, no global listing
    listing = call('GET', HOST + '/v1/proj-a/stacks', headers=SPOOFED)
    assert all('project' not in stack for stack in listing.json['stacks'])
    resp = call('GET', HOST + '/v1/proj-a/stacks?global_tenant=True', headers=SPOOFED)
    assert resp.status_int == 403, resp.text
    assert resp.json['error']['type'] == 'Forbidden'
    assert resp.json['error']['message'] == 'You are not authorized to use stacks:global_index.'


def test_each_application_enforces_its_own_policy(tmp_path):
    """Two applications in one process, one with a policy file refusing stacks:index: each
    request is judged by its own application's rules, whatever was built last."""
    import json as json_mod

    import webob
    from oslo_config import cfg
    from oslo_policy import opts as policy_opts

    from heat_taskflow.api import app as app_mod
    from heat_taskflow.conf import api as api_conf
    from heat_taskflow.conf import auth as auth_conf
    from heat_taskflow.conf import cloud, opts
    from heat_taskflow.engine import service as service_mod

    def application(name, policy_file=None):
        conf = cfg.ConfigOpts()
        for module in (opts, cloud, api_conf, auth_conf):
            module.register_opts(conf)
        for group, options in policy_opts.list_opts():
            conf.register_opts(options, group=group)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('state_dir', str(tmp_path / name))
        if policy_file is not None:
            conf.set_override('policy_file', str(policy_file), group='oslo_policy')
        service = service_mod.StackService(conf)
        return app_mod.build_app(conf, service), service

    strict = tmp_path / 'policy.json'
    strict.write_text(json_mod.dumps({'stacks:index': '!'}))
    refusing, one = application('a', strict)
    allowing, two = application('b')
    try:
        for app, status in ((refusing, 403), (allowing, 200), (refusing, 403)):
            resp = webob.Request.blank('/v1/demo/stacks').get_response(app)
            assert resp.status_int == status, resp.text
        assert 'stacks:index' in webob.Request.blank('/v1/demo/stacks').get_response(
            refusing).json['error']['message']
    finally:
        one.close()
        two.close()
