"""Rules of a stack's resources."""

from heat_taskflow.api.policies import base

RESOURCES = '/stacks/{stack_name}/{stack_id}/resources'
DENY = base.RULE_DENY_STACK_USER
ALLOW = base.RULE_ALLOW_EVERYBODY

rules = base.documented('resource:%s', [
    ('index', base.PROJECT_READER, 'List resources.', 'GET', RESOURCES, DENY),
    ('metadata', base.PROJECT_READER_OR_STACK_USER, 'Show resource metadata.', 'GET',
     RESOURCES + '/{resource_name}/metadata', ALLOW),
    ('signal', base.PROJECT_READER_OR_STACK_USER, 'Signal resource.', 'POST',
     RESOURCES + '/{resource_name}/signal', ALLOW),
    ('mark_unhealthy', base.PROJECT_MEMBER, 'Mark resource as unhealthy.', 'PATCH',
     RESOURCES + '/{resource_name_or_physical_id}', DENY),
    ('show', base.PROJECT_READER, 'Show resource.', 'GET',
     RESOURCES + '/{resource_name}', DENY),
])


def list_rules():
    """The resource: rules."""
    return rules
