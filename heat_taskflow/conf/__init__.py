"""Configuration options (oslo.config), registered on the global CONF object."""

from oslo_config import cfg

from heat_taskflow.conf import auth, cloud, opts

CONF = cfg.CONF
opts.register_opts(CONF)
cloud.register_opts(CONF)
auth.register_opts(CONF)
