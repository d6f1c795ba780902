"""A drift check that meets a cloud outage is no drift (flows/actions.py drift): before an
update, a resource marked drifted is replaced, so an outage taken for drift would have a
cloud that did not answer for a while cost a delete and a create of a resource that is fine.
"""

import types

import pytest

from heat_taskflow.flows import actions
from heat_taskflow.resources import exceptions as res_exc
from heat_taskflow.resources.cloud import base as cloud_base


@pytest.fixture
def check_raises(monkeypatch):
    """drift() on a row whose plugin's drift check raises the error given."""
    runtime = types.SimpleNamespace(files={}, stack=types.SimpleNamespace(name='s'))
    row = types.SimpleNamespace(name='net', type='OS::Neutron::Net', properties_data={})
    monkeypatch.setattr(actions, 'plugin_class', lambda *args, **kwargs: object)
    monkeypatch.setattr(actions, '_plugin', lambda *args: object())

    def drift(error):
        def observe(plugin, mark):
            raise error
        monkeypatch.setattr(actions, '_observe', observe)
        return actions.drift(runtime, row, mark=True)

    return drift


def test_a_cloud_that_does_not_answer_is_no_drift(check_raises):
    outage = cloud_base.TransientError('GET /v2.0/networks/x: no answer from the cloud')
    assert check_raises(outage) is None


def test_a_check_that_found_drift_or_broke_still_reports_it(check_raises):
    assert check_raises(res_exc.ResourceCheckFailed('net', 'gone')) == 'gone'
    assert check_raises(cloud_base.CloudError('403 Forbidden')) == '403 Forbidden'
