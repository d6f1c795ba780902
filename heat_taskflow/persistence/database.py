"""One SQLAlchemy engine and session factory per process, and the TaskFlow backend beside it.

Sessions use expire_on_commit=False: the model objects api.py returns are detached once their
transaction ends and keep the values they were loaded with. Changing their attributes changes
nothing in the database; call an api.py update function instead.
"""

import contextlib
import os
import threading

import sqlalchemy as sa
from sqlalchemy import event, orm, pool

from heat_taskflow.persistence import exceptions, migrations

# Seconds a SQLite writer waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 30
# The legacy path runs up to 16 resource actions in threads, plus the engine's own thread and
# TaskFlow's storage writes: room for all of them without waiting on the pool.
POOL_SIZE = 20
MAX_OVERFLOW = 20


def _sqlite_on_connect(dbapi_connection, connection_record):
    """Per-connection SQLite settings: foreign keys (for ON DELETE), WAL, busy timeout."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.execute('PRAGMA busy_timeout=%d' % (SQLITE_BUSY_TIMEOUT * 1000))
        # WAL lets readers run beside the one writer; it is a property of the file, and an
        # in-memory database answers 'memory' instead.
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute('PRAGMA synchronous=NORMAL')
    finally:
        cursor.close()


def create_engine(url, **kwargs):
    """A SQLAlchemy engine for url with the settings heat-taskflow needs on its database."""
    url = sa.engine.make_url(url)
    args = {}
    if url.get_backend_name() == 'sqlite':
        args['connect_args'] = {'check_same_thread': False, 'timeout': SQLITE_BUSY_TIMEOUT}
        if url.database in (None, '', ':memory:'):
            # One connection for the whole process, or each checkout would see a new empty
            # database. Threads share it: fine for tests, not for concurrent writers.
            args['poolclass'] = pool.StaticPool
        else:
            directory = os.path.dirname(os.path.abspath(url.database))
            os.makedirs(directory, exist_ok=True)
            args.update(poolclass=pool.QueuePool, pool_size=POOL_SIZE,
                        max_overflow=MAX_OVERFLOW)
    else:
        args.update(poolclass=pool.QueuePool, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                    pool_pre_ping=True, pool_recycle=3600)
        if url.get_backend_name() == 'mysql' and 'charset' not in url.query:
            url = url.update_query_dict({'charset': 'utf8mb4'})
    args.update(kwargs)
    engine = sa.create_engine(url, **args)
    if url.get_backend_name() == 'sqlite':
        event.listen(engine, 'connect', _sqlite_on_connect)
    return engine


class StatementCounter:
    """Counts the SQL statements an engine executes while it is active (see count_statements)."""

    def __init__(self):
        self.count = 0
        self.statements = []
        self._lock = threading.Lock()

    def _before_cursor_execute(self, conn, cursor, statement, parameters, context,
                               executemany):
        with self._lock:
            self.count += 1
            self.statements.append(statement)


class Database:
    """The process's database: one engine, one session factory, schema sync, TaskFlow backend."""

    def __init__(self, url, **engine_kwargs):
        self.url = sa.engine.make_url(url)
        self.engine = create_engine(self.url, **engine_kwargs)
        self._sessionmaker = orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        self._backend_lock = threading.Lock()
        self._taskflow_backend = None

    def __repr__(self):
        return '<Database %s>' % self.url.render_as_string(hide_password=True)

    @property
    def dialect(self):
        """The dialect name: 'sqlite', 'postgresql' or 'mysql' (MariaDB included)."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self):
        """One transaction: commits when the block ends, rolls back if it raises."""
        with self._sessionmaker.begin() as session:
            yield session

    def sync(self):
        """Upgrade our schema to head, then create or upgrade TaskFlow's logbook tables."""
        try:
            with self.engine.begin() as connection:
                migrations.upgrade(connection)
        except sa.exc.SQLAlchemyError as e:
            raise exceptions.MigrationError('upgrading %r failed: %s' % (self, e)) from e
        backend = self.taskflow_backend()
        try:
            with contextlib.closing(backend.get_connection()) as connection:
                # SQLite: create_all(); other databases: TaskFlow's own alembic migrations,
                # recorded in alembic's default table 'alembic_version' (ours is separate).
                connection.upgrade()
        finally:
            backend.close()

    def version(self):
        """Our schema's current alembic revision, or None when the database was never synced."""
        with self.engine.connect() as connection:
            return migrations.current(connection)

    def taskflow_backend(self):
        """The TaskFlow persistence backend on this database, sharing our pool (one per
        Database: it builds TaskFlow's tables once, so its statements stay cached)."""
        with self._backend_lock:
            if self._taskflow_backend is None:
                # Imported here: TaskFlow's backend imports alembic and more at module level.
                from heat_taskflow.persistence import taskflow_backend

                self._taskflow_backend = taskflow_backend.Backend(self.engine)
            return self._taskflow_backend

    @contextlib.contextmanager
    def count_statements(self):
        """Count every SQL statement this engine runs in the block (all threads)."""
        counter = StatementCounter()
        event.listen(self.engine, 'before_cursor_execute', counter._before_cursor_execute)
        try:
            yield counter
        finally:
            event.remove(self.engine, 'before_cursor_execute',
                         counter._before_cursor_execute)

    def dispose(self):
        """Close every pooled connection."""
        self.engine.dispose()
