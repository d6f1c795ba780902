"""Configuration and policy fixtures for the auth tests (import api_conf to use it).

api_conf   a fresh oslo.config ConfigOpts (no config files read) with the process's policy
           enforcer made on it; the enforcer is forgotten after the test.
"""

import pytest
from oslo_config import cfg

from heat_taskflow.api import policy
from heat_taskflow.conf import auth as auth_conf


def make_conf(*config_files):
    """A parsed ConfigOpts reading only config_files, with [api] auth_strategy on it."""
    conf = cfg.ConfigOpts()
    auth_conf.register_opts(conf)
    conf([], project='heat-taskflow', default_config_files=[str(f) for f in config_files])
    return conf


@pytest.fixture
def api_conf():
    conf = make_conf()
    policy.init(conf)
    yield conf
    policy.reset()
