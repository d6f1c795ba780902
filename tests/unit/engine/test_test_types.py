"""Test-only resource types are off unless [DEFAULT] enable_test_resource_types is set
(issue #14, defect 7); tests/conftest.py sets it for the suite, these tests unset it."""

import pytest

from heat_taskflow.persistence import api as db
from heat_taskflow.template.errors import TemplateError
from tests.unit.engine.helpers import res, sqlite_only, tmpl

pytestmark = sqlite_only


@pytest.fixture
def disabled(conf):
    conf.set_override('enable_test_resource_types', False)


def test_ledger_is_an_unknown_type_by_default(service, disabled, tmp_path):
    target = tmp_path / 'written-by-a-template'
    text = tmpl({'l': {'type': 'OS::Heat::TestLedger', 'properties': {'ledger': str(target)}}})
    with pytest.raises(TemplateError) as info:
        service.create_stack('s', text, 't.yaml')
    assert 'unknown resource type "OS::Heat::TestLedger"' in str(info.value)
    assert str(info.value).startswith('t.yaml:')
    assert not target.exists()
    assert db.stack_list(service.database, None) == []


def test_endless_wait_is_refused_by_default(service, disabled):
    with pytest.raises(TemplateError) as info:
        service.create_stack('s', tmpl({'a': res('1', action_wait_secs={'delete': -1})}),
                             't.yaml')
    assert 'resources.a.properties.action_wait_secs.delete' in str(info.value)
    assert 'enable_test_resource_types' in str(info.value)
    assert db.stack_list(service.database, None) == []


def test_plain_test_resource_stays_available(service, disabled):
    view = service.create_stack('s', tmpl({'a': res('1', wait_secs=0)}), 't.yaml')
    assert view['stack_status'] == 'CREATE_COMPLETE'


def test_a_stored_test_type_stays_deletable_once_disabled(service, conf, tmp_path):
    ledger = str(tmp_path / 'ledger')
    text = tmpl({'l': {'type': 'OS::Heat::TestLedger', 'properties': {'ledger': ledger}}})
    assert service.create_stack('s', text, 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    conf.set_override('enable_test_resource_types', False)
    assert service.delete_stack('s')['stack_status'] == 'DELETE_COMPLETE'


def test_a_ledger_stack_deletes_after_its_ledger_directory_is_gone(service, tmp_path):
    where = tmp_path / 'gone'
    where.mkdir()
    ledger = where / 'ledger'
    text = tmpl({'l': {'type': 'OS::Heat::TestLedger', 'properties': {'ledger': str(ledger)}}})
    assert service.create_stack('s', text, 't.yaml')['stack_status'] == 'CREATE_COMPLETE'
    ledger.unlink()
    where.rmdir()
    assert service.delete_stack('s')['stack_status'] == 'DELETE_COMPLETE'
    assert not where.exists()
