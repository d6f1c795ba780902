"""The simulator's admin API (faults, quotas, calls, drift, audit) over the OpenStack routes."""

import pytest

from heat_taskflow.simcloud import api as api_mod
from heat_taskflow.simcloud import identity, storage
from heat_taskflow.simcloud import server as server_mod
from tests.unit.simcloud.conftest import Api


def _volume(api, **fields):
    return api('POST', api.volumes, {'volume': dict({'size': 1}, **fields)})


def test_fail_next_fails_exactly_that_many_calls_before_acting(api):
    api('PUT', '/admin/faults', {'volumes.create': {'fail_next': 2}})
    results = [_volume(api)[0] for _ in range(3)]
    assert results == [503, 503, 202]
    assert len(api('GET', api.volumes)[1]['volumes']) == 1
    assert api('GET', '/admin/calls')[1]['volumes.create'] == 3


def test_failure_after_acting_loses_the_response_but_keeps_the_object(api):
    api('PUT', '/admin/faults', {'volumes.create': {
        'fail_next': 1, 'failure_mode': 'after', 'failure_status': 502}})
    status, payload, _ = _volume(api, metadata={'heat_taskflow_token': 'htf-v'})
    assert status == 502 and 'injected failure of volumes.create' in \
        payload['computeFault']['message']
    found = api('GET', api.volumes + '/detail?metadata={"heat_taskflow_token":"htf-v"}')[1]
    assert [c['id'] for c in api('GET', '/admin/audit?kind=volumes')[1]['creations']] == \
        [v['id'] for v in found['volumes']]


def test_failure_rate_one_fails_every_call_of_the_kind_only(api):
    api('PUT', '/admin/faults', {'volumes.*': {'failure_rate': 1.0}})
    assert api('GET', api.volumes)[0] == 503
    assert api('GET', '/compute/v2.1/os-keypairs')[0] == 200
    api('DELETE', '/admin/faults')
    assert api('GET', api.volumes)[0] == 200


def test_bad_behaviour_settings_are_refused(api):
    assert api('PUT', '/admin/faults', {'servers.boot': {}})[0] == 400
    assert api('PUT', '/admin/faults', {'servers.create': {'failure_rate': 2}})[0] == 400
    assert api('PUT', '/admin/faults', {'*': {'speed': 1}})[0] == 400
    assert api('PUT', '/admin/faults', {'nothing.create': {}})[0] == 400


def test_latency_is_slept_before_acting():
    slept = []
    cloud = api_mod.Cloud(storage.Store(':memory:'), defaults={'latency': 0.25},
                          sleep=slept.append)
    cloud.handle('PUT', '/admin/faults', body={'keypairs.create': {'latency': 1.5}})
    token = cloud.tokens.issue(identity.USERS['demo'], identity.PROJECTS['demo'],
                               ['password'])
    status, _, _ = cloud.handle('POST', '/compute/v2.1/os-keypairs', body={
        'keypair': {'name': 'k'}}, headers={'X-Auth-Token': token})
    assert status == 200
    cloud.handle('GET', '/compute/v2.1/os-keypairs', headers={'X-Auth-Token': token})
    assert slept == [1.5, 0.25]


def test_quota_limits_how_many_objects_of_a_kind_exist(api):
    api('PUT', '/admin/quotas', {'volumes': 2})
    assert [_volume(api)[0] for _ in range(3)] == [202, 202, 413]
    quotas = api('GET', '/admin/quotas')[1]
    assert quotas['quotas'] == {'volumes': 2} and quotas['usage']['volumes'] == 2
    assert api('PUT', '/admin/quotas', {'gizmos': 1})[0] == 400


def test_each_service_refuses_past_its_quota_as_the_real_one_does(api):
    """Nova 403, Neutron 409 OverQuota, Cinder 413 VolumeLimitExceeded."""
    api('PUT', '/admin/quotas', {'keypairs': 0, 'networks': 0, 'volumes': 0})
    status, body, _ = api('POST', '/compute/v2.1/os-keypairs', {'keypair': {'name': 'k'}})
    assert status == 403 and 'Quota exceeded' in body['forbidden']['message']
    status, body, _ = api('POST', '/network/v2.0/networks', {'network': {'name': 'n'}})
    assert status == 409 and body['NeutronError']['type'] == 'OverQuota'
    assert body['NeutronError']['message'] == "Quota exceeded for resources: ['network']."
    status, body, _ = _volume(api)
    assert status == 413
    assert body['overLimit']['message'] == \
        "Maximum number of volumes allowed (0) exceeded for quota 'volumes'."


def test_drift_changes_and_deletes_behind_the_engines_back(api):
    volume = _volume(api, name='v', metadata={'heat_taskflow_token': 'htf-stack-1'})[1]
    path = '/admin/volumes/%s' % volume['volume']['id']
    status, body, _ = api('PATCH', path, {'name': 'changed', 'status': 'error'})
    assert status == 200 and body['name'] == 'changed'
    shown = api('GET', '%s/%s' % (api.volumes, body['id']))[1]['volume']
    assert (shown['name'], shown['status']) == ('changed', 'error')
    assert api('DELETE', path)[0] == 204
    assert api('GET', '%s/%s' % (api.volumes, body['id']))[0] == 404
    creation, = api('GET', '/admin/audit?token_prefix=htf-stack-')[1]['creations']
    assert creation['deleted_by'] == 'admin' and creation['kind'] == 'volumes'


def test_audit_counts_duplicate_tokens_and_live_objects(api):
    first = _volume(api, metadata={'heat_taskflow_token': 'htf-dup'})[1]['volume']
    api('DELETE', '%s/%s' % (api.volumes, first['id']))
    _volume(api, description='htf-dup')  # the token in a description counts too
    _volume(api)
    api('POST', '/compute/v2.1/os-keypairs', {'keypair': {'name': 'k1'}})
    summary = api('GET', '/admin/audit?kind=volumes')[1]['summary']
    assert summary == {'creations': 3, 'live': 2, 'tokens': 1, 'untokened': 1,
                       'duplicate_tokens': {'htf-dup': 2}}
    kinds = api('GET', '/admin/audit?kind=keypairs')[1]['creations']
    assert [(c['kind'], c['token']) for c in kinds] == [('keypairs', 'k1')]


def test_state_and_tokens_survive_a_restart(db_path):
    first = server_mod.SimCloudServer(db_path=db_path).start()
    try:
        api = Api(first.url)
        volume = _volume(api, name='kept')[1]['volume']
    finally:
        first.stop()
    second = server_mod.SimCloudServer(db_path=db_path).start()
    try:
        api.port = second.server_address[1]
        assert api('GET', '%s/%s' % (api.volumes, volume['id']))[1]['volume']['name'] == \
            'kept'
    finally:
        second.stop()


@pytest.mark.parametrize('body', [None, [1, 2], {'volume': 'big'}])
def test_create_needs_a_json_object(api, body):
    status, payload, _ = api('POST', api.volumes, body)
    assert status == 400 and payload['badRequest']['code'] == 400


def test_unknown_paths_answer_404_in_the_services_format(api):
    assert api('GET', '/compute/v2.1/gizmos')[1]['itemNotFound']['code'] == 404
    assert api('GET', '/nowhere')[0] == 404
    assert api('GET', '/admin/gizmos/1')[0] == 404
    assert api('DELETE', '/compute/v2.1/flavors')[0] == 405
    assert api('GET', '/healthz')[1] == {'status': 'ok'}
