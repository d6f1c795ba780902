"""Rules of stacks, templates and resource types (Heat's StackController)."""

from heat_taskflow.api.policies import base

R = base.PROJECT_READER
M = base.PROJECT_MEMBER
DENY = base.RULE_DENY_STACK_USER
STACKS = '/stacks'
ONE = '/stacks/{stack_name}/{stack_id}'
SNAPSHOT = ONE + '/snapshots/{snapshot_id}'

rules = base.documented('stacks:%s', [
    ('abandon', M, 'Abandon stack.', 'DELETE', ONE + '/abandon', DENY),
    ('create', M, 'Create stack.', 'POST', STACKS, DENY),
    ('delete', M, 'Delete stack.', 'DELETE', ONE, DENY),
    ('detail', R, 'List stacks in detail.', 'GET', STACKS + '/detail', DENY),
    ('export', M, 'Export stack.', 'GET', ONE + '/export', DENY),
    ('generate_template', M, 'Generate a template from a resource type.', 'GET',
     '/resource_types/{type_name}/template', DENY),
    ('global_index', base.RULE_DENY_EVERYBODY, 'List stacks globally.', 'GET', STACKS,
     None),
    ('index', R, 'List stacks.', 'GET', STACKS, DENY),
    ('list_resource_types', R, 'List resource types.', 'GET', '/resource_types', DENY),
    ('list_template_versions', R, 'List template versions.', 'GET', '/template_versions',
     DENY),
    ('list_template_functions', R, 'List template functions.', 'GET',
     '/template_versions/{template_version}/functions', DENY),
    ('lookup', base.PROJECT_READER_OR_STACK_USER, 'Find stack.', 'GET',
     '/stacks/{stack_identity}', base.RULE_ALLOW_EVERYBODY),
    ('preview', R, 'Preview stack.', 'POST', STACKS + '/preview', DENY),
    ('resource_schema', R, 'Show resource type schema.', 'GET', '/resource_types/{type_name}',
     DENY),
    ('show', R, 'Show stack.', 'GET', ONE, DENY),
    ('template', R, 'Get stack template.', 'GET', ONE + '/template', DENY),
    ('environment', R, 'Get stack environment.', 'GET', ONE + '/environment', DENY),
    ('files', R, 'Get stack files.', 'GET', ONE + '/files', DENY),
    ('update', M, 'Update stack.', 'PUT', ONE, DENY),
    ('update_patch', M, 'Update stack (PATCH).', 'PATCH', ONE, DENY),
    ('update_no_change', 'rule:stacks:update_patch', 'Update stack (PATCH) with no changes.',
     'PATCH', ONE, None),
    ('preview_update', M, 'Preview update stack.', 'PUT', ONE + '/preview', DENY),
    ('preview_update_patch', M, 'Preview update stack (PATCH).', 'PATCH', ONE + '/preview',
     DENY),
    ('validate_template', M, 'Validate template.', 'POST', '/validate', DENY),
    ('snapshot', M, 'Snapshot stack.', 'POST', ONE + '/snapshots', DENY),
    ('show_snapshot', R, 'Show snapshot.', 'GET', SNAPSHOT, DENY),
    ('delete_snapshot', M, 'Delete snapshot.', 'DELETE', SNAPSHOT, DENY),
    ('list_snapshots', R, 'List snapshots.', 'GET', ONE + '/snapshots', DENY),
    ('restore_snapshot', M, 'Restore snapshot.', 'POST', SNAPSHOT + '/restore', DENY),
    ('list_outputs', R, 'List outputs.', 'GET', ONE + '/outputs', DENY),
    ('show_output', R, 'Show output.', 'GET', ONE + '/outputs/{output_key}', DENY),
])


def list_rules():
    """The stacks: rules."""
    return rules
