"""Secrets at rest (#14, defects 4-6): encryption of stored values, key rotation, no bound
parameters in error messages, private file modes."""

import glob
import os
import stat

import pytest
import sqlalchemy as sa
import yaml
from oslo_config import cfg

from heat_taskflow.conf import opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.persistence import api, crypto, models
from heat_taskflow.persistence.database import Database
from heat_taskflow.template import Environment
from heat_taskflow.template.errors import TemplateError
from tests.unit.engine import helpers

SECRET = 'SeCrEt-xyz-123'

CHILD = yaml.safe_dump({
    'heat_template_version': '2018-08-31',
    # Not hidden in the child: the parent's hidden value arrives as a plain parameter.
    'parameters': {'inner': {'type': 'string'}},
    'resources': {'kept': {'type': 'OS::Heat::TestResource',
                           'properties': {'value': {'get_param': 'inner'}}}},
    'outputs': {'inner_out': {'value': {'get_attr': ['kept', 'output']}}},
})

TEMPLATE = yaml.safe_dump({
    'heat_template_version': '2018-08-31',
    'parameters': {'password': {'type': 'string', 'hidden': True}},
    'resources': {
        'holder': {'type': 'OS::Heat::TestResource',
                   'properties': {'value': {'get_param': 'password'}}},
        'child': {'type': 'OS::Heat::Stack',
                  'properties': {'template': CHILD,
                                 'parameters': {'inner': {'get_param': 'password'}}}},
    },
    'outputs': {'echo': {'value': {'get_attr': ['holder', 'output']}},
                'nested': {'value': {'get_attr': ['child', 'outputs', 'inner_out']}}},
})


def make_conf(tmp_path, encrypt=True, key_file=None):
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(tmp_path))
    conf.set_override('encrypt_parameters_and_properties', encrypt)
    if key_file is not None:
        conf.set_override('auth_encryption_key_file', str(key_file))
    return conf


def new_key_file(path, keys=None):
    crypto.write_key_file(str(path), keys or [crypto.generate_key()])
    return path


def dump_all_tables(db):
    """Every row of every table (TaskFlow's and alembic's too) as raw driver text."""
    out = []
    with db.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.exec_driver_sql('SELECT * FROM %s' % table):
                out.append((table, repr(tuple(row))))
    return out


def raw_file_bytes(url):
    path = sa.engine.make_url(url).database
    data = b''
    for name in glob.glob(path + '*'):
        with open(name, 'rb') as f:
            data += f.read()
    return data


# -- the cipher and its key file -----------------------------------------------------------

def test_key_file_is_written_0600_and_round_trips(tmp_path):
    path = new_key_file(tmp_path / 'keys' / 'k.key')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keys = crypto.read_key_file(str(path))
    cipher = crypto.Cipher(keys)
    token = cipher.encrypt('{"a":1}')
    assert token.startswith(crypto.PREFIX) and '"a"' not in token
    assert cipher.decrypt(token) == '{"a":1}'
    assert cipher.decrypt('{"clear":true}') == '{"clear":true}'
    with pytest.raises(crypto.EncryptionConfigError, match='not overwriting'):
        new_key_file(path)


def test_tampered_value_and_wrong_key_are_refused_clearly(tmp_path):
    one, other = crypto.Cipher([crypto.generate_key()]), crypto.Cipher(
        [crypto.generate_key()], source='/etc/other.key')
    token = one.encrypt('"x"')
    with pytest.raises(crypto.DecryptionError, match='key not in /etc/other.key'):
        other.decrypt(token)
    tampered = token[:-4] + ('AAAA' if not token.endswith('AAAA') else 'BBBB')
    with pytest.raises(crypto.DecryptionError):
        one.decrypt(tampered)


@pytest.mark.parametrize('content, message', [
    ('', 'holds no key'),
    ('not-a-key\n', 'not a Fernet key'),
])
def test_bad_key_files_are_configuration_errors(tmp_path, content, message):
    path = tmp_path / 'k.key'
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(crypto.EncryptionConfigError, match=message):
        crypto.from_conf(make_conf(tmp_path, key_file=path))


def test_encryption_on_without_a_key_refuses_to_start(tmp_path):
    conf = make_conf(tmp_path, key_file=tmp_path / 'missing.key')
    with pytest.raises(crypto.EncryptionConfigError, match='key generate'):
        Database.from_conf(conf)
    assert isinstance(crypto.EncryptionConfigError('x'), cfg.Error)   # exit 2 everywhere


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = new_key_file(tmp_path / 'k.key')
    path.chmod(0o644)
    with pytest.raises(crypto.EncryptionConfigError, match='chmod 600'):
        crypto.from_conf(make_conf(tmp_path, key_file=path))


def test_encryption_off_writes_clear_and_still_reads_encrypted(tmp_path):
    path = new_key_file(tmp_path / 'k.key')
    assert crypto.from_conf(make_conf(tmp_path, encrypt=False,
                                      key_file=tmp_path / 'none.key')) is None
    cipher = crypto.from_conf(make_conf(tmp_path, encrypt=False, key_file=path))
    assert cipher is not None and not cipher.encrypt_values
    assert cipher.seal('"v"') == '"v"'


def test_user_encrypted_param_names_is_refused():
    with pytest.raises(TemplateError, match='written by the engine'):
        Environment.from_dict({'encrypted_param_names': ['password']})
    Environment.from_dict({'encrypted_param_names': []})    # nothing claimed: harmless


# -- through the engine ----------------------------------------------------------------------

def _service(conf, database):
    executors = legacy.ExecutorPool(4)
    return service_mod.StackService(conf, database=database, executors=executors), executors


@pytest.fixture
def encrypted(db_url, tmp_path):
    key_file = new_key_file(tmp_path / 'k.key')
    conf = make_conf(tmp_path, key_file=key_file)
    db = Database(db_url, cipher=crypto.from_conf(conf))
    db.sync()
    try:
        yield conf, db, key_file
    finally:
        with db.engine.begin() as conn:
            for table in reversed(models.Base.metadata.sorted_tables):
                conn.execute(table.delete())
        db.dispose()


@pytest.mark.parametrize('path', ['legacy', 'distributed'])
def test_hidden_value_is_nowhere_in_clear_and_rotation_keeps_it_readable(
        encrypted, db_url, tmp_path, path):
    conf, db, key_file = encrypted
    # The distributed path: TaskFlow logbooks, job details and sync points are scanned too.
    with helpers.paths_on(path, conf, db) as service:
        view = service.create('enc', TEMPLATE, 'enc.yaml', parameters={'password': SECRET})
        assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
        outputs = {o['output_key']: o['output_value'] for o in view['outputs']}
        assert outputs == {'echo': SECRET, 'nested': SECRET}
        assert service.show_output('enc', 'echo')['output_value'] == SECRET
        if path == 'distributed':
            board_text = repr([(job.name, job.details) for job in
                               service.distributed.board().board.iterjobs()])
            assert SECRET not in board_text
    db.engine.dispose()   # checkpoints the WAL into the file

    rows = dump_all_tables(db)
    assert rows, 'nothing stored?'
    leaked = [table for table, text in rows if SECRET in text]
    assert leaked == []
    raw = [text for table, text in rows if table == 'raw_template']
    assert all(crypto.PREFIX in text for text in raw)
    if db.dialect == 'sqlite':
        assert SECRET.encode() not in raw_file_bytes(db_url)
    env = api.raw_template_get(db, api.stack_get_by_name(db, 'enc', 'default')
                               .raw_template_id).environment
    assert env['encrypted_param_names'] == ['password']

    # Rotate: a new key first, the old one kept for reading; every value re-encrypted.
    old = crypto.read_key_file(str(key_file))
    new = crypto.generate_key()
    rotated = Database(db_url, cipher=crypto.Cipher([new] + old))
    try:
        changed = api.reencrypt(rotated, batch_size=2)
        assert changed['raw_template'] >= 2 and changed['resource'] >= 3
        assert api.reencrypt(rotated, batch_size=2) == {t: 0 for t in changed}   # idempotent
        assert sum(api.reencrypt(rotated, check_only=True).values()) == 0
    finally:
        rotated.dispose()
    # Only the new key now: everything reads back.
    fresh = Database(db_url, cipher=crypto.Cipher([new]))
    service, executors = _service(conf, fresh)
    try:
        view = service.get_stack('enc')
        assert {o['output_key']: o['output_value'] for o in view['outputs']} == {
            'echo': SECRET, 'nested': SECRET}
        shown_env = service.get_environment('enc')
        assert shown_env['parameters']['password'] != SECRET
        assert shown_env['encrypted_param_names'] == ['password']
        holder = api.resource_get_by_name(fresh, view['id'], 'holder')
        assert holder.properties_data == {'value': SECRET} or \
            holder.properties_data.get('value') == SECRET
    finally:
        executors.shutdown()
        fresh.dispose()
    # The retired key alone: a clear error, not garbage.
    stale = Database(db_url, cipher=crypto.Cipher(old, source=str(key_file)))
    try:
        with pytest.raises(crypto.DecryptionError, match='encrypted with a key not in'):
            api.output_list(stale, view['id'])
    finally:
        stale.dispose()
    # No key at all: as clear.
    keyless = Database(db_url)
    try:
        with pytest.raises(crypto.DecryptionError, match='no key is configured'):
            api.output_list(keyless, view['id'])
    finally:
        keyless.dispose()


def test_clear_rows_stay_readable_and_rotation_encrypts_them(db_url, tmp_path):
    clear_db = Database(db_url)
    clear_db.sync()
    try:
        raw = api.raw_template_create(clear_db, {'text': 't'}, environment={
            'parameters': {'p': SECRET}})
        cipher = crypto.Cipher([crypto.generate_key()])
        enc_db = Database(db_url, cipher=cipher)
        try:
            assert api.raw_template_get(enc_db, raw.id).environment['parameters'] == {
                'p': SECRET}
            assert api.reencrypt(enc_db)['raw_template'] >= 1
            assert SECRET not in repr(dump_all_tables(enc_db))
            assert api.raw_template_get(enc_db, raw.id).environment['parameters'] == {
                'p': SECRET}
        finally:
            enc_db.dispose()
    finally:
        with clear_db.engine.begin() as conn:
            for table in reversed(models.Base.metadata.sorted_tables):
                conn.execute(table.delete())
        clear_db.dispose()


# -- defect 4: no bound parameters in messages -----------------------------------------------

@pytest.mark.parametrize('message, kept', [
    ('null value in column "name" of relation "resource" violates not-null constraint\n'
     'DETAIL:  Failing row contains (4, SeCrEt-xyz-123, null).',
     'null value in column "name" of relation "resource" violates not-null constraint'),
    ('invalid input syntax for type integer: "SeCrEt-xyz-123"\nLINE 1: ...',
     'invalid input syntax for type integer: "..."'),
    ("(1062, \"Duplicate entry 'SeCrEt-xyz-123' for key 'uq_stack_name'\")",
     "(1062, \"Duplicate entry '...' for key 'uq_stack_name'\")"),
    ("(1366, \"Incorrect string value: '\\xF0SeCrEt-xyz-123' for column 'name' at row 1\")",
     "(1366, \"Incorrect string value: '...' for column 'name' at row 1\")"),
    ('UNIQUE constraint failed: stack.project_id, stack.live_name',
     'UNIQUE constraint failed: stack.project_id, stack.live_name'),
])
def test_server_messages_lose_the_values_they_quote(message, kept):
    from heat_taskflow.persistence.database import scrub_error_message

    assert scrub_error_message(message) == kept


def test_failed_write_error_carries_no_parameter_values(database):
    raw = api.raw_template_create(database, {'text': 't'})
    stack = api.stack_create(database, name='s', project_id='p', raw_template_id=raw.id)
    resource = api.resource_create(database, stack_id=stack.id, name='r',
                                   properties_data={'password': SECRET})
    # A value JSON cannot encode, beside a secret in the same statement.
    with pytest.raises(Exception) as failure:
        api.resource_update(database, resource.id, {
            'properties_data': {'password': SECRET, 'blob': b'\x00binary'},
            'status_reason': 'reason-' + SECRET})
    text = str(failure.value) + repr(failure.value)
    assert SECRET not in text
    assert 'cannot be stored as JSON' in text
    # A database-side failure (NOT NULL) with the secret among the bound values.
    with pytest.raises(Exception) as failure:
        api.resource_update(database, resource.id, {'name': None,
                                                    'status_reason': SECRET})
    cause = failure.value.__cause__ or failure.value
    assert isinstance(cause, sa.exc.DBAPIError)
    text = str(failure.value) + str(cause) + repr(cause)
    assert SECRET not in text
    # short: the DBAPI error's first line, no statement (issue #14)
    assert str(cause).startswith('(') and 'null' in str(cause).lower()
    assert '[SQL' not in text and 'UPDATE' not in text and '\n' not in str(cause)


# -- defect 6: file modes ----------------------------------------------------------------------

def test_state_directory_and_database_files_are_private(tmp_path):
    state = tmp_path / 'state' / 'heat-taskflow'
    url = 'sqlite:///%s' % (state / 'heat-taskflow.sqlite')
    db = Database(url)
    try:
        db.sync()
        with db.engine.connect() as conn:     # WAL and shm exist while a connection is open
            conn.exec_driver_sql('SELECT 1')
            assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
            files = glob.glob(str(state / 'heat-taskflow.sqlite*'))
            assert len(files) >= 2, files
            for name in files:
                assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    finally:
        db.dispose()


def test_existing_open_database_file_is_tightened(tmp_path, caplog):
    path = tmp_path / 'old.sqlite'
    path.touch()
    path.chmod(0o644)
    tmp_path.chmod(0o755)
    db = Database('sqlite:///%s' % path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert 'open to other users' in caplog.text     # the directory: warned, not changed
    finally:
        db.dispose()


def test_simulated_cloud_database_is_private(tmp_path):
    from heat_taskflow.simcloud import storage

    path = tmp_path / 'sim' / 'simcloud.sqlite'
    store = storage.Store(str(path))
    try:
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        for name in glob.glob(str(path) + '*'):
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    finally:
        store.close()
