"""Rules of the stack actions (``POST .../stacks/{name}/{id}/actions``)."""

from heat_taskflow.api.policies import base

ROOT = 'actions:%s'
PATH = '/stacks/{stack_name}/{stack_id}/actions'
DENY = base.RULE_DENY_STACK_USER

rules = base.documented(ROOT, [
    ('action', base.PROJECT_MEMBER,
     'Performs non-lifecycle operations on the stack (snapshot, resume, cancel update, or '
     'check stack resources). The default for every action unless a rule of its own says '
     'otherwise.', 'POST', PATH, DENY),
    ('snapshot', base.PROJECT_MEMBER, 'Create a stack snapshot.', 'POST', PATH, DENY),
    ('suspend', base.PROJECT_MEMBER, 'Suspend a stack.', 'POST', PATH, DENY),
    ('resume', base.PROJECT_MEMBER, 'Resume a suspended stack.', 'POST', PATH, DENY),
    ('check', base.PROJECT_READER, 'Check stack resources.', 'POST', PATH, DENY),
    ('cancel_update', base.PROJECT_MEMBER, 'Cancel a stack operation and roll back.',
     'POST', PATH, DENY),
    ('cancel_without_rollback', base.PROJECT_MEMBER,
     'Cancel a stack operation without rolling back.', 'POST', PATH, DENY),
])


def list_rules():
    """The actions: rules."""
    return rules
