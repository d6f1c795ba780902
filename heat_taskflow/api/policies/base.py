"""The base rules every other rule is written in, and the shorthands for Heat's personas.

The check strings are Heat's (``heat/policies/base.py``): a reader or a member of the
project in the target, ``heat_stack_user`` for the in-instance agents, and the admin of
the cloud (``context_is_admin``: role admin in the admin project).
"""

from oslo_policy import policy

RULE_CONTEXT_IS_ADMIN = 'rule:context_is_admin'
RULE_PROJECT_ADMIN = 'rule:project_admin'
RULE_DENY_STACK_USER = 'rule:deny_stack_user'
RULE_DENY_EVERYBODY = 'rule:deny_everybody'
RULE_ALLOW_EVERYBODY = 'rule:allow_everybody'

PROJECT_READER = 'role:reader and project_id:%(project_id)s'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_ADMIN = 'role:admin and project_id:%(project_id)s'
PROJECT_STACK_USER = 'role:heat_stack_user and project_id:%(project_id)s'
PROJECT_READER_OR_STACK_USER = '(%s) or (%s)' % (PROJECT_READER, PROJECT_STACK_USER)

SCOPE_TYPES = ['project']
# Heat's rules before Wallaby; oslo.policy ORs them in only when
# [oslo_policy] enforce_new_defaults is False.
DEPRECATED_SINCE = 'W'
DEPRECATED_REASON = ('The %s API now supports project scope and default roles '
                     '(reader, member, admin).')

rules = [
    policy.RuleDefault(
        name='context_is_admin',
        check_str='(role:admin and is_admin_project:True)',
        description="Decides what is required for the 'is_admin:True' check to succeed: "
                    "the admin of the cloud, who may address any project's URL."),
    policy.RuleDefault(
        name='project_admin',
        check_str='role:admin',
        description='Default rule for project admin.'),
    policy.RuleDefault(
        name='deny_stack_user',
        check_str='not role:heat_stack_user',
        description='Default rule for deny stack user.'),
    policy.RuleDefault(
        name='deny_everybody',
        check_str='!',
        description='Default rule for deny everybody.'),
    policy.RuleDefault(
        name='allow_everybody',
        check_str='',
        description='Default rule for allow everybody.'),
]


def documented(root, table):
    """DocumentedRuleDefaults of one scope from rows of
    (action, check_str, description, method, path, deprecated check_str or None)."""
    scope = root.split(':', 1)[0]
    defaults = []
    for action, check_str, description, method, path, deprecated in table:
        name = root % action
        deprecated_rule = None
        if deprecated is not None:
            deprecated_rule = policy.DeprecatedRule(
                name=name, check_str=deprecated,
                deprecated_reason=DEPRECATED_REASON % scope,
                deprecated_since=DEPRECATED_SINCE)
        defaults.append(policy.DocumentedRuleDefault(
            name=name, check_str=check_str, description=description,
            operations=[{'method': method, 'path': '/v1/{tenant_id}' + path}],
            scope_types=SCOPE_TYPES, deprecated_rule=deprecated_rule))
    return defaults


def list_rules():
    """The base rules."""
    return rules
