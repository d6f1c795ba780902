"""Errors the engine reports to its callers (the command line maps them to exit codes).

Names and keys a user gave are echoed through ``text.shown``: a control character in
them (an ANSI escape, a newline) is escaped, never printed.
"""

from heat_taskflow.common.text import shown


class EngineError(Exception):
    """Base of every error the engine service raises."""

    exit_code = 1


class InvalidInput(EngineError):
    """The template, environment, parameters or request is invalid; nothing was stored."""

    exit_code = 2


class StackNotFound(InvalidInput):
    """No stack of that name or id."""

    def __init__(self, name):
        super().__init__('stack "%s" not found' % shown(name))
        self.name = name


class ResourceNotFound(InvalidInput):
    """No resource of that name in the stack."""

    def __init__(self, stack_name, resource_name):
        super().__init__('resource "%s" not found in stack "%s"'
                         % (shown(resource_name), shown(stack_name)))
        self.stack_name = stack_name
        self.resource_name = resource_name


class OutputNotFound(InvalidInput):
    """No output of that name in the stack (Heat answers 404)."""

    def __init__(self, stack_name, key):
        super().__init__('stack "%s" has no output "%s"' % (shown(stack_name), shown(key)))
        self.stack_name = stack_name
        self.key = key


class EventNotFound(InvalidInput):
    """No event of that id (of that resource) in the stack."""

    def __init__(self, stack_name, event_id):
        super().__init__('event "%s" not found in stack "%s"'
                         % (shown(event_id), shown(stack_name)))
        self.stack_name = stack_name
        self.event_id = event_id


class StackExists(InvalidInput):
    """A live stack of that name already exists in the project."""

    def __init__(self, name):
        super().__init__('stack "%s" already exists' % shown(name))
        self.name = name


class ActionInProgress(InvalidInput):
    """The stack is busy with another operation and this path cannot redirect it."""

    def __init__(self, name, action, hint=None):
        msg = 'stack "%s" has an operation in progress (%s)' % (shown(name), action)
        if hint:
            msg += '; %s' % hint
        super().__init__(msg)
        self.name = name
        self.action = action


class ServiceUnavailable(EngineError):
    """The service is shutting down and accepts no more operations (nothing was stored)."""

    exit_code = 1


class JobBoardUnavailable(ServiceUnavailable):
    """The job board a distributed operation needs cannot be used ([jobboard] url of an
    unknown scheme, or its server does not answer); nothing was stored. A configuration
    error on the command line (exit 2), 503 from the API."""

    exit_code = 2


class OperationFailed(EngineError):
    """The operation ran and the stack ended FAILED."""

    exit_code = 1
