"""Rules of software deployments."""

from heat_taskflow.api.policies import base

DEPLOYMENTS = '/software_deployments'
ONE = DEPLOYMENTS + '/{deployment_id}'
DENY = base.RULE_DENY_STACK_USER

rules = base.documented('software_deployments:%s', [
    ('index', base.PROJECT_READER, 'List deployments.', 'GET', DEPLOYMENTS, DENY),
    ('create', base.PROJECT_MEMBER, 'Create deployment.', 'POST', DEPLOYMENTS, DENY),
    ('show', base.PROJECT_READER, 'Show deployment details.', 'GET', ONE, DENY),
    ('update', base.PROJECT_MEMBER, 'Update deployment.', 'PUT', ONE, DENY),
    ('delete', base.PROJECT_MEMBER, 'Delete deployment.', 'DELETE', ONE, DENY),
    ('metadata', base.PROJECT_READER_OR_STACK_USER, 'Show server configuration metadata.',
     'GET', DEPLOYMENTS + '/metadata/{server_id}', None),
])


def list_rules():
    """The software_deployments: rules."""
    return rules
