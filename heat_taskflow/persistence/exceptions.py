"""Errors the persistence layer raises: one hierarchy, rooted at PersistenceError.

Reads of a missing row return None rather than raising; NotFound is for writes that name a
missing parent (an event for a stack that is gone).
"""


class PersistenceError(Exception):
    """Base of every error raised by heat_taskflow.persistence."""


class NotFound(PersistenceError):
    """No row matches what was asked for."""

    what = 'row'

    def __init__(self, ident):
        super().__init__('%s %s not found' % (self.what, ident))
        self.ident = ident


class StackNotFound(NotFound):
    """No stack with that id, or no live stack of that name in the project."""

    what = 'stack'


class ResourceNotFound(NotFound):
    """No resource with that id, or no current resource of that name in the stack."""

    what = 'resource'


class Conflict(PersistenceError):
    """The write would break a uniqueness or reference constraint."""


class StackExists(Conflict):
    """A live stack of that name already exists in the project."""

    def __init__(self, name, project_id=None):
        where = ' in project %s' % project_id if project_id is not None else ''
        super().__init__('stack "%s" already exists%s' % (name, where))
        self.name = name
        self.project_id = project_id


class SyncPointExists(Conflict):
    """A sync point with that (entity_id, traversal_id, is_update) already exists."""

    def __init__(self, key):
        super().__init__('sync point %s already exists' % (key,))
        self.key = key


class MissingReference(Conflict):
    """A row refers to another that does not exist (a foreign key failed)."""


class InvalidValues(PersistenceError):
    """An update named a column that does not exist or may not be set that way."""


class MigrationError(PersistenceError):
    """The schema could not be brought up to date."""
