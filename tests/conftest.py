"""Fixtures shared by every test package.

db_url    a URL of an empty database private to the test module, once per backend
          (sqlite, postgresql, mysql); a server that does not answer skips with the reason.
database  a synced heat_taskflow Database on db_url, emptied after each test.

On the servers each test module (per pytest-xdist worker) gets its own database
ht_<random>, dropped at the end, so tests run in parallel and never touch `test`.
"""

import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa

# The test-only resource types (OS::Heat::TestLedger, TestResource's endless wait) are off
# by default; the tests use them everywhere. oslo.config reads [DEFAULT] options from
# OS_DEFAULT__<NAME> in the environment, so this one line enables them in every
# ConfigOpts the tests build and in every process they start (command lines, conductors,
# API servers). A test of the default removes it or overrides the option.
TEST_TYPES_ENV = 'OS_DEFAULT__ENABLE_TEST_RESOURCE_TYPES'
os.environ[TEST_TYPES_ENV] = 'true'

SERVERS = {
    'postgresql': {
        'url': os.environ.get('HEAT_TASKFLOW_TEST_POSTGRESQL',
                              'postgresql+psycopg2://postgres@127.0.0.1:5432/test'),
        'name': 'PostgreSQL',
        'create': 'CREATE DATABASE {name}',
        'drop': 'DROP DATABASE IF EXISTS {name} WITH (FORCE)',
        'connect_args': {'connect_timeout': 3},
    },
    'mysql': {
        'url': os.environ.get('HEAT_TASKFLOW_TEST_MYSQL',
                              'mysql+pymysql://root@127.0.0.1:3306/test'),
        'name': 'MySQL',
        'create': 'CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
        'drop': 'DROP DATABASE IF EXISTS {name}',
        'connect_args': {'connect_timeout': 3},
    },
}

# A server found unreachable once is not asked again in this process.
_unreachable = {}


@contextlib.contextmanager
def _admin_connection(kind):
    server = SERVERS[kind]
    engine = sa.create_engine(server['url'], isolation_level='AUTOCOMMIT',
                              poolclass=sa.pool.NullPool, connect_args=server['connect_args'])
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _server_database(kind):
    """Create ht_<random> on the server; returns (url, drop) or skips with the reason."""
    server = SERVERS[kind]
    address = sa.engine.make_url(server['url'])
    where = '%s:%s' % (address.host, address.port)
    if kind in _unreachable:
        pytest.skip('%s not reachable at %s: %s' % (server['name'], where, _unreachable[kind]))
    name = 'ht_%s' % uuid.uuid4().hex[:16]
    try:
        with _admin_connection(kind) as connection:
            connection.exec_driver_sql(server['create'].format(name=name))
    except (sa.exc.OperationalError, ImportError) as e:
        # ImportError: the driver (psycopg2-binary, PyMySQL) is not installed.
        _unreachable[kind] = str(getattr(e, 'orig', None) or e).strip().splitlines()[0]
        pytest.skip('%s not reachable at %s: %s' % (server['name'], where, _unreachable[kind]))

    def drop():
        with _admin_connection(kind) as connection:
            connection.exec_driver_sql(server['drop'].format(name=name))

    return address.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope='module', params=['sqlite', 'postgresql', 'mysql'])
def db_url(request, tmp_path_factory):
    """URL of an empty database private to this test module, on each backend in turn."""
    if request.param == 'sqlite':
        path = tmp_path_factory.mktemp('db') / 'heat-taskflow.sqlite'
        yield 'sqlite:///%s' % path
        return
    url, drop = _server_database(request.param)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def database(db_url):
    """A synced Database on db_url; every table (TaskFlow's too) is emptied afterwards."""
    from heat_taskflow.persistence import database as database_mod
    from heat_taskflow.persistence import models

    db = database_mod.Database(db_url)
    db.sync()
    try:
        yield db
    finally:
        taskflow_tables = ['atomdetails', 'flowdetails', 'logbooks']
        with db.engine.begin() as connection:
            for table in reversed(models.Base.metadata.sorted_tables):
                connection.execute(table.delete())
            for table in taskflow_tables:
                connection.exec_driver_sql('DELETE FROM %s' % table)
        db.dispose()
