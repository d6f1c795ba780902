"""Rules of software configs."""

from heat_taskflow.api.policies import base

CONFIGS = '/software_configs'
DENY = base.RULE_DENY_STACK_USER

rules = base.documented('software_configs:%s', [
    ('global_index', base.RULE_DENY_EVERYBODY, 'List configs globally.', 'GET', CONFIGS,
     None),
    ('index', base.PROJECT_READER, 'List configs.', 'GET', CONFIGS, DENY),
    ('create', base.PROJECT_MEMBER, 'Create config.', 'POST', CONFIGS, DENY),
    ('show', base.PROJECT_READER, 'Show config details.', 'GET', CONFIGS + '/{config_id}',
     DENY),
    ('delete', base.PROJECT_MEMBER, 'Delete config.', 'DELETE', CONFIGS + '/{config_id}',
     DENY),
])


def list_rules():
    """The software_configs: rules."""
    return rules
