"""The client API resource plugins call, and the errors it raises (one hierarchy)."""

import abc


class CloudError(Exception):
    """The cloud refused or failed a request; ``status`` and ``code`` say how."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class BadRequest(CloudError):
    """The request is wrong (HTTP 400)."""


class NotFound(CloudError):
    """The object does not exist (HTTP 404)."""


class Conflict(CloudError):
    """The object is in use or in the wrong state (HTTP 409)."""


class QuotaExceeded(CloudError):
    """A quota would be exceeded (HTTP 403/413)."""


class TransientError(CloudError):
    """A failure worth retrying: no answer, a timeout, or an HTTP 5xx."""


class CloudClient(abc.ABC):
    """Objects of a cloud by collection (``servers``, ``networks``, ``volumes``, ...).

    Every method retries transient errors itself, within the configured bounds.
    """

    @abc.abstractmethod
    def create(self, kind, body, token):
        """Create an object; ``token`` makes it idempotent: a retry or a re-run with the
        same token gets the object the first call made. Returns the object."""

    @abc.abstractmethod
    def get(self, kind, obj_id):
        """The object; NotFound when it does not exist."""

    @abc.abstractmethod
    def list(self, kind, **filters):
        """Objects of a kind whose fields equal the filters (``token=`` and ``name=`` too)."""

    @abc.abstractmethod
    def update(self, kind, obj_id, fields):
        """Change fields of an object; returns the object."""

    @abc.abstractmethod
    def delete(self, kind, obj_id):
        """Delete an object; returns False when it was already gone."""

    def find(self, kind, **filters):
        """The one object matching filters, or None; Conflict when there are several."""
        found = self.list(kind, **filters)
        if len(found) > 1:
            raise Conflict('%d %s match %s' % (len(found), kind, filters), 409,
                           'MultipleMatches')
        return found[0] if found else None

    def get_or_none(self, kind, obj_id):
        """The object, or None when it does not exist."""
        try:
            return self.get(kind, obj_id)
        except NotFound:
            return None

    def resolve(self, kind, name_or_id):
        """The id of the object named or identified by ``name_or_id`` (NotFound if none)."""
        obj = self.get_or_none(kind, name_or_id)
        if obj is None:
            obj = self.find(kind, name=name_or_id)
        if obj is None:
            raise NotFound('%s "%s" could not be found' % (kind, name_or_id), 404,
                           'NotFound')
        return obj['id']
