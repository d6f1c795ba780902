"""Options of the [cloud] group: which OpenStack cloud resource plugins talk to, and how.

The cloud is an entry of a ``clouds.yaml`` (openstacksdk's own configuration format), or the
``OS_*`` environment variables when no entry is named. Retries are the driver's own
(resources/cloud): keystoneauth's method-blind retries are turned off.
"""

from oslo_config import cfg

cloud_opts = [
    cfg.StrOpt('cloud',
               help='The clouds.yaml entry the OpenStack resource plugins (OS::Nova::*, '
                    'OS::Neutron::*, OS::Cinder::*) use. Unset: the OS_* environment '
                    'variables (openstacksdk\'s "envvars" cloud).'),
    cfg.StrOpt('clouds_file',
               help='A clouds.yaml to read instead of openstacksdk\'s search path '
                    '(OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, '
                    '/etc/openstack/clouds.yaml).'),
    cfg.StrOpt('region_name',
               help='The region to use when the clouds.yaml entry does not name one.'),
    cfg.FloatOpt('api_timeout',
                 default=30.0, min=0.1,
                 help='Seconds to wait for one answer from the cloud.'),
    cfg.IntOpt('retries',
               default=5, min=0,
               help='How many times a call is retried after a transient error (a connection '
                    'error, a timeout, or an HTTP 5xx). A create is retried only after a '
                    'lookup by its intent token found nothing.'),
    cfg.FloatOpt('retry_delay',
                 default=0.1, min=0.0,
                 help='Seconds before the first retry; doubled on each further retry.'),
    cfg.FloatOpt('retry_max_delay',
                 default=2.0, min=0.0,
                 help='Longest pause between two retries, in seconds.'),
    cfg.IntOpt('pool_size',
               default=64, min=1,
               help='HTTP connections the shared session keeps per host: concurrent '
                    'resource actions share one connection to the cloud.'),
]


def register_opts(conf):
    """Register the [cloud] options on conf."""
    conf.register_opts(cloud_opts, group='cloud')


def list_opts():
    """Options for oslo-config-generator, by group."""
    return [('cloud', cloud_opts)]
