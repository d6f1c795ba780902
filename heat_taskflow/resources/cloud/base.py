"""The errors the cloud driver raises: one hierarchy, whatever the service or library said.

``resources.cloud.translate`` maps openstacksdk and keystoneauth exceptions onto these;
plugins catch these only.
"""

from heat_taskflow.resources import exceptions as res_exc


class CloudError(Exception):
    """The cloud refused or failed a request; ``status`` and ``code`` say how."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class ConfigurationError(CloudError):
    """No usable cloud configuration ([cloud] cloud, clouds_file, OS_* variables)."""


class BadRequest(CloudError):
    """The request is wrong (HTTP 400)."""


class Forbidden(CloudError):
    """The credential may not do this (HTTP 403 that is not a quota: a policy refusal)."""


class NotFound(CloudError):
    """The object does not exist (HTTP 404)."""


class Conflict(CloudError):
    """The object is in use or in the wrong state (HTTP 409)."""


class QuotaExceeded(CloudError):
    """A quota would be exceeded (HTTP 413, or a 403 or 409 whose message names a quota:
    Nova's 403, Neutron's OverQuota 409)."""


class TransientError(CloudError, res_exc.ServiceUnavailable):
    """A failure worth retrying: no answer, a timeout, or an HTTP 5xx."""
