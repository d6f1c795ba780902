"""Custom constraints that ask the cloud: ``custom_constraint: nova.flavor`` and the like.

Each is a function ``check(value)`` that looks the value up, by name or id, in the cloud of
the ``[cloud]`` options (``resources.cloud.connection()``, flavors and images through the
60 s lookup cache of ``common.lookup``) and raises ValueError with a clear message when the
cloud answers that it has no such thing (or several: an ambiguous name), or when the cloud
configuration does not work. A lookup the cloud does not answer (an outage) is retried for
the ``[cloud]`` retry window, as every call is; if the cloud still does not answer, its
``cloud.TransientError`` is raised as is: the value is not known to be wrong, so that is
no validation failure. They are entry points of the
``heat_taskflow.constraints`` group (setup.cfg), read by ``heat_taskflow.template.constraints``
and run wherever a parameter or property declares them: ``template validate`` and the
parameter validation of stack create and update (not on parameter defaults, as in Heat),
and the property validation of a resource's plugin.
"""

from heat_taskflow.resources import cloud
from heat_taskflow.resources.types.openstack import common


def _exists(kind, label):
    def check(value):
        try:
            common.lookup(cloud.connection(), kind, value)
        except cloud.NotFound:
            raise ValueError('the cloud has no %s "%s"' % (label, value)) from None
        except cloud.TransientError:
            # No answer within the retry window: the value is not known to be wrong, so
            # this is not a validation failure; the cloud's outage fails what asked.
            raise
        except cloud.CloudError as exc:
            raise ValueError('cannot look up %s "%s" in the cloud: %s'
                             % (label, value, exc.message)) from exc
        return True
    check.__name__ = kind
    check.__doc__ = 'Raise ValueError unless the cloud has a %s of this name or id.' % label
    return check


flavor = _exists('flavor', 'flavor')
image = _exists('image', 'image')
keypair = _exists('keypair', 'key pair')
server = _exists('server', 'server')
network = _exists('network', 'network')
subnet = _exists('subnet', 'subnet')
port = _exists('port', 'port')
router = _exists('router', 'router')
security_group = _exists('security_group', 'security group')
volume = _exists('volume', 'volume')
volume_type = _exists('volume_type', 'volume type')
