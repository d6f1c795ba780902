"""OS::Nova::ServerGroup against the simulator: the physical name as token, policies."""

import pytest

from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure
from tests.unit.resources.openstack.conftest import (
    create,
    creations,
    delete,
    new_ctx,
    plugin,
    token_prefix,
)


def test_create_check_and_delete(client, conn):
    group = create('OS::Nova::ServerGroup', {'policies': ['affinity']})
    remote = conn.compute.get_server_group(group.physical_id)
    assert remote.name == group.physical_resource_name()
    assert remote.policy == 'affinity'
    group.handle_check()
    assert group.update_requires_replacement({'policies': ['anti-affinity']})
    client.admin('DELETE', 'server_groups/%s' % group.physical_id)
    with pytest.raises(ResourceCheckFailed, match='no longer exists'):
        group.handle_check()
    delete(group)   # gone already


def test_a_lost_create_answer_is_adopted_by_name_and_policy(client, conn):
    client.faults(**{'server_groups.create': {'fail_next': 1, 'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    ctx = new_ctx()
    props = {'name': '%s-group' % token_prefix(ctx)}
    with pytest.raises(ResourceFailure, match='create of server group failed'):
        plugin('OS::Nova::ServerGroup', props, ctx).handle_create()
    group = create('OS::Nova::ServerGroup', props, ctx)
    assert [e['id'] for e in creations(client, ctx, 'server_groups')] == [group.physical_id]
    delete(group)
