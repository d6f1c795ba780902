"""One SQLAlchemy engine and session factory per process, and the TaskFlow backend beside it.

Sessions use expire_on_commit=False: the model objects api.py returns are detached once their
transaction ends and keep the values they were loaded with. Changing their attributes changes
nothing in the database; call an api.py update function instead.
"""

import contextlib
import logging
import re
import threading

import sqlalchemy as sa
from sqlalchemy import event, orm, pool

from heat_taskflow.common import private_files
from heat_taskflow.persistence import crypto, exceptions, migrations, models

LOG = logging.getLogger(__name__)

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


class SQLiteWriterLock:
    """One writing transaction at a time per engine, queued on a Python lock.

    SQLite allows one writer per file. Without this, threads that write at once meet
    SQLITE_BUSY and wait in SQLite's busy handler, which sleeps in steps of up to 100 ms
    whether or not the lock was freed meanwhile. Here a connection takes the lock just before
    its transaction's first write and gives it back once the transaction's COMMIT or
    ROLLBACK has run (the engine's dialect calls them), so the next writer starts the moment
    the file is free. Reads never take it (WAL lets them run beside the writer). Other
    processes on the same file still meet SQLite's own lock and busy timeout; a writer that
    cannot get this lock within that timeout goes on without it, and SQLite decides, as
    before.
    """

    _WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'BEGIN IMMEDIATE', 'CREATE', 'DROP',
               'ALTER')

    def __init__(self, timeout=SQLITE_BUSY_TIMEOUT):
        self._lock = threading.Lock()
        self._timeout = timeout
        self._owner = None      # the DBAPI connection whose transaction holds the lock

    def attach(self, engine):
        """Watch engine's statements, and wrap its dialect's commit and rollback (this
        engine's dialect instance only: SQLAlchemy's events fire before a COMMIT runs, too
        early to let the next writer in)."""
        event.listen(engine, 'before_cursor_execute', self._before_execute)
        dialect = engine.dialect
        for name in ('do_commit', 'do_rollback'):
            setattr(dialect, name, self._releasing(getattr(dialect, name)))
        # A connection closed or invalidated mid-transaction ends its transaction too.
        for name in ('checkin', 'close', 'invalidate', 'soft_invalidate'):
            event.listen(engine.pool, name, self._release_record)

    @staticmethod
    def _dbapi(connection):
        return getattr(connection, 'dbapi_connection', connection)

    def _before_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip()[:15].upper().startswith(self._WRITES):
            return
        dbapi = self._dbapi(conn.connection)
        if self._owner is dbapi:        # only its owner's thread can find it equal
            return
        if self._lock.acquire(timeout=self._timeout):
            self._owner = dbapi

    def release(self, connection):
        """Give the lock back if connection's transaction holds it."""
        dbapi = self._dbapi(connection)
        if dbapi is not None and self._owner is dbapi:
            self._owner = None
            self._lock.release()

    def _releasing(self, end_transaction):
        def wrapper(connection):
            try:
                end_transaction(connection)
            finally:
                self.release(connection)
        return wrapper

    def _release_record(self, dbapi_connection, connection_record, *args):
        self.release(dbapi_connection)


# Values a database server quotes in its messages: PostgreSQL's "invalid input syntax for
# type integer: "abc"", MySQL/MariaDB's "Duplicate entry 'abc' for key" and "Incorrect
# string value: '\xF0...'".
_QUOTED_VALUES = re.compile(
    r'(?P<lead>(?:invalid input (?:syntax|value)[^:\n]*|duplicate entry'
    r'|(?:truncated )?incorrect \w+ value|out of range value)\s*:?\s*)'
    r'(?P<q>[\'"])(?:\\.|(?!(?P=q)).)*(?P=q)', re.IGNORECASE | re.DOTALL)


def scrub_error_message(text):
    """A database server's error message without the values it quotes: the first line
    only (PostgreSQL's DETAIL and CONTEXT lines repeat the failing row and keys), quoted
    values replaced by '...'."""
    first = (text or '').strip().split('\n', 1)[0]
    return _QUOTED_VALUES.sub(lambda m: m.group('lead') + m.group('q') + '...' + m.group('q'),
                              first)


def _scrub_error(context):
    """handle_error: the DBAPI error's message, and SQLAlchemy's built from it, carry no
    value (hide_parameters already keeps the bound parameters out), and SQLAlchemy's is
    short: the DBAPI error's first line, without the statement (its text names tables and
    columns, and ends up in status reasons) or the link to SQLAlchemy's documentation."""
    orig, error = context.original_exception, context.sqlalchemy_exception
    if error is None:
        return
    if isinstance(error, sa.exc.StatementError):
        error.statement = None
        error.params = None
        error.hide_parameters = True
        error.code = None
    if orig is None:
        return
    try:
        text = str(orig)
    except Exception:     # noqa: BLE001 - an unprintable error: leave it be
        return
    clean = scrub_error_message(text)
    if clean == text:
        return
    try:
        orig.args = (clean,)
    except (AttributeError, TypeError):
        pass
    error.args = ('(%s.%s) %s' % (type(orig).__module__, type(orig).__name__, clean),)


def error_message(exc):
    """The text a user sees for an error (a status reason, an event): for a database
    error, "database error: " and the DBAPI error's first line, with no statement, values
    or driver class names; any other error's own text."""
    if isinstance(exc, sa.exc.StatementError):
        orig = getattr(exc, 'orig', None)
        try:
            text = str(orig) if orig is not None else str(exc.args[0] if exc.args else '')
        except Exception:  # noqa: BLE001 - an unprintable DBAPI error
            text = ''
        if orig is None:
            # SQLAlchemy's own text: "(module.Class) message"
            text = re.sub(r'^\([\w.]+\)\s*', '', text)
        return 'database error: %s' % (scrub_error_message(text) or type(exc).__name__)
    return str(exc)


def create_engine(url, **kwargs):
    """A SQLAlchemy engine for url with the settings heat-taskflow needs on its database.

    hide_parameters: an error's message never carries the statement's bound values (they
    may be hidden parameter values or resolved properties).
    """
    url = sa.engine.make_url(url)
    args = {'hide_parameters': True}
    if url.get_backend_name() == 'sqlite':
        args['connect_args'] = {'check_same_thread': False, 'timeout': SQLITE_BUSY_TIMEOUT}
        if url.database in (None, '', ':memory:'):
            # One connection for the whole process, or each checkout would see a new empty
            # database. Threads share it: fine for tests, not for concurrent writers.
            args['poolclass'] = pool.StaticPool
        else:
            private_files.private_sqlite_file(url.database)
            args.update(poolclass=pool.QueuePool, pool_size=POOL_SIZE,
                        max_overflow=MAX_OVERFLOW)
    else:
        args.update(poolclass=pool.QueuePool, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                    pool_pre_ping=True, pool_recycle=3600)
        if url.get_backend_name() == 'mysql' and 'charset' not in url.query:
            url = url.update_query_dict({'charset': 'utf8mb4'})
    args.update(kwargs)
    engine = sa.create_engine(url, **args)
    event.listen(engine, 'handle_error', _scrub_error)
    if url.get_backend_name() == 'sqlite':
        event.listen(engine, 'connect', _sqlite_on_connect)
        SQLiteWriterLock().attach(engine)
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


# Default seconds a TaskFlow atom state waits before it is written ([database]
# logbook_write_behind; persistence/taskflow_backend.py).
LOGBOOK_WRITE_BEHIND = 0.05


class Database:
    """The process's database: one engine, one session factory, schema sync, TaskFlow backend."""

    def __init__(self, url, logbook_write_behind=LOGBOOK_WRITE_BEHIND, cipher=None,
                 **engine_kwargs):
        """cipher: the crypto.Cipher that encrypts the values of encrypted columns (and
        decrypts them), or None (values written in clear; encrypted ones cannot be read)."""
        self.url = sa.engine.make_url(url)
        self.logbook_write_behind = logbook_write_behind or None
        self.engine = create_engine(self.url, **engine_kwargs)
        self.cipher = cipher
        # This engine's own dialect instance (see models.CIPHER_ATTRIBUTE).
        setattr(self.engine.dialect, models.CIPHER_ATTRIBUTE, cipher)
        self._sessionmaker = orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        self._backend_lock = threading.Lock()
        self._taskflow_backend = None

    @classmethod
    def from_conf(cls, conf, **kwargs):
        """The Database of [database] connection and logbook_write_behind, with the
        encryption of [DEFAULT] encrypt_parameters_and_properties (crypto.from_conf:
        refuses, with crypto.EncryptionConfigError, encryption without a usable key)."""
        cipher = crypto.from_conf(conf)
        return cls(conf.database.connection,
                   logbook_write_behind=conf.database.logbook_write_behind,
                   cipher=cipher, **kwargs)

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

                self._taskflow_backend = taskflow_backend.Backend(
                    self.engine, write_behind=self.logbook_write_behind)
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
        """Write pending logbook rows, then close every pooled connection."""
        with self._backend_lock:
            backend = self._taskflow_backend
        if backend is not None:
            backend.flush()
        self.engine.dispose()
