"""api.policy and api.policies: Heat's rule names and new defaults, enforced by oslo.policy."""

import subprocess
import sys

import pytest
from oslo_policy import policy as oslo_policy

from heat_taskflow.api import context, policies, policy
from tests.unit.api import policy_fixtures
from tests.unit.api.policy_fixtures import make_conf

api_conf = policy_fixtures.api_conf

PROJECT = 'project-a'
OTHER = 'project-b'

# facts §4.2: the rules each persona passes (Heat 27.0.1's new defaults)
READER_RULES = {
    'stacks': ['index', 'detail', 'show', 'template', 'environment', 'files', 'preview',
               'list_resource_types', 'list_template_versions', 'list_template_functions',
               'resource_schema', 'list_outputs', 'show_output', 'list_snapshots',
               'show_snapshot', 'lookup'],
    'resource': ['index', 'show', 'metadata', 'signal'],
    'events': ['index', 'show'],
    'actions': ['check'],
    'software_configs': ['index', 'show'],
    'software_deployments': ['index', 'show', 'metadata'],
    'build_info': ['build_info'],
}
MEMBER_ONLY_RULES = {
    'stacks': ['create', 'update', 'update_patch', 'update_no_change', 'preview_update',
               'preview_update_patch', 'delete', 'abandon', 'export', 'generate_template',
               'validate_template', 'snapshot', 'delete_snapshot', 'restore_snapshot'],
    'resource': ['mark_unhealthy'],
    'actions': ['action', 'snapshot', 'suspend', 'resume', 'cancel_update',
                'cancel_without_rollback'],
    'software_configs': ['create', 'delete'],
    'software_deployments': ['create', 'update', 'delete'],
}
STACK_USER_RULES = ['stacks:lookup', 'resource:metadata', 'resource:signal',
                    'software_deployments:metadata']
DENY_EVERYBODY = ['stacks:global_index', 'software_configs:global_index']


def names(table):
    return ['%s:%s' % (scope, action) for scope, actions in table.items()
            for action in actions]


def ctx(*roles, project=PROJECT, admin_project=False):
    return context.RequestContext(project_id=project, user_id='u', roles=list(roles),
                                  is_admin_project=admin_project)


def allowed(context_, rule, **kwargs):
    try:
        policy.authorize(context_, rule, **kwargs)
    except policy.Forbidden:
        return False
    return True


def test_every_rule_is_registered_once_with_scope_project():
    rules = policies.list_rules()
    by_name = {rule.name: rule for rule in rules}
    assert len(by_name) == len(rules)
    for name in names(READER_RULES) + names(MEMBER_ONLY_RULES) + DENY_EVERYBODY + [
            'service:index', 'resource_types:OS::Nova::Flavor', 'context_is_admin',
            'project_admin', 'deny_stack_user', 'deny_everybody', 'allow_everybody']:
        assert name in by_name, name
    for rule in rules:
        if ':' in rule.name:
            assert rule.scope_types == ['project'], rule.name
    assert by_name['context_is_admin'].check_str == '(role:admin and is_admin_project:True)'
    assert by_name['stacks:create'].check_str == 'role:member and project_id:%(project_id)s'
    assert by_name['stacks:index'].check_str == 'role:reader and project_id:%(project_id)s'
    assert by_name['stacks:create'].deprecated_rule.check_str == 'rule:deny_stack_user'
    assert by_name['stacks:create'].operations == [
        {'method': 'POST', 'path': '/v1/{tenant_id}/stacks'}]


@pytest.mark.parametrize('rule', names(READER_RULES))
def test_a_reader_may_read(api_conf, rule):
    assert allowed(ctx('reader'), rule)


@pytest.mark.parametrize('rule', names(MEMBER_ONLY_RULES))
def test_a_reader_may_not_change(api_conf, rule):
    with pytest.raises(policy.Forbidden) as err:
        policy.authorize(ctx('reader'), rule)
    assert err.value.message == 'You are not authorized to use %s.' % rule
    assert str(err.value) == err.value.message
    assert err.value.code == 403
    assert err.value.rule == rule


@pytest.mark.parametrize('rule', names(MEMBER_ONLY_RULES) + names(READER_RULES))
def test_a_member_and_reader_may(api_conf, rule):
    assert allowed(ctx('member', 'reader'), rule)


def test_a_member_without_reader_may_create_but_not_list(api_conf):
    # New defaults are exact: Keystone's implied roles give a member the reader role too.
    assert allowed(ctx('member'), 'stacks:create')
    assert not allowed(ctx('member'), 'stacks:index')


def test_a_stack_user_only_looks_up_and_signals(api_conf):
    stack_user = ctx('heat_stack_user')
    for rule in STACK_USER_RULES:
        assert allowed(stack_user, rule), rule
    for rule in ['stacks:create', 'stacks:index', 'stacks:show', 'resource:index',
                 'events:index', 'actions:check']:
        assert not allowed(stack_user, rule), rule


def test_nobody_lists_globally_not_even_the_admin(api_conf):
    admin = ctx('admin', 'member', 'reader', admin_project=True)
    assert admin.is_admin
    for rule in DENY_EVERYBODY:
        assert not allowed(admin, rule), rule


def test_service_index_needs_the_admin_role(api_conf):
    assert allowed(ctx('admin'), 'service:index')
    assert not allowed(ctx('member', 'reader'), 'service:index')
    assert allowed(ctx('admin'), 'resource_types:OS::Nova::Flavor')
    assert not allowed(ctx('member', 'reader'), 'resource_types:OS::Keystone::*')


def test_the_target_names_the_project(api_conf):
    member = ctx('member', 'reader')
    assert allowed(member, 'stacks:show', target={'project_id': PROJECT})
    assert not allowed(member, 'stacks:show', target={'project_id': OTHER})


def test_no_project_no_access(api_conf):
    # oslo.policy would compare 'None' with str(None): a context without a project must
    # not pass a project rule by that accident.
    with pytest.raises(policy.Forbidden):
        policy.authorize(ctx('member', 'reader', project=None), 'stacks:index')


def test_another_projects_url_is_forbidden_to_a_member(api_conf):
    member = ctx('member', 'reader')
    assert allowed(member, 'stacks:index', tenant_id=PROJECT)
    with pytest.raises(policy.Forbidden) as err:
        policy.authorize(member, 'stacks:index', tenant_id=OTHER)
    assert err.value.code == 403
    # even a rule that lets everybody in
    with pytest.raises(policy.Forbidden):
        policy.authorize(member, 'allow_everybody', tenant_id=OTHER)


def test_the_admin_may_use_any_projects_url(api_conf):
    admin = ctx('admin', 'member', 'reader', project='admin', admin_project=True)
    assert allowed(admin, 'stacks:index', tenant_id=OTHER)
    assert allowed(admin, 'stacks:create', tenant_id=OTHER)
    # an admin of a project that is not the admin project is a plain member elsewhere
    project_admin = ctx('admin', 'member', 'reader', project='p3')
    assert not project_admin.is_admin
    assert not allowed(project_admin, 'stacks:index', tenant_id=OTHER)


def test_an_unknown_rule_is_an_error_not_a_denial(api_conf):
    with pytest.raises(oslo_policy.PolicyNotRegistered):
        policy.authorize(ctx('member', 'reader'), 'stacks:no_such_rule')


def test_a_policy_file_overrides_a_default(tmp_path):
    (tmp_path / 'policy.yaml').write_text(
        '"stacks:create": "role:reader and project_id:%(project_id)s"\n'
        '"stacks:delete": "rule:deny_everybody"\n')
    (tmp_path / 'api.conf').write_text(
        '[oslo_policy]\npolicy_file = %s\n' % (tmp_path / 'policy.yaml'))
    policy.init(make_conf(tmp_path / 'api.conf'))
    try:
        assert allowed(ctx('reader'), 'stacks:create')
        assert not allowed(ctx('member', 'reader'), 'stacks:delete')
        assert allowed(ctx('member', 'reader'), 'stacks:update')     # untouched default
    finally:
        policy.reset()


@pytest.mark.filterwarnings('ignore:Policy .* was deprecated:UserWarning')
def test_old_defaults_when_new_ones_are_not_enforced(tmp_path):
    (tmp_path / 'api.conf').write_text('[oslo_policy]\nenforce_new_defaults = False\n')
    policy.init(make_conf(tmp_path / 'api.conf'))
    try:
        # the deprecated rule (deny_stack_user) is ORed in: any role but heat_stack_user
        assert allowed(ctx('somebody'), 'stacks:create')
        assert not allowed(ctx('heat_stack_user'), 'stacks:create')
    finally:
        policy.reset()


def test_new_defaults_are_enforced_by_default(api_conf):
    assert api_conf.oslo_policy.enforce_new_defaults is True
    assert not allowed(ctx('somebody'), 'stacks:create')


def test_sample_generator_writes_the_projects_rules(tmp_path):
    out = tmp_path / 'policy.yaml.sample'
    generator = [sys.executable, '-c',
                 'import sys; from oslo_policy.generator import generate_sample; '
                 'sys.exit(generate_sample())']
    subprocess.run(generator + ['--namespace', 'heat_taskflow', '--output-file', str(out)],
                   check=True, capture_output=True, timeout=60)
    text = out.read_text()
    assert '#"stacks:create": "role:member and project_id:%(project_id)s"' in text
    assert '#"context_is_admin": "(role:admin and is_admin_project:True)"' in text
    assert '# POST  /v1/{tenant_id}/stacks\n' in text
    assert text.count('#"') == len(policies.list_rules())


def test_policy_generator_uses_the_enforcer_entry_point(tmp_path):
    # oslopolicy-policy-generator loads the oslo.policy.enforcer entry point (get_enforcer)
    # and merges a policy file's overrides into the defaults.
    (tmp_path / 'policy.yaml').write_text('"stacks:delete": "rule:deny_everybody"\n')
    (tmp_path / 'heat-taskflow.conf').write_text(
        '[oslo_policy]\npolicy_file = %s\n' % (tmp_path / 'policy.yaml'))
    code = ('import sys; from oslo_policy.generator import generate_policy; '
            'sys.exit(generate_policy())')
    result = subprocess.run(
        [sys.executable, '-c', code, '--namespace', 'heat_taskflow',
         '--config-file', str(tmp_path / 'heat-taskflow.conf')],
        check=True, capture_output=True, text=True, timeout=60)
    assert '"stacks:delete": "rule:deny_everybody"' in result.stdout
    assert '"stacks:create": "role:member and project_id:%(project_id)s"' in result.stdout
