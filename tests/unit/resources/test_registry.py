import configparser
import pathlib

import pytest

from heat_taskflow.resources import base, registry
from heat_taskflow.resources.exceptions import ResourceTypeNotFound
from heat_taskflow.resources.types import (
    none_resource,
    random_string,
    resource_group,
    stack,
    test_resource,
    value,
    wait_condition,
    wait_condition_handle,
)

BUILT_INS = {
    'OS::Heat::None': none_resource.NoneResource,
    'OS::Heat::TestResource': test_resource.TestResource,
    'OS::Heat::RandomString': random_string.RandomString,
    'OS::Heat::Value': value.Value,
    'OS::Heat::WaitConditionHandle': wait_condition_handle.WaitConditionHandle,
    'OS::Heat::WaitCondition': wait_condition.WaitCondition,
    'OS::Heat::ResourceGroup': resource_group.ResourceGroup,
    'OS::Heat::Stack': stack.Stack,
}


def test_built_ins_load_through_entry_points():
    registry.reset()
    classes = registry.classes()
    for type_name, cls in BUILT_INS.items():
        assert classes[type_name] is cls
        assert registry.get_class(type_name, test_types=False) is cls
        assert cls.type_name == type_name
        assert issubclass(cls, base.Resource)


def test_loaded_once_and_cached(monkeypatch):
    registry.reset()
    calls = []
    real_load = registry._load

    def counting_load():
        calls.append(1)
        return real_load()

    monkeypatch.setattr(registry, '_load', counting_load)
    registry.get_class('OS::Heat::None')
    registry.get_class('OS::Heat::Value')
    assert registry.type_names() == sorted(registry.classes())
    assert len(calls) == 1
    registry.reset()


def test_unknown_type_names_the_type():
    with pytest.raises(ResourceTypeNotFound) as info:
        registry.get_class('OS::Nova::Sever')
    assert info.value.type_name == 'OS::Nova::Sever'
    assert 'unknown resource type "OS::Nova::Sever"' in str(info.value)


def test_entry_point_names_with_colons_survive_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(pathlib.Path(__file__).parents[3] / 'setup.cfg')
    lines = [line.strip() for line in
             cfg['options.entry_points']['heat_taskflow.resources'].splitlines() if line]
    names = {line.split(' = ')[0] for line in lines}
    assert set(BUILT_INS) <= names
