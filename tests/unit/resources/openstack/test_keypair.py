"""OS::Nova::KeyPair against the simulator: generated or given keys, the name as token."""

import uuid

import pytest

from heat_taskflow.resources.exceptions import ResourceFailure
from heat_taskflow.resources.types.openstack.keypair import generate_ssh_key
from tests.unit.resources.openstack.conftest import (
    create,
    creations,
    delete,
    new_ctx,
    plugin,
    token_prefix,
)


def _name(ctx):
    # Named after the stack's token prefix, so the audit finds it by that prefix.
    return '%s-key' % token_prefix(ctx)


def test_generated_key_saved_and_attributes(client, conn):
    ctx = new_ctx()
    key = create('OS::Nova::KeyPair', {'name': _name(ctx), 'save_private_key': True}, ctx)
    assert key.physical_id == _name(ctx) == key.get_reference_id()
    remote = conn.compute.get_keypair(key.physical_id)
    assert key.get_attribute('public_key') == remote.public_key
    assert key.get_attribute('private_key').startswith('-----BEGIN RSA PRIVATE KEY-----')
    key.handle_check()
    delete(key)
    assert conn.compute.find_keypair(key.physical_id, ignore_missing=True) is None
    delete(key)   # gone already


def test_given_public_key_and_no_private_key_kept(conn):
    public = generate_ssh_key()['public_key']
    name = 'k-%s' % uuid.uuid4().hex[:8]
    key = create('OS::Nova::KeyPair', {'name': name, 'public_key': public})
    assert conn.compute.get_keypair(name).public_key == public
    assert key.get_attribute('private_key') == ''
    assert 'generated_key' not in key.ctx.data
    delete(key)


def test_a_lost_create_answer_is_adopted_with_its_private_key(client, conn):
    client.faults(**{'keypairs.create': {'fail_next': 1, 'failure_mode': 'after'}})
    from heat_taskflow.conf import CONF
    CONF.set_override('retries', 0, group='cloud')
    ctx = new_ctx()
    props = {'name': _name(ctx), 'save_private_key': True}
    with pytest.raises(ResourceFailure, match='create of key pair failed'):
        plugin('OS::Nova::KeyPair', props, ctx).handle_create()
    key = create('OS::Nova::KeyPair', props, ctx)
    assert len(creations(client, ctx, 'keypairs')) == 1
    # The private key was made and recorded here before the create: it is not lost.
    assert key.get_attribute('private_key').startswith('-----BEGIN')
    delete(key)


def test_a_name_in_use_is_a_conflict_with_the_clouds_message(conn):
    name = 'k-%s' % uuid.uuid4().hex[:8]
    first = create('OS::Nova::KeyPair', {'name': name})
    with pytest.raises(ResourceFailure, match='already exists'):
        plugin('OS::Nova::KeyPair', {'name': name}, new_ctx()).handle_create()
    delete(first)
