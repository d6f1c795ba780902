"""SQLAlchemy models of stacks, resources, events, outputs and sync points.

The alembic revisions in migrations/versions/ must create exactly this schema: a test compares
them on every database. Change a model, then add a revision.
"""

import datetime
import json
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from heat_taskflow.common import states
from heat_taskflow.persistence import crypto, exceptions

# Explicit constraint names so alembic revisions can refer to them on every database.
NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

# utf8mb4_bin: names compare case-sensitively on MySQL/MariaDB too, as on SQLite and PostgreSQL.
MYSQL_TABLE_ARGS = {
    'mysql_engine': 'InnoDB',
    'mysql_charset': 'utf8mb4',
    'mysql_collate': 'utf8mb4_bin',
}

# Text is 64 KiB on MySQL; templates may be 512 KiB.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql', 'mariadb')

# Microseconds on MySQL too (its DATETIME drops them by default): events order by time.
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


# The engine dialect's attribute holding the Database's crypto.Cipher (None: no key). On the
# dialect because a column type sees only the dialect of the engine it runs on: each
# Database (engine) has its own key, nothing is process-global.
CIPHER_ATTRIBUTE = 'heat_taskflow_cipher'


def cipher_of(dialect):
    """The crypto.Cipher an engine's dialect carries, or None."""
    return getattr(dialect, CIPHER_ATTRIBUTE, None)


class JSONEncoded(sa.types.TypeDecorator):
    """Any JSON value stored as text: identical behaviour on SQLite, PostgreSQL and MariaDB.

    None is stored as SQL NULL and read back as None. A column made with encrypted=True
    may hold values a user wants kept secret (hidden parameters, resolved properties,
    attributes, outputs): with [DEFAULT] encrypt_parameters_and_properties its JSON text
    is stored encrypted (persistence/crypto.py); clear text written earlier stays readable.
    """

    impl = LongText
    cache_ok = True

    def __init__(self, encrypted=False):
        super().__init__()
        self.encrypted = encrypted

    def process_bind_param(self, value, dialect):
        """Serialise a Python value to JSON text (encrypted when the column and the
        engine's key say so)."""
        if value is None:
            return None
        try:
            text = json.dumps(value, separators=(',', ':'), sort_keys=True)
        except (TypeError, ValueError) as err:
            # The message names the type, never the value (it may be secret).
            raise exceptions.InvalidValues('a value cannot be stored as JSON: %s'
                                           % _type_only(err)) from None
        if self.encrypted:
            cipher = cipher_of(dialect)
            if cipher is not None:
                return cipher.seal(text)
        return text

    def process_result_value(self, value, dialect):
        """Parse JSON text back to a Python value."""
        if value is None:
            return None
        if crypto.is_encrypted(value):
            cipher = cipher_of(dialect)
            if cipher is None:
                raise crypto.DecryptionError(
                    'a value in the database is encrypted but no key is configured: set '
                    '[DEFAULT] auth_encryption_key_file to the key file it was encrypted '
                    'with')
            value = cipher.decrypt(value)
        return json.loads(value)


class SecretText(sa.types.TypeDecorator):
    """Text that may be a secret (a RandomString's reference id is its value): stored
    encrypted as JSONEncoded(encrypted=True) is, clear text written earlier stays readable."""

    impl = sa.Text
    cache_ok = True
    encrypted = True

    def process_bind_param(self, value, dialect):
        cipher = cipher_of(dialect)
        if value is None or cipher is None:
            return value
        return cipher.seal(value)

    def process_result_value(self, value, dialect):
        if not crypto.is_encrypted(value):
            return value
        cipher = cipher_of(dialect)
        if cipher is None:
            raise crypto.DecryptionError(
                'a value in the database is encrypted but no key is configured: set '
                '[DEFAULT] auth_encryption_key_file to the key file it was encrypted with')
        return cipher.decrypt(value)


def _type_only(error):
    """A json.dumps error's message without any value in it."""
    if isinstance(error, TypeError) and 'not JSON serializable' in str(error):
        return str(error)       # "Object of type X is not JSON serializable"
    if isinstance(error, TypeError):
        return 'keys of different types in one map (%s)' % type(error).__name__
    return type(error).__name__


def utcnow():
    """The current UTC time, naive (every database stores naive UTC)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def new_uuid():
    """A new random UUID as a 36-character string."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base holding the shared MetaData."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    def to_dict(self):
        """The row's columns as a plain dict."""
        return {c.key: getattr(self, c.key) for c in sa.inspect(type(self)).column_attrs}

    def __repr__(self):
        pk = sa.inspect(self).identity
        return '<%s %s>' % (type(self).__name__, pk[0] if pk and len(pk) == 1 else pk)


class RawTemplate(Base):
    """A template as submitted, with its files and environment."""

    __tablename__ = 'raw_template'
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    template = mapped_column(JSONEncoded(encrypted=True), nullable=False)
    files = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    environment = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    created_at = mapped_column(Timestamp, nullable=False, default=utcnow)


class Stack(Base):
    """A stack; live_name is name while the stack is not deleted, NULL once it is."""

    __tablename__ = 'stack'
    __table_args__ = (
        sa.UniqueConstraint('project_id', 'live_name'),
        sa.Index(None, 'owner_id'),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    name = mapped_column(sa.String(255), nullable=False)
    project_id = mapped_column(sa.String(64), nullable=False)
    live_name = mapped_column(sa.String(255), nullable=True)
    owner_id = mapped_column(
        sa.String(36), sa.ForeignKey('stack.id', ondelete='CASCADE'), nullable=True)
    parent_resource_name = mapped_column(sa.String(255), nullable=True)
    nested_depth = mapped_column(sa.Integer, nullable=False, default=0)
    root_stack_id = mapped_column(sa.String(36), nullable=True)
    action = mapped_column(sa.String(32), nullable=False, default=states.INIT)
    status = mapped_column(sa.String(32), nullable=False, default=states.COMPLETE)
    status_reason = mapped_column(sa.Text, nullable=True)
    convergence = mapped_column(sa.Boolean, nullable=False, default=False)
    current_traversal = mapped_column(sa.String(36), nullable=True)
    raw_template_id = mapped_column(
        sa.Integer, sa.ForeignKey('raw_template.id'), nullable=False, index=True)
    prev_raw_template_id = mapped_column(
        sa.Integer, sa.ForeignKey('raw_template.id', ondelete='SET NULL'), nullable=True,
        index=True)
    parameters = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    timeout = mapped_column(sa.Integer, nullable=True)
    disable_rollback = mapped_column(sa.Boolean, nullable=False, default=True)
    # The legacy process running the current traversal and its last sign of life.
    engine_id = mapped_column(sa.String(255), nullable=True)
    heartbeat_at = mapped_column(Timestamp, nullable=True)
    # The observer repairs drift on this stack by itself.
    auto_converge = mapped_column(sa.Boolean, nullable=False, default=False,
                                  server_default=sa.false())
    # While action is ROLLBACK: the action it rolls back (CREATE: to nothing; UPDATE: to
    # the previous template) and whether a stack cancel asked for it (not a failure).
    rollback_action = mapped_column(sa.String(32), nullable=True)
    rollback_cancelled = mapped_column(sa.Boolean, nullable=False, default=False,
                                       server_default=sa.false())
    created_at = mapped_column(Timestamp, nullable=False, default=utcnow)
    updated_at = mapped_column(Timestamp, nullable=True, onupdate=utcnow)
    deleted_at = mapped_column(Timestamp, nullable=True)


class Resource(Base):
    """One resource of a stack; a replacement is a second row linked by replaces/replaced_by."""

    __tablename__ = 'resource'
    __table_args__ = (
        sa.Index(None, 'stack_id', 'name'),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = mapped_column(sa.String(36), nullable=False, unique=True, default=new_uuid)
    stack_id = mapped_column(
        sa.String(36), sa.ForeignKey('stack.id', ondelete='CASCADE'), nullable=False,
        index=True)
    name = mapped_column(sa.String(255), nullable=False)
    type = mapped_column(sa.String(255), nullable=True)
    physical_resource_id = mapped_column(sa.String(255), nullable=True)
    action = mapped_column(sa.String(32), nullable=False, default=states.INIT)
    status = mapped_column(sa.String(32), nullable=False, default=states.COMPLETE)
    status_reason = mapped_column(sa.Text, nullable=True)
    reference_id = mapped_column(SecretText, nullable=True)
    attributes = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    properties_data = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    template = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    current_template_id = mapped_column(
        sa.Integer, sa.ForeignKey('raw_template.id', ondelete='SET NULL'), nullable=True,
        index=True)
    requires = mapped_column(JSONEncoded, nullable=False, default=list)
    needed_by = mapped_column(JSONEncoded, nullable=False, default=list)
    replaces = mapped_column(sa.Integer, nullable=True)
    replaced_by = mapped_column(sa.Integer, nullable=True)
    engine_id = mapped_column(sa.String(64), nullable=True)
    atomic_key = mapped_column(sa.Integer, nullable=False, default=0)
    root_stack_id = mapped_column(sa.String(36), nullable=True)
    created_at = mapped_column(Timestamp, nullable=False, default=utcnow)
    updated_at = mapped_column(Timestamp, nullable=True, onupdate=utcnow)


class ResourceData(Base):
    """A key/value record a resource plugin keeps (e.g. what it is about to create)."""

    __tablename__ = 'resource_data'
    __table_args__ = (
        sa.UniqueConstraint('resource_id', 'key'),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    resource_id = mapped_column(
        sa.Integer, sa.ForeignKey('resource.id', ondelete='CASCADE'), nullable=False)
    key = mapped_column(sa.String(255), nullable=False)
    value = mapped_column(JSONEncoded(encrypted=True), nullable=True)


class Event(Base):
    """A resource or stack state change; id gives the order."""

    __tablename__ = 'event'
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = mapped_column(sa.String(36), nullable=False, unique=True, default=new_uuid)
    stack_id = mapped_column(
        sa.String(36), sa.ForeignKey('stack.id', ondelete='CASCADE'), nullable=False,
        index=True)
    resource_name = mapped_column(sa.String(255), nullable=True)
    physical_resource_id = mapped_column(sa.String(255), nullable=True)
    resource_type = mapped_column(sa.String(255), nullable=True)
    resource_action = mapped_column(sa.String(32), nullable=True)
    resource_status = mapped_column(sa.String(32), nullable=True)
    resource_status_reason = mapped_column(sa.Text, nullable=True)
    created_at = mapped_column(Timestamp, nullable=False, default=utcnow)
    # The traversal whose resource action wrote it (NULL: a stack's own event, or written
    # before revision 0004), so "no resource reached the same *_COMPLETE twice in one
    # traversal" can be checked.
    traversal_id = mapped_column(sa.String(36), nullable=True)


class StackOutput(Base):
    """A resolved output of a stack (error set when it failed to resolve)."""

    __tablename__ = 'stack_output'
    __table_args__ = (
        sa.UniqueConstraint('stack_id', 'name'),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    stack_id = mapped_column(
        sa.String(36), sa.ForeignKey('stack.id', ondelete='CASCADE'), nullable=False)
    name = mapped_column(sa.String(255), nullable=False)
    value = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    description = mapped_column(sa.Text, nullable=True)
    error = mapped_column(sa.Text, nullable=True)


class SyncPoint(Base):
    """Where a traversal of the distributed path gathers the inputs of an entity."""

    __tablename__ = 'sync_point'
    __table_args__ = (
        sa.Index(None, 'stack_id', 'traversal_id'),
        MYSQL_TABLE_ARGS,
    )

    entity_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    traversal_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    is_update: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True)
    stack_id = mapped_column(
        sa.String(36), sa.ForeignKey('stack.id', ondelete='CASCADE'), nullable=False)
    atomic_key = mapped_column(sa.Integer, nullable=False, default=0)
    input_data = mapped_column(JSONEncoded(encrypted=True), nullable=True)
    created_at = mapped_column(Timestamp, nullable=False, default=utcnow)
    updated_at = mapped_column(Timestamp, nullable=True, onupdate=utcnow)
