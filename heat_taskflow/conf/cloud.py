"""Options of the [cloud] group: which cloud resource plugins talk to, and how."""

from oslo_config import cfg

cloud_opts = [
    cfg.StrOpt('driver',
               default='simcloud',
               help='Cloud driver the OpenStack resource plugins (OS::Nova::*, '
                    'OS::Neutron::*, OS::Cinder::*) call: the name of an entry point of '
                    'the heat_taskflow.cloud_drivers group (simcloud is built in).'),
    cfg.StrOpt('url',
               default='http://127.0.0.1:8786',
               help='Base URL of the cloud API (for simcloud: what heat-taskflow-simcloud '
                    'prints when it is ready).'),
    cfg.FloatOpt('timeout',
                 default=30.0, min=0.1,
                 help='Seconds to wait for one answer from the cloud.'),
    cfg.IntOpt('retries',
               default=5, min=0,
               help='How many times a call is retried after a transient error (a connection '
                    'error, a timeout, or an HTTP 5xx); creates are safe to retry because '
                    'they carry an idempotency token.'),
    cfg.FloatOpt('retry_delay',
                 default=0.1, min=0.0,
                 help='Seconds before the first retry; doubled on each further retry.'),
    cfg.FloatOpt('retry_max_delay',
                 default=2.0, min=0.0,
                 help='Longest pause between two retries, in seconds.'),
]


def register_opts(conf):
    """Register the [cloud] options on conf."""
    conf.register_opts(cloud_opts, group='cloud')


def list_opts():
    """Options for oslo-config-generator, by group."""
    return [('cloud', cloud_opts)]
