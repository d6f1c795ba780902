"""OS::Heat::CloudConfig: the cloud-config text, recorded once, is the reference id too."""

import yaml

from heat_taskflow.resources.types.openstack.cloud_config import CloudConfig
from tests.unit.resources import fakes

CLOUD_CONFIG = {'users': [{'name': 'stack', 'sudo': 'ALL=(ALL) NOPASSWD:ALL'}],
                'packages': ['git'], 'runcmd': [['echo', 'hi']]}


def _created(ctx=None):
    res = CloudConfig('cc', {'cloud_config': CLOUD_CONFIG}, ctx or fakes.FakeContext('cc'))
    res.validate()
    res.handle_create()
    return res


def test_config_is_cloud_config_yaml_and_the_reference_id():
    res = _created()
    config = res.get_attribute('config')
    assert config.startswith('#cloud-config\n')
    assert yaml.safe_load(config) == CLOUD_CONFIG
    assert res.get_reference_id() == config
    assert res.physical_id is not None and res.physical_id != config


def test_a_re_run_keeps_the_recorded_config_and_id():
    ctx = fakes.FakeContext('cc')
    first = _created(ctx)
    again = CloudConfig('cc', {'cloud_config': {'changed': True}}, ctx,
                        physical_id=first.physical_id)
    again.handle_create()
    assert again.physical_id == first.physical_id
    assert again.get_reference_id() == first.get_reference_id()


def test_before_create_the_reference_is_the_name_and_any_change_replaces():
    res = CloudConfig('cc', {'cloud_config': CLOUD_CONFIG}, fakes.FakeContext('cc'))
    assert res.get_reference_id() == 'cc'
    assert res.update_requires_replacement({'cloud_config': {'packages': []}})
    assert not res.update_requires_replacement({'cloud_config': CLOUD_CONFIG})
