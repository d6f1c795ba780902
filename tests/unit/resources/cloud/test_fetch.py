"""Tests for heat_taskflow.resources.cloud: drivers are entry points, chosen by name."""

import pytest
from oslo_config import cfg

from heat_taskflow.conf import cloud as cloud_opts
from heat_taskflow.resources import cloud
from heat_taskflow.resources.cloud.simcloud import SimCloudClient


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    cloud_opts.register_opts(conf)
    conf([])
    cloud.reset()
    yield conf
    cloud.reset()


def test_the_built_in_driver_is_an_entry_point():
    assert 'simcloud' in cloud.driver_names()
    assert cloud.driver_class('simcloud') is SimCloudClient


def test_fetch_builds_one_client_per_settings(conf):
    client = cloud.fetch(conf)
    assert isinstance(client, SimCloudClient)
    assert cloud.fetch(conf) is client


def test_an_unknown_driver_names_the_installed_ones(conf):
    conf.set_override('driver', 'nope', group='cloud')
    with pytest.raises(ValueError, match=r'unknown \[cloud\] driver "nope"; drivers: .*simcloud'):
        cloud.fetch(conf)
