"""Rule of ``GET /build_info``."""

from heat_taskflow.api.policies import base

rules = base.documented('build_info:%s', [
    ('build_info', base.PROJECT_READER, 'Show build information.', 'GET', '/build_info',
     base.RULE_DENY_STACK_USER),
])


def list_rules():
    """The build_info: rules."""
    return rules
