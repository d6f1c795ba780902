"""Tests for heat_taskflow.persistence.taskflow_backend: TaskFlow's semantics, fewer writes."""

import concurrent.futures
import contextlib
import uuid

import pytest
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
    backend = database.taskflow_backend()
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
    with contextlib.closing(database.taskflow_backend().get_connection()) as conn:
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
