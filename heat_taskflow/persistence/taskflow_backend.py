"""TaskFlow's SQLAlchemy persistence backend, made cheap per call, on heat-taskflow's engine.

TaskFlow's own backend (taskflow.persistence.backends.impl_sqlalchemy) builds a new MetaData
and Table set for every ``get_connection()`` (TaskFlow's storage asks for one per write), so
SQLAlchemy's compiled-statement cache never hits, and it reads a row back before every
update. Per task that was 20 to 38 ms of CPU. This backend keeps TaskFlow's tables, schema,
migrations and semantics; it only:

- builds the tables once per backend, so connections are cheap and statements are cached;
- updates an atom detail with one UPDATE (TaskFlow's merge replaces every stored field by the
  incoming one, so the row read before it changed nothing but the NotFound check, which the
  UPDATE's row count gives);
- when saving a flow detail, writes only the atom details that are new (one multi-row
  INSERT) or differ from their stored row, instead of rewriting every atom of the flow.

- writes atom details behind (``write_behind`` seconds): TaskFlow's engine saves an atom
  detail three or four times per task (RUNNING, progress 0.0, SUCCESS and its result,
  progress 1.0), each in its own transaction on the engine's one scheduling thread. Here an
  update only replaces the atom's pending row in memory; a flusher thread writes every
  pending row in one transaction at most ``write_behind`` seconds later, and every read,
  flow-detail or logbook save, destroy and close() writes them first, so the database is
  never read behind the process's own writes. A task's states reach the database once
  instead of four times, batched with its neighbours'.

  What a crash can lose is the last ``write_behind`` seconds of atom states. TaskFlow then
  finds those tasks PENDING or RUNNING on resume and runs them again, which heat-taskflow's
  resource actions are built for (every one is safe to run twice, and the resource rows,
  not the logbook, record what exists in the cloud).

Logbooks stay in the same database; it works wherever TaskFlow's backend does (SQLite,
PostgreSQL, MySQL/MariaDB).
"""

import logging
import threading
import time

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import sql
from taskflow import exceptions as exc
from taskflow.persistence import models
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence.backends.sqlalchemy import tables as tf_tables

LOG = logging.getLogger(__name__)


class Backend(impl_sqlalchemy.SQLAlchemyBackend):
    """A TaskFlow persistence backend on an existing SQLAlchemy engine (which it never
    disposes of)."""

    def __init__(self, engine, conf=None, write_behind=None):
        conf = dict(conf or {})
        conf.setdefault('connection', engine.url.render_as_string(hide_password=False))
        super().__init__(conf, engine=engine)
        self.metadata = sa.MetaData()
        self.tables = tf_tables.fetch(self.metadata)
        self._validate_lock = threading.Lock()
        self._pending = AtomWriteBehind(engine, self.tables.atomdetails, write_behind)

    def defer_atom_update(self, atom_detail):
        """Hold an atom detail to be written within write_behind seconds; False (and
        nothing held) when write-behind is off."""
        return self._pending.put(atom_detail.uuid, atom_detail.to_dict())

    def flush(self):
        """Write every pending atom detail now."""
        self._pending.flush()

    def close(self):
        """Write what is pending and stop the flusher (the engine is the caller's)."""
        self._pending.stop()
        super().close()

    def get_connection(self):
        """A connection sharing this backend's tables (validated once per backend)."""
        conn = Connection(self, upgrade_lock=self._upgrade_lock)
        if not self._validated:
            with self._validate_lock:
                if not self._validated:
                    conn.validate(max_retries=self._max_retries)
                    self._validated = True
        return conn


class Connection(impl_sqlalchemy.Connection):
    """TaskFlow's connection with shared tables and fewer statements per save."""

    def __init__(self, backend, upgrade_lock):
        # Not calling super().__init__: it would build a new MetaData and Table set.
        self._backend = backend
        self._upgrade_lock = upgrade_lock
        self._engine = backend.engine
        self._metadata = backend.metadata
        self._tables = backend.tables
        self._converter = impl_sqlalchemy._Alchemist(self._tables)

    def update_atom_details(self, atom_detail):
        """Store an atom detail's fields (all of them, as TaskFlow's merge does), now or,
        with write-behind, within its interval (see the module's docstring)."""
        if self._backend.defer_atom_update(atom_detail):
            return atom_detail
        atomdetails = self._tables.atomdetails
        try:
            with self._engine.begin() as conn:
                changed = conn.execute(
                    sql.update(atomdetails)
                    .where(atomdetails.c.uuid == atom_detail.uuid)
                    .values(atom_detail.to_dict())).rowcount
        except sa_exc.SQLAlchemyError:
            exc.raise_with_cause(exc.StorageFailure, "Failed updating atom details with "
                                 "uuid '%s'" % atom_detail.uuid)
        if changed == 0:
            raise exc.NotFound("No atom details found with uuid '%s'" % atom_detail.uuid)
        return atom_detail

    # Everything else reads or writes rows the pending atom updates may touch: it writes
    # those first, so reads see this process's writes and later saves land after them.

    def _flushed(name):     # noqa: N805 - a helper of the class body, not a method
        parent = getattr(impl_sqlalchemy.Connection, name)

        def method(self, *args, **kwargs):
            self._backend.flush()
            return parent(self, *args, **kwargs)

        method.__name__ = name
        method.__doc__ = parent.__doc__
        return method

    get_logbook = _flushed('get_logbook')
    get_logbooks = _flushed('get_logbooks')
    get_flow_details = _flushed('get_flow_details')
    get_atom_details = _flushed('get_atom_details')
    get_flows_for_book = _flushed('get_flows_for_book')
    get_atoms_for_flow = _flushed('get_atoms_for_flow')
    save_logbook = _flushed('save_logbook')
    update_flow_details = _flushed('update_flow_details')
    destroy_logbook = _flushed('destroy_logbook')
    clear_all = _flushed('clear_all')
    del _flushed

    def _insert_atom_details_many(self, conn, ads, parent_uuid):
        rows = []
        for ad in ads:
            value = ad.to_dict()
            value['parent_uuid'] = parent_uuid
            value['atom_type'] = models.atom_detail_type(ad)
            rows.append(value)
        if rows:
            conn.execute(sql.insert(self._tables.atomdetails), rows)

    def _insert_flow_details(self, conn, fd, parent_uuid):
        value = fd.to_dict()
        value['parent_uuid'] = parent_uuid
        conn.execute(sql.insert(self._tables.flowdetails).values(**value))
        self._insert_atom_details_many(conn, list(fd), fd.uuid)

    def _update_flow_details(self, conn, fd, e_fd):
        before = e_fd.to_dict()
        e_fd.merge(fd)
        if e_fd.to_dict() != before:
            conn.execute(sql.update(self._tables.flowdetails)
                         .where(self._tables.flowdetails.c.uuid == e_fd.uuid)
                         .values(e_fd.to_dict()))
        new = []
        for ad in fd:
            e_ad = e_fd.find(ad.uuid)
            if e_ad is None:
                e_fd.add(ad)
                new.append(ad)
                continue
            stored = e_ad.to_dict()
            e_ad.merge(ad)
            if e_ad.to_dict() != stored:
                conn.execute(sql.update(self._tables.atomdetails)
                             .where(self._tables.atomdetails.c.uuid == e_ad.uuid)
                             .values(e_ad.to_dict()))
        self._insert_atom_details_many(conn, new, fd.uuid)


class AtomWriteBehind:
    """Pending atom-detail rows ({uuid: row}, the newest per atom) and the thread that writes
    them, every pending row in one transaction, ``interval`` seconds after the first of them
    arrived. interval None: nothing is deferred (put() returns False)."""

    def __init__(self, engine, table, interval):
        self._engine = engine
        self._table = table
        self.interval = interval
        self._rows = {}
        self._lock = threading.Condition()
        self._flush_lock = threading.Lock()   # one flush at a time: newer rows land last
        self._thread = None
        self._stopped = False
        self._writing = False       # a flush is writing rows it took (readers wait for it)

    def put(self, uuid, row):
        """Hold row as uuid's pending update; False when deferring is off."""
        if self.interval is None:
            return False
        with self._lock:
            if self._stopped:
                return False
            first = not self._rows
            self._rows[uuid] = row
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name='taskflow-write-behind')
                self._thread.start()
            if first:
                self._lock.notify()
        return True

    def _run(self):
        while True:
            with self._lock:
                while not self._rows and not self._stopped:
                    self._lock.wait()
                # Let a batch gather for the interval (only stop() cuts it short).
                deadline = time.monotonic() + self.interval
                while not self._stopped and time.monotonic() < deadline:
                    self._lock.wait(deadline - time.monotonic())
                if self._stopped:
                    return
            try:
                self.flush()
            except Exception:   # noqa: BLE001 - the next flush or a reader tries again
                LOG.exception('writing pending TaskFlow atom details failed')

    def flush(self):
        """Write every pending row now, in one transaction (if it fails, the rows stay
        pending unless a newer update of the same atom arrived meanwhile)."""
        with self._lock:
            if not self._rows and not self._writing:
                return      # nothing pending, nothing being written: no need to queue
        with self._flush_lock:
            with self._lock:
                rows, self._rows = self._rows, {}
                self._writing = bool(rows)
            if not rows:
                return
            try:
                self._write(rows)
            except Exception:
                with self._lock:
                    for uuid, row in rows.items():
                        self._rows.setdefault(uuid, row)
                raise
            finally:
                with self._lock:
                    self._writing = False

    def _write(self, rows):
        # One executemany UPDATE per set of columns (every atom type has the same today).
        by_columns = {}
        for uuid, row in rows.items():
            params = {k: v for k, v in row.items() if k != 'uuid'}
            params['_uuid'] = uuid
            by_columns.setdefault(tuple(sorted(params)), []).append(params)
        query = sql.update(self._table).where(self._table.c.uuid == sql.bindparam('_uuid'))
        with self._engine.begin() as conn:
            for batch in by_columns.values():
                conn.execute(query, batch)

    def stop(self):
        """Write what is pending and end the thread (a later put() starts a new one)."""
        with self._lock:
            self._stopped = True
            thread, self._thread = self._thread, None
            self._lock.notify_all()
        if thread is not None:
            thread.join()
        self.flush()
        with self._lock:
            self._stopped = False
