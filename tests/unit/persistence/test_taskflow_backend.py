"""Tests for heat_taskflow.persistence.taskflow_backend: TaskFlow's semantics, fewer writes."""

import concurrent.futures
import contextlib
import time
import uuid

import pytest
import sqlalchemy as sa
import taskflow.engines
from taskflow import exceptions as tf_exc
from taskflow import task
from taskflow.patterns import graph_flow
from taskflow.persistence import models as tf_models

from heat_taskflow.persistence import taskflow_backend


def _book(atoms=2):
    book = tf_models.LogBook('stack-x')
    flow = tf_models.FlowDetail('traversal', uuid=str(uuid.uuid4()))
    for i in range(atoms):
        flow.add(tf_models.TaskDetail('task-%d' % i, uuid=str(uuid.uuid4())))
    book.add(flow)
    return book, flow


def test_database_builds_one_backend_with_tables_built_once(database):
    backend = database.taskflow_backend()
    assert isinstance(backend, taskflow_backend.Backend)
    assert database.taskflow_backend() is backend
    with contextlib.closing(backend.get_connection()) as a, \
            contextlib.closing(backend.get_connection()) as b:
        assert a._tables is b._tables is backend.tables


def test_update_atom_details_is_one_statement_and_round_trips(database):
    backend = taskflow_backend.Backend(database.engine)       # no write-behind
    book, flow = _book()
    atom = next(iter(flow))
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        changed = atom.copy()
        changed.state = 'SUCCESS'
        changed.results = {'physical_id': 'vm-1'}
        changed.meta = {'progress': 1.0}
        with database.count_statements() as counter:
            returned = conn.update_atom_details(changed)
        assert counter.count == 1
        assert returned.state == 'SUCCESS'
        loaded = conn.get_atom_details(atom.uuid)
    assert (loaded.state, loaded.results, loaded.meta) == (
        'SUCCESS', {'physical_id': 'vm-1'}, {'progress': 1.0})


def test_update_atom_details_of_a_missing_atom_raises_not_found(database):
    backend = taskflow_backend.Backend(database.engine)       # no write-behind
    with contextlib.closing(backend.get_connection()) as conn:
        with pytest.raises(tf_exc.NotFound):
            conn.update_atom_details(tf_models.TaskDetail('gone', uuid=str(uuid.uuid4())))


def test_update_flow_details_writes_only_new_and_changed_atoms(database):
    backend = database.taskflow_backend()
    book, flow = _book(atoms=20)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        clone = flow.copy()
        first = next(iter(clone))
        edited = first.copy()
        edited.state = 'RUNNING'
        clone.add(edited)
        for i in range(5):
            clone.add(tf_models.TaskDetail('new-%d' % i, uuid=str(uuid.uuid4())))
        with database.count_statements() as counter:
            merged = conn.update_flow_details(clone)
        # select flow, select atoms, one update, one multi-row insert
        assert counter.count == 4
        assert len(list(merged)) == 25
        loaded = conn.get_flow_details(flow.uuid)
    assert len(list(loaded)) == 25
    assert loaded.find(first.uuid).state == 'RUNNING'


def test_update_flow_details_of_a_missing_flow_raises_not_found(database):
    with contextlib.closing(database.taskflow_backend().get_connection()) as conn:
        with pytest.raises(tf_exc.NotFound):
            conn.update_flow_details(tf_models.FlowDetail('gone', uuid=str(uuid.uuid4())))


def test_save_logbook_twice_merges_and_adds_flows(database):
    backend = database.taskflow_backend()
    book, flow = _book()
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        second = tf_models.FlowDetail('second', uuid=str(uuid.uuid4()))
        second.add(tf_models.TaskDetail('t', uuid=str(uuid.uuid4())))
        book.add(second)
        book.meta = {'k': 'v'}
        conn.save_logbook(book)
        loaded = conn.get_logbook(book.uuid)
        assert loaded.meta == {'k': 'v'}
        assert {fd.name for fd in loaded} == {'traversal', 'second'}
        conn.destroy_logbook(book.uuid)
        with pytest.raises(tf_exc.NotFound):
            conn.get_logbook(book.uuid)


class _Record(task.Task):
    def execute(self):
        return self.name


def test_a_parallel_engine_runs_and_records_every_atom(database):
    backend = database.taskflow_backend()
    book = tf_models.LogBook('engine')
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    flow = graph_flow.Flow('f')
    tasks = [_Record(name='t%d' % i) for i in range(6)]
    flow.add(*tasks)
    for a, b in zip(tasks, tasks[1:], strict=False):
        flow.link(a, b)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        engine = taskflow.engines.load(flow, backend=backend, book=book, engine='parallel',
                                       executor=pool)
        engine.run()
    with contextlib.closing(backend.get_connection()) as conn:
        loaded = conn.get_logbook(book.uuid)
    (fd,) = list(loaded)
    assert fd.state == 'SUCCESS'
    assert {ad.name: (ad.state, ad.results) for ad in fd} == {
        't%d' % i: ('SUCCESS', 't%d' % i) for i in range(6)}


# -- write-behind: atom states batched, never read stale ----------------------------------


def _stored_state(database, uuid_):
    table = database.taskflow_backend().tables.atomdetails
    with database.engine.connect() as connection:
        return connection.execute(sa.select(table.c.state)
                                  .where(table.c.uuid == uuid_)).scalar_one()


def _set_state(conn, atom, state):
    changed = atom.copy()
    changed.state = state
    assert conn.update_atom_details(changed) is changed


def test_write_behind_defers_updates_and_a_read_writes_them_first(database):
    backend = taskflow_backend.Backend(database.engine, write_behind=60)   # no timer flush
    book, flow = _book(atoms=3)
    try:
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
            atoms = list(flow)
            with database.count_statements() as counter:
                for state in ('RUNNING', 'SUCCESS'):
                    for atom in atoms:
                        _set_state(conn, atom, state)
            assert counter.count == 0                   # all held in memory
            assert _stored_state(database, atoms[0].uuid) is None
            with database.count_statements() as counter:
                loaded = conn.get_logbook(book.uuid)
            # the newest state of each of the 3 atoms in one executemany UPDATE, then the
            # logbook's reads
            assert sum(s.startswith('UPDATE atomdetails') for s in counter.statements) == 1
        assert {ad.state for ad in list(loaded)[0]} == {'SUCCESS'}
    finally:
        backend.close()


def test_write_behind_writes_within_its_interval_without_a_reader(database):
    backend = taskflow_backend.Backend(database.engine, write_behind=0.05)
    book, flow = _book(atoms=1)
    try:
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
            atom = next(iter(flow))
            _set_state(conn, atom, 'SUCCESS')
        deadline = time.monotonic() + 10        # a guard against hangs, not a measurement
        while _stored_state(database, atom.uuid) != 'SUCCESS':
            assert time.monotonic() < deadline, 'the flusher never wrote the atom'
            time.sleep(0.01)
    finally:
        backend.close()


def test_write_behind_close_and_dispose_write_what_is_pending(database):
    backend = taskflow_backend.Backend(database.engine, write_behind=60)
    book, flow = _book(atoms=2)
    first, second = list(flow)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        _set_state(conn, first, 'SUCCESS')
    backend.close()
    assert _stored_state(database, first.uuid) == 'SUCCESS'
    # The backend works on after close(), deferring again.
    with contextlib.closing(backend.get_connection()) as conn:
        _set_state(conn, second, 'FAILURE')
    assert _stored_state(database, second.uuid) is None
    backend.flush()
    assert _stored_state(database, second.uuid) == 'FAILURE'


def test_database_backend_writes_behind_as_configured(db_url):
    from heat_taskflow.persistence import database as database_mod

    on = database_mod.Database(db_url)
    off = database_mod.Database(db_url, logbook_write_behind=0)
    try:
        assert on.taskflow_backend()._pending.interval == database_mod.LOGBOOK_WRITE_BEHIND
        assert off.taskflow_backend()._pending.interval is None
    finally:
        on.dispose()
        off.dispose()


def test_engine_states_survive_a_backend_that_writes_behind(database):
    # TaskFlow's engine, with its storage reading back through the same backend, ends with
    # every atom SUCCESS in the database once the engine's run returns and flush() ran.
    backend = taskflow_backend.Backend(database.engine, write_behind=60)
    book = tf_models.LogBook('engine')
    try:
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book)
        flow = graph_flow.Flow('f')
        flow.add(*[_Record(name='t%d' % i) for i in range(4)])
        engine = taskflow.engines.load(flow, backend=backend, book=book, engine='serial')
        engine.run()
        backend.flush()
        table = backend.tables.atomdetails
        with database.engine.connect() as connection:
            states = sorted(connection.execute(
                sa.select(table.c.state).where(table.c.name.like('t%'))).scalars())
        assert states == ['SUCCESS'] * 4
    finally:
        backend.close()
