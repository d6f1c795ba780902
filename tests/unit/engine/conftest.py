"""Fixtures for engine tests: a StackService on each database backend."""

import pytest
from oslo_config import cfg

from heat_taskflow.conf import opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod


@pytest.fixture
def conf(tmp_path):
    """A private ConfigOpts with every heat-taskflow option at its default."""
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(tmp_path))
    return conf


@pytest.fixture
def service(conf, database):
    """A StackService on the test database, with its own thread pools."""
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    try:
        yield service_mod.StackService(conf, database=database, executors=executors)
    finally:
        executors.shutdown()
