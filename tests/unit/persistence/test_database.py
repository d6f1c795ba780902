"""Tests for heat_taskflow.persistence.database: engine settings, sessions, sync, TaskFlow."""

import contextlib
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import pool
from taskflow.persistence import models as tf_models

from heat_taskflow.persistence import api, migrations, models
from heat_taskflow.persistence.database import Database


def test_sqlite_file_settings_and_missing_parent_directory(tmp_path):
    path = tmp_path / 'a' / 'b' / 'heat.sqlite'
    db = Database('sqlite:///%s' % path)
    try:
        assert isinstance(db.engine.pool, pool.QueuePool)
        assert db.engine.pool.size() >= 16    # the legacy path's 16 threads
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma('PRAGMA foreign_keys').scalar() == 1
            assert pragma('PRAGMA journal_mode').scalar() == 'wal'
            assert pragma('PRAGMA busy_timeout').scalar() >= 5000
        assert path.exists()
    finally:
        db.dispose()


def test_sqlite_connection_is_usable_from_another_thread(tmp_path):
    db = Database('sqlite:///%s' % (tmp_path / 'heat.sqlite'))
    result = []
    try:
        with db.engine.connect() as connection:
            worker = threading.Thread(target=lambda: result.append(
                connection.exec_driver_sql('SELECT 1').scalar()))
            worker.start()
            worker.join()
        assert result == [1]
    finally:
        db.dispose()


def test_sqlite_in_memory_is_one_shared_database():
    db = Database('sqlite://')
    try:
        assert isinstance(db.engine.pool, pool.StaticPool)
        db.sync()    # each checkout must see the tables the sync created
        raw = api.raw_template_create(db, {'a': 1})
        assert api.raw_template_get(db, raw.id).template == {'a': 1}
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1
    finally:
        db.dispose()


@pytest.mark.parametrize('url', ['postgresql+psycopg2://u@127.0.0.1:1/x',
                                 'mysql+pymysql://u@127.0.0.1:1/x'])
def test_server_engines_use_a_pinging_queue_pool(url):
    db = Database(url)    # no connection is made until first use
    assert isinstance(db.engine.pool, pool.QueuePool)
    assert db.engine.pool._pre_ping is True
    assert db.engine.pool.size() >= 16


def test_session_commits_on_success_and_rolls_back_on_error(database):
    with database.session() as session:
        session.add(models.RawTemplate(id=1001, template={'kept': True}))
    with pytest.raises(RuntimeError):
        with database.session() as session:
            session.add(models.RawTemplate(id=1002, template={'kept': False}))
            session.flush()
            raise RuntimeError('boom')
    assert api.raw_template_get(database, 1001).template == {'kept': True}
    assert api.raw_template_get(database, 1002) is None


def test_session_objects_stay_usable_after_the_transaction(database):
    with database.session() as session:
        row = models.RawTemplate(template={'x': 1})
        session.add(row)
    assert sa.inspect(row).detached
    assert row.id is not None and row.template == {'x': 1}


def test_version_before_and_after_sync(db_url):
    db = Database(db_url)
    try:
        with db.engine.begin() as connection:    # the module's database may be synced
            migrations.downgrade(connection, 'base')
        assert db.version() is None
        db.sync()
        assert db.version() == migrations.head() == '0004'
        db.sync()    # idempotent
        assert db.version() == '0004'
    finally:
        db.dispose()


def test_sync_creates_taskflow_tables_beside_ours(database):
    names = set(sa.inspect(database.engine).get_table_names())
    assert set(models.Base.metadata.tables) <= names
    assert {'logbooks', 'flowdetails', 'atomdetails',
            migrations.VERSION_TABLE} <= names


def test_taskflow_backend_saves_and_loads_a_logbook_on_our_database(database):
    backend = database.taskflow_backend()
    assert backend.engine is database.engine    # same pool, not a second engine
    book = tf_models.LogBook('stack-create')
    flow = tf_models.FlowDetail('converge', uuid=str(uuid.uuid4()))
    atom = tf_models.TaskDetail('create-server', uuid=str(uuid.uuid4()))
    atom.results = {'physical_id': 'vm-1'}
    flow.add(atom)
    book.add(flow)
    with contextlib.closing(backend.get_connection()) as connection:
        connection.save_logbook(book)
    backend.close()
    assert database.engine.pool.status()    # closing the backend left our engine alone

    with contextlib.closing(database.taskflow_backend().get_connection()) as connection:
        loaded = connection.get_logbook(book.uuid)
    assert loaded.name == 'stack-create'
    assert loaded.find(flow.uuid).find(atom.uuid).results == {'physical_id': 'vm-1'}
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT COUNT(*) FROM logbooks').scalar() == 1


def test_count_statements_counts_every_thread(database):
    with database.count_statements() as counter:
        workers = [threading.Thread(target=api.raw_template_get, args=(database, i))
                   for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert counter.count == 4
    assert all('raw_template' in s for s in counter.statements)
    api.raw_template_get(database, 1)
    assert counter.count == 4    # the listener is gone after the block


def test_threads_write_at_once_without_locking_errors(database):
    stack = api.stack_create(database, name='s', project_id='p',
                             raw_template_id=api.raw_template_create(database, {}).id)
    rows = [api.resource_create(database, stack_id=stack.id, name='r%d' % i)
            for i in range(16)]
    errors = []
    barrier = threading.Barrier(16)

    def act(row):
        try:
            barrier.wait()
            for n in range(5):
                assert api.resource_update(database, row.id, {'status': 'S%d' % n})
                api.event_create(database, stack.id, resource_name=row.name)
        except Exception as e:    # noqa: BLE001 - reported below
            errors.append(e)

    workers = [threading.Thread(target=act, args=(row,)) for row in rows]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(api.event_list(database, stack.id)) == 80
    assert {r.atomic_key for r in api.resource_list(database, stack.id)} == {5}


# -- SQLite: one writing transaction at a time, queued in Python --------------------------


def _sqlite_db(tmp_path):
    db = Database('sqlite:///%s' % (tmp_path / 'heat.sqlite'))
    with db.engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE t (n INTEGER)')
    return db


def test_a_second_writer_waits_for_the_first_commit_not_for_sqlite(tmp_path):
    # The second writer's INSERT waits in Python until the first transaction has
    # committed, then goes at once: it never meets SQLITE_BUSY (its busy timeout is set to
    # fail at once here, so a wait inside SQLite would raise "database is locked").
    db = _sqlite_db(tmp_path)
    order = []
    first_wrote = threading.Event()
    try:
        def second():
            first_wrote.wait(10)
            with db.engine.begin() as connection:
                connection.exec_driver_sql('PRAGMA busy_timeout=0')
                connection.exec_driver_sql('INSERT INTO t VALUES (2)')
                order.append('second wrote')

        worker = threading.Thread(target=second)
        worker.start()
        with db.engine.begin() as connection:
            connection.exec_driver_sql('INSERT INTO t VALUES (1)')
            first_wrote.set()
            worker.join(0.3)       # it is blocked on the lock, so this times out
            assert worker.is_alive()
            order.append('first commits')
        worker.join(10)
        assert not worker.is_alive()
        assert order == ['first commits', 'second wrote']
        with db.engine.connect() as connection:
            assert sorted(connection.exec_driver_sql('SELECT n FROM t').scalars()) == [1, 2]
    finally:
        db.dispose()


def test_reads_do_not_wait_for_a_writer(tmp_path):
    db = _sqlite_db(tmp_path)
    try:
        with db.engine.begin() as writer:
            writer.exec_driver_sql('INSERT INTO t VALUES (1)')
            seen = []
            reader = threading.Thread(target=lambda: seen.append(_count(db)))
            reader.start()
            reader.join(10)
            assert seen == [0]          # WAL: the reader sees the last commit, unblocked
        assert _count(db) == 1
    finally:
        db.dispose()


def _count(db):
    with db.engine.connect() as connection:
        return connection.exec_driver_sql('SELECT count(*) FROM t').scalar()


@pytest.mark.parametrize('end', ['rollback', 'raise', 'close'])
def test_the_writer_lock_is_given_back_however_a_transaction_ends(tmp_path, end):
    db = _sqlite_db(tmp_path)
    try:
        if end == 'rollback':
            with db.engine.connect() as connection:
                connection.exec_driver_sql('INSERT INTO t VALUES (1)')
                connection.rollback()
        elif end == 'raise':
            with pytest.raises(RuntimeError):
                with db.session() as session:
                    session.execute(sa.text('INSERT INTO t VALUES (1)'))
                    raise RuntimeError('boom')
        else:
            connection = db.engine.connect()
            connection.exec_driver_sql('INSERT INTO t VALUES (1)')
            connection.close()          # returned to the pool mid-transaction
        # Another thread can write at once (a leaked lock would block it for 30 s).
        done = threading.Event()

        def write():
            with db.engine.begin() as connection:
                connection.exec_driver_sql('INSERT INTO t VALUES (2)')
            done.set()

        threading.Thread(target=write, daemon=True).start()
        assert done.wait(10)
        assert _count(db) == 1
    finally:
        db.dispose()
