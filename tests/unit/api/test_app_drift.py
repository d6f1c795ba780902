"""GET .../drift (microversion 1.2): the observer's last record of a stack."""

from heat_taskflow.conductors import observer
from heat_taskflow.persistence import api as db
from tests.unit.api.test_app_stacks import BASE, create

V12 = {'OpenStack-API-Version': 'orchestration 1.2'}


def test_drift_is_served_from_1_2_only(call):
    stack_id = create(call).json['stack']['id']
    url = '%s/stacks/s1/%s/drift' % (BASE, stack_id)
    old = call('GET', url)
    assert old.status_int == 404, old.text
    assert old.json['error']['type'] == 'HTTPNotFound'
    new = call('GET', url, headers=V12)
    assert new.status_int == 200, new.text
    assert new.headers['OpenStack-API-Version'] == 'orchestration 1.2'
    assert new.json == {'drift': {'observed_at': None, 'observed_by': None,
                                  'resources': []}}


def test_drift_names_the_drifted_resources_of_the_last_observation(call, service):
    stack_id = create(call).json['stack']['id']
    service.wait('s1')      # legacy operations of this service run in the caller
    row = db.resource_get_by_name(service.database, stack_id, 'first')
    gone = 10 ** 9          # a row id no longer current: not reported
    db.sync_point_create(service.database, stack_id, observer.TRAVERSAL, False, stack_id,
                         input_data={'observed_at': 1767225600.0, 'by': 'conductor-2',
                                     'drift': {str(row.id): 'value changed',
                                               str(gone): 'old'}})
    resp = call('GET', '%s/stacks/s1/%s/drift' % (BASE, stack_id), headers=V12)
    assert resp.status_int == 200, resp.text
    assert resp.json == {'drift': {'observed_at': '2026-01-01T00:00:00Z',
                                   'observed_by': 'conductor-2',
                                   'resources': [{'resource_name': 'first',
                                                  'reason': 'value changed'}]}}


def test_drift_of_another_project_s_stack_is_404(call):
    stack_id = create(call).json['stack']['id']
    other = 'http://api.example:8004/v1/other/stacks/s1/%s/drift' % stack_id
    resp = call('GET', other, headers=V12)
    assert resp.status_int == 404, resp.text
