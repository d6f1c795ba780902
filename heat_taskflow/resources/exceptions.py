"""The exceptions of the resources layer; each names the resource at fault."""

from heat_taskflow.template.errors import format_path


class ResourceError(Exception):
    """Something is wrong with one resource; ``str()`` starts with ``resource 'NAME'``."""

    def __init__(self, resource_name, message):
        super().__init__(resource_name, message)
        self.resource_name = resource_name
        self.message = message

    def __str__(self):
        if self.resource_name is None:
            return self.message
        return "resource '%s': %s" % (self.resource_name, self.message)


class ServiceUnavailable(Exception):
    """A service the resource's real thing lives in did not answer (an outage: no answer,
    a timeout, a 5xx), as opposed to an answer. Not a verdict on the resource: the engine
    never takes it for drift. The cloud driver's TransientError is one."""


class ResourceFailure(ResourceError):
    """An action (create, update, delete, ...) on the real thing failed."""

    def __init__(self, resource_name, message, action=None):
        super().__init__(resource_name, message)
        self.action = action


class ResourceCheckFailed(ResourceError):
    """``handle_check`` found that reality has drifted from what was recorded."""

    @property
    def reason(self):
        """Why the check failed."""
        return self.message


class InvalidProperties(ResourceError):
    """A property value does not fit the resource type's properties schema.

    ``path`` is the tuple of keys and list indexes from the property name down to the
    value at fault, e.g. ``('networks', 0, 'port')``.
    """

    def __init__(self, resource_name, path, message):
        self.path = tuple(path)
        super().__init__(resource_name, message)

    def __str__(self):
        where = "property '%s': %s" % (format_path(self.path), self.message) if self.path \
            else self.message
        if self.resource_name is None:
            return where
        return "resource '%s': %s" % (self.resource_name, where)


class InvalidAttribute(ResourceError):
    """An attribute that the resource type does not have was asked for."""


class ResourceTypeNotFound(ResourceError):
    """No plugin is registered for a resource type name."""

    def __init__(self, type_name, resource_name=None):
        self.type_name = type_name
        super().__init__(resource_name, 'unknown resource type "%s"' % type_name)


