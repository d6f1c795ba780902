"""Secrets at rest through the real command lines (#14, defects 5 and 6): with
[DEFAULT] encrypt_parameters_and_properties, a hidden parameter's value is nowhere in the
SQLite file in clear; key generate, rotate and retire keep every value readable; the wrong
key is a clear error (exit 2), and the state is private (0700 directory, 0600 files)."""

import glob
import os
import sqlite3
import stat

import pytest
import yaml

from tests.functional import cli as cli_mod

pytestmark = pytest.mark.functional

SECRET = 'SeCrEt-xyz-123'
TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'parameters': {'password': {'type': 'string', 'hidden': True}},
    'resources': {
        'random': {'type': 'OS::Heat::RandomString', 'properties': {'length': 16}},
        'kept': {'type': 'OS::Heat::Value',
                 'properties': {'type': 'string', 'value': {'list_join': [
                     ':', [{'get_param': 'password'}, {'get_attr': ['random', 'value']}]]}}},
    },
    'outputs': {'joined': {'value': {'get_attr': ['kept', 'value']}}},
}


def _file_bytes(database):
    data = b''
    for name in glob.glob(str(database) + '*'):
        with open(name, 'rb') as f:
            data += f.read()
    return data


def _rows(database):
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")]
        return [(t, repr(row)) for t in tables for row in conn.execute('SELECT * FROM %s' % t)]


def test_encrypted_state_from_key_generate_to_retire(tmp_path):
    state = tmp_path / 'state'
    database = state / 'heat-taskflow.sqlite'
    key_file = tmp_path / 'keys' / 'heat-taskflow.key'
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nencrypt_parameters_and_properties = true\n'
                      'auth_encryption_key_file = %s\n\n[database]\nconnection = sqlite:///%s\n'
                      % (state, key_file, database))
    (tmp_path / 'secret.yaml').write_text(yaml.safe_dump(TEMPLATE))
    cli = cli_mod.Cli(config, state, cwd=tmp_path)

    # On, but no key: refused at start, clearly, nothing stored.
    refused = cli('stack', 'list', expect=2)
    assert 'key generate' in refused.stderr and 'Traceback' not in refused.stderr
    made = cli.manage('key', 'generate')
    assert str(key_file) in made.stdout
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    cli.manage('key', 'generate', expect=2)        # never overwrites a key

    created = cli.json('stack', 'create', 'enc', '-t', 'secret.yaml',
                       '--parameter', 'password=%s' % SECRET, '--wait')
    assert created['stack_status'] == 'CREATE_COMPLETE', created
    joined = cli.json('stack', 'output', 'show', 'enc', 'joined')['output_value']
    assert joined.startswith(SECRET + ':')
    random_value = joined.split(':', 1)[1]

    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    for name in glob.glob(str(database) + '*'):
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    for needle in (SECRET, random_value):
        assert needle.encode() not in _file_bytes(database)
        assert [t for t, row in _rows(database) if needle in row] == []

    rotated = cli.manage('key', 'rotate', '--batch-size', '3')
    assert 'added a new key' in rotated.stdout
    assert len([k for k in key_file.read_text().splitlines()
                if k and not k.startswith('#')]) == 2
    again = cli.manage('key', 'rotate')             # resumes: nothing left to do
    assert 'added a new key' not in again.stdout and ' 0 row' in again.stdout
    assert cli.json('stack', 'output', 'show', 'enc', 'joined')['output_value'] == joined
    cli.manage('key', 'retire')
    assert cli.json('stack', 'output', 'show', 'enc', 'joined')['output_value'] == joined
    assert SECRET.encode() not in _file_bytes(database)

    # Another key: a clear error, exit 2, no traceback.
    key_file.unlink()
    cli.manage('key', 'generate')
    wrong = cli('stack', 'output', 'show', 'enc', 'joined', expect=2)
    assert 'encrypted with a key not in %s' % key_file in wrong.stderr, wrong
    assert 'Traceback' not in wrong.stderr
