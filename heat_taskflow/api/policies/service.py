"""Rule of ``GET /services`` (the engines' status): the project's admin only."""

from oslo_policy import policy

from heat_taskflow.api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='service:index',
        check_str=base.PROJECT_ADMIN,
        description='Show the status of the engine services.',
        operations=[{'method': 'GET', 'path': '/v1/{tenant_id}/services'}],
        scope_types=base.SCOPE_TYPES,
        deprecated_rule=policy.DeprecatedRule(
            name='service:index', check_str=base.RULE_CONTEXT_IS_ADMIN,
            deprecated_reason=base.DEPRECATED_REASON % 'service',
            deprecated_since=base.DEPRECATED_SINCE)),
]


def list_rules():
    """The service: rules."""
    return rules
