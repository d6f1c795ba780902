"""The simulated cloud's state in SQLite: objects by kind, the creation audit, behaviour, quotas.

Every request runs in one transaction under one process-wide lock (``Store.tx()``): SQLite
serialises writers anyway, and the lock keeps read-modify-write sequences (allocating an IP,
taking an injected failure) atomic across the server's threads. Latency is slept outside it.
"""

import contextlib
import functools
import os
import threading
import time
import uuid

import sqlalchemy as sa

from heat_taskflow.common import private_files

metadata = sa.MetaData()

objects = sa.Table(
    'objects', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('kind', sa.String(32), nullable=False, index=True),
    sa.Column('token', sa.String(255), index=True),
    sa.Column('parent', sa.String(36), index=True),
    sa.Column('body', sa.JSON, nullable=False),
    sa.Column('created_at', sa.Float, nullable=False),
)

# Body fields looked up on every request that has them (a network's subnets, the ports of a
# network or of a server): expression indexes on their json_extract, which SQLite uses only
# when a query writes the same expression, path included, as a literal (``_field``).
INDEXED_FIELDS = ('network_id', 'device_id')


def _field(key):
    """``json_extract(body, '$."KEY"')``: a literal path for an indexed field, else bound."""
    if key in INDEXED_FIELDS:
        return sa.func.json_extract(objects.c.body, sa.literal_column("'$.\"%s\"'" % key))
    return sa.func.json_extract(objects.c.body, '$."%s"' % key)


for _key in INDEXED_FIELDS:
    sa.Index('ix_objects_%s' % _key, objects.c.kind, _field(_key))

# The tags of objects whose body has a ``tags`` list (Neutron's and Nova's tags), kept in step
# with the body by insert/update/delete: a list filtered by tag reads this index instead of
# every body of the kind.
tags = sa.Table(
    'tags', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('tag', sa.String(255), primary_key=True),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Index('ix_tags_kind_tag', 'kind', 'tag'),
)

audit = sa.Table(
    'audit', metadata,
    sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('id', sa.String(36), nullable=False, index=True),
    sa.Column('token', sa.String(255), index=True),
    sa.Column('parent', sa.String(36)),
    sa.Column('created_at', sa.Float, nullable=False),
    sa.Column('deleted_at', sa.Float),
    sa.Column('deleted_by', sa.String(16)),
)

behaviour = sa.Table(
    'behaviour', metadata,
    sa.Column('op', sa.String(64), primary_key=True),
    sa.Column('settings', sa.JSON, nullable=False),
)

quotas = sa.Table(
    'quotas', metadata,
    sa.Column('kind', sa.String(32), primary_key=True),
    sa.Column('quota', sa.Integer, nullable=False),
)


secrets = sa.Table(
    'secrets', metadata,
    sa.Column('name', sa.String(64), primary_key=True),
    sa.Column('value', sa.String(128), nullable=False),
)


def _tagged_with(kind, names):
    """The ids of the objects of a kind carrying any of the tags ``names``."""
    return sa.select(tags.c.id).where(tags.c.kind == kind, tags.c.tag.in_(list(names)))


def _tag_clauses(kind, tagged):
    """WHERE clauses on ``objects`` for a tag filter (see ``Tx.find``)."""
    clauses = [objects.c.id.in_(_tagged_with(kind, [tag])) for tag in tagged.get('all') or ()]
    if tagged.get('any'):
        clauses.append(objects.c.id.in_(_tagged_with(kind, tagged['any'])))
    if tagged.get('not_all'):
        clauses.append(sa.not_(sa.and_(*(objects.c.id.in_(_tagged_with(kind, [tag]))
                                          for tag in tagged['not_all']))))
    if tagged.get('not_any'):
        clauses.append(objects.c.id.not_in(_tagged_with(kind, tagged['not_any'])))
    return clauses


# Statements built once: building a select costs more than running it on SQLite.
_GET = sa.select(objects.c.body).where(objects.c.kind == sa.bindparam('kind'),
                                       objects.c.id == sa.bindparam('id'))


@functools.lru_cache(maxsize=256)
def _find_query(by_parent, fields):
    """The select of ``Tx.find`` for one shape of filter (values are bound at execution).

    ``fields`` is ``((name, value is None), ...)``: a None value matches a JSON null.
    """
    query = sa.select(objects.c.body).where(objects.c.kind == sa.bindparam('kind'))
    if by_parent:
        query = query.where(objects.c.parent == sa.bindparam('parent'))
    for key, is_none in fields:
        value = _field(key)
        query = query.where(value.is_(None) if is_none else value == sa.bindparam('f_%s' % key))
    return query.order_by(objects.c.created_at, objects.c.id)


def _sqlite_pragmas(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.close()


class Store:
    """The SQLite database of one simulated cloud (a file, so it survives restarts)."""

    def __init__(self, path):
        self.path = path
        url = 'sqlite://' if path in (None, ':memory:') else 'sqlite:///%s' % path
        # hide_parameters: no error message carries a stored value.
        kwargs = {'connect_args': {'check_same_thread': False}, 'hide_parameters': True}
        if url == 'sqlite://':
            kwargs['poolclass'] = sa.pool.StaticPool
        else:
            # 0600 file in a 0700 directory: it holds every password the cloud was given.
            private_files.private_sqlite_file(path)
        self.engine = sa.create_engine(url, **kwargs)
        if url != 'sqlite://':
            sa.event.listen(self.engine, 'connect', _sqlite_pragmas)
        metadata.create_all(self.engine)
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def tx(self):
        """One transaction, holding the store's lock: yields a Tx."""
        with self._lock, self.engine.begin() as connection:
            yield Tx(connection)

    def close(self):
        """Release the database."""
        self.engine.dispose()


class Tx:
    """Reads and writes inside one transaction."""

    def __init__(self, connection):
        self.connection = connection
        self.now = time.time()

    # -- objects ---------------------------------------------------------------------------

    def get(self, kind, obj_id):
        """The body of an object, or None."""
        row = self.connection.execute(_GET, {'kind': kind, 'id': obj_id}).first()
        return None if row is None else dict(row.body)

    def find(self, kind, parent=None, tagged=None, **fields):
        """Bodies of the objects of a kind whose parent, tags and body fields match.

        ``tagged`` is Neutron's tag filter: ``{'all': [...], 'any': [...], 'not_all': [...],
        'not_any': [...]}`` (``tags``, ``tags-any``, ``not-tags``, ``not-tags-any``), any key
        left out.
        """
        params = {'kind': kind, 'parent': parent}
        params.update(('f_%s' % key, value) for key, value in fields.items())
        shape = tuple(sorted((key, value is None) for key, value in fields.items()))
        query = _find_query(parent is not None, shape)
        if tagged:
            query = query.where(*_tag_clauses(kind, tagged))
        return [dict(row.body) for row in self.connection.execute(query, params)]

    def count(self, kind):
        """How many objects of a kind exist."""
        return self.connection.execute(
            sa.select(sa.func.count()).select_from(objects).where(
                objects.c.kind == kind)).scalar_one()

    def insert(self, kind, body, token=None, parent=None, audited=True):
        """Store a new object (its id is made when the body has none) and audit its creation.

        ``audited=False`` is for what the cloud starts with (the image catalog).
        """
        body = dict(body)
        body.setdefault('id', str(uuid.uuid4()))
        self.connection.execute(objects.insert().values(
            id=body['id'], kind=kind, token=token, parent=parent, body=body,
            created_at=self.now))
        if audited:
            self.connection.execute(audit.insert().values(
                kind=kind, id=body['id'], token=token, parent=parent, created_at=self.now))
        self._index_tags(kind, body)
        return body

    def update(self, kind, body):
        """Replace the stored body of an object."""
        self.connection.execute(objects.update().where(
            objects.c.kind == kind, objects.c.id == body['id']).values(body=dict(body)))
        self._index_tags(kind, body)
        return body

    def _index_tags(self, kind, body):
        if not isinstance(body.get('tags'), list):
            return
        self.connection.execute(tags.delete().where(tags.c.id == body['id']))
        rows = [{'id': body['id'], 'tag': tag, 'kind': kind} for tag in set(body['tags'])]
        if rows:
            self.connection.execute(tags.insert(), rows)

    def delete(self, kind, obj_id, by='api'):
        """Remove an object and mark its creation deleted in the audit."""
        self.connection.execute(objects.delete().where(objects.c.kind == kind,
                                                       objects.c.id == obj_id))
        self.connection.execute(tags.delete().where(tags.c.id == obj_id))
        self.connection.execute(audit.update().where(
            audit.c.id == obj_id, audit.c.deleted_at.is_(None)).values(
                deleted_at=self.now, deleted_by=by))

    # -- audit -----------------------------------------------------------------------------

    def creations(self, kind=None, token_prefix=None):
        """Every creation, oldest first, as dicts."""
        query = sa.select(audit).order_by(audit.c.seq)
        if kind is not None:
            query = query.where(audit.c.kind == kind)
        if token_prefix is not None:
            query = query.where(audit.c.token.startswith(token_prefix, autoescape=True))
        return [dict(row._mapping) for row in self.connection.execute(query)]

    # -- secrets ---------------------------------------------------------------------------

    def secret(self, name):
        """A random secret kept in the database (made on first use), as bytes."""
        value = self.connection.execute(
            sa.select(secrets.c.value).where(secrets.c.name == name)).scalar()
        if value is None:
            value = os.urandom(32).hex()
            self.connection.execute(secrets.insert().values(name=name, value=value))
        return bytes.fromhex(value)

    # -- behaviour and quotas --------------------------------------------------------------

    def behaviours(self):
        """``{op: settings}`` of every operation with its own settings."""
        return {row.op: dict(row.settings) for row in self.connection.execute(
            sa.select(behaviour))}

    def set_behaviour(self, op, settings):
        """Replace the settings of one operation (None removes them)."""
        self.connection.execute(behaviour.delete().where(behaviour.c.op == op))
        if settings is not None:
            self.connection.execute(behaviour.insert().values(op=op, settings=dict(settings)))

    def quotas(self):
        """``{kind: limit}``."""
        return {row.kind: row.quota for row in self.connection.execute(sa.select(quotas))}

    def set_quota(self, kind, limit):
        """Set the limit of a kind (None or -1 removes it)."""
        self.connection.execute(quotas.delete().where(quotas.c.kind == kind))
        if limit is not None and limit >= 0:
            self.connection.execute(quotas.insert().values(kind=kind, quota=int(limit)))
