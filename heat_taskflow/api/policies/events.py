"""Rules of a stack's events."""

from heat_taskflow.api.policies import base

STACK = '/stacks/{stack_name}/{stack_id}'
DENY = base.RULE_DENY_STACK_USER

rules = base.documented('events:%s', [
    ('index', base.PROJECT_READER, 'List events.', 'GET', STACK + '/events', DENY),
    ('show', base.PROJECT_READER, 'Show event.', 'GET',
     STACK + '/resources/{resource_name}/events/{event_id}', DENY),
])


def list_rules():
    """The events: rules."""
    return rules
