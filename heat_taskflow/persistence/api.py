"""Data access: one function per operation, each in its own transaction.

Every function takes the process's Database first. Functions returning rows return detached
model objects (see database.py). A *_get* function returns None when nothing matches.
*_update, *_lock, *_unlock and *_delete return whether a row changed, which is False when a
compare-and-swap expectation was stale. A write naming a missing parent raises a NotFound
subclass of persistence.exceptions; a uniqueness violation raises a Conflict subclass.
"""

import uuid

import sqlalchemy as sa
import tenacity
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from heat_taskflow.common import states
from heat_taskflow.persistence import exceptions
from heat_taskflow.persistence.database import Database  # noqa: F401  (callers build it here)
from heat_taskflow.persistence.models import (
    Base,
    Event,
    RawTemplate,
    Resource,
    ResourceData,
    Stack,
    StackOutput,
    SyncPoint,
    new_uuid,
    utcnow,
)

# Columns the engine may not set through stack_update: identity, and what only
# stack_create/stack_mark_deleted keep consistent (live_name follows name and deleted_at).
_STACK_FIXED = frozenset(['id', 'live_name', 'deleted_at', 'created_at'])
_RESOURCE_FIXED = frozenset(['id', 'stack_id', 'atomic_key', 'created_at'])


def _check_values(model, values, fixed):
    unknown = set(values) - set(model.__table__.c.keys())
    if unknown:
        raise exceptions.InvalidValues('%s has no column %s' % (
            model.__tablename__, ', '.join(sorted(unknown))))
    forbidden = set(values) & fixed
    if forbidden:
        raise exceptions.InvalidValues('%s.%s cannot be updated this way' % (
            model.__tablename__, ', '.join(sorted(forbidden))))


def _integrity_error(error):
    return exceptions.MissingReference(str(error.orig))


# The statements a resource action runs (several per action), built once: building a
# statement and its ORM query costs SQLAlchemy more CPU than running it (about 300 us of
# 600 us for a one-row read on SQLite). They run on a plain Core connection, values passed
# as parameters; Resource objects are made from the rows, detached as everywhere else.
_RESOURCE = Resource.__table__
_EVENT = Event.__table__
_RESOURCE_DATA = ResourceData.__table__
_RESOURCE_BY_NAME = (sa.select(_RESOURCE)
                     .where(_RESOURCE.c.stack_id == sa.bindparam('_stack_id'),
                            _RESOURCE.c.name == sa.bindparam('_name'),
                            _RESOURCE.c.replaced_by.is_(None))
                     .order_by(_RESOURCE.c.id.desc()).limit(1))
_RESOURCE_BY_ID = sa.select(_RESOURCE).where(_RESOURCE.c.id == sa.bindparam('_id'))
# What another resource's action reads of the resources it requires (stored_state).
_RESOURCE_STATES_BY_NAMES = (
    sa.select(_RESOURCE.c.id, _RESOURCE.c.name, _RESOURCE.c.type, _RESOURCE.c.reference_id,
              _RESOURCE.c.attributes)
    .where(_RESOURCE.c.stack_id == sa.bindparam('_stack_id'),
           _RESOURCE.c.name.in_(sa.bindparam('_names', expanding=True)),
           _RESOURCE.c.replaced_by.is_(None))
    .order_by(_RESOURCE.c.id))
# SET columns are the keys of the parameters passed with it.
_RESOURCE_UPDATE = (sa.update(_RESOURCE).where(_RESOURCE.c.id == sa.bindparam('_id'))
                    .values(atomic_key=_RESOURCE.c.atomic_key + 1))
_RESOURCE_UPDATE_CAS = _RESOURCE_UPDATE.where(
    _RESOURCE.c.atomic_key == sa.bindparam('_expected'))
_RESOURCE_INSERT = sa.insert(_RESOURCE)
_EVENT_INSERT = sa.insert(_EVENT)
_RESOURCE_DATA_GET = sa.select(_RESOURCE_DATA.c.key, _RESOURCE_DATA.c.value).where(
    _RESOURCE_DATA.c.resource_id == sa.bindparam('_resource_id'))
# What the distributed path reads and swaps per node, and what polling reads per stack.
_STACK_BY_ID = sa.select(Stack.__table__).where(Stack.__table__.c.id == sa.bindparam('_id'))
_SYNC_POINT = SyncPoint.__table__
_SYNC_POINT_KEY = sa.and_(_SYNC_POINT.c.entity_id == sa.bindparam('_entity_id'),
                          _SYNC_POINT.c.traversal_id == sa.bindparam('_traversal_id'),
                          _SYNC_POINT.c.is_update == sa.bindparam('_is_update'))
_SYNC_POINT_GET = sa.select(_SYNC_POINT).where(_SYNC_POINT_KEY)
_SYNC_POINT_SWAP = (sa.update(_SYNC_POINT)
                    .where(_SYNC_POINT_KEY,
                           _SYNC_POINT.c.atomic_key == sa.bindparam('_expected'))
                    .values(atomic_key=_SYNC_POINT.c.atomic_key + 1))
# Column defaults resource_create fills in itself, so that the row it returns is complete.
_RESOURCE_DEFAULTS = {'action': states.INIT, 'status': states.COMPLETE, 'atomic_key': 0}


def _resource(row):
    """A Resource (detached, every column loaded) from a Core result row."""
    return Resource(**row._mapping)


# raw_template

def raw_template_create(db, template, files=None, environment=None):
    """Store a template with its files and environment; returns the RawTemplate."""
    row = RawTemplate(template=template, files=files, environment=environment)
    with db.session() as session:
        session.add(row)
    return row


def raw_template_get(db, template_id):
    """The RawTemplate of that id, or None."""
    with db.session() as session:
        return session.get(RawTemplate, template_id)


def raw_template_delete(db, template_id):
    """Delete a raw template no stack or resource refers to; returns False if it was gone.

    Raises Conflict while a stack still refers to it.
    """
    try:
        with db.session() as session:
            return session.execute(
                sa.delete(RawTemplate).where(RawTemplate.id == template_id)).rowcount == 1
    except sa.exc.IntegrityError as e:
        raise exceptions.Conflict('raw template %s is in use: %s' % (template_id, e.orig)) from e


# stack

# The resource type of the events a stack records of its own state changes (as Heat's).
STACK_EVENT_TYPE = 'OS::Heat::Stack'


def stack_event(stack_id, name, action, status, reason):
    """The event values of a stack's own state change: its resource is the stack itself
    (resource_name = the stack's name, physical_resource_id = its id)."""
    return dict(stack_id=stack_id, resource_name=name, physical_resource_id=stack_id,
                resource_type=STACK_EVENT_TYPE, resource_action=action,
                resource_status=status, resource_status_reason=reason)


def stack_create(db, event=None, **values):
    """Create a stack from column values; raises StackExists if a live stack has its name.

    ``event``: True records the stack's own event of its initial state (action, status,
    status_reason) in the same transaction: one more INSERT.
    """
    values.setdefault('id', None)
    if values['id'] is None:
        del values['id']
    values['live_name'] = None if values.get('deleted_at') else values.get('name')
    row = Stack(**values)
    try:
        with db.session() as session:
            session.add(row)
            if event:
                session.flush()
                _insert_event(session.connection(), stack_event(
                    row.id, row.name, row.action, row.status, row.status_reason))
    except sa.exc.IntegrityError as e:
        if _is_live_name_conflict(e):
            raise exceptions.StackExists(values.get('name'), values.get('project_id')) from e
        raise _integrity_error(e) from e
    return row


def _is_live_name_conflict(error):
    """Whether an IntegrityError is the (project_id, live_name) constraint failing."""
    text = str(error.orig)
    # PostgreSQL and MySQL name the constraint; SQLite names the columns.
    return 'uq_stack_project_id_live_name' in text or 'stack.live_name' in text


def stack_get(db, stack_id, show_deleted=True):
    """The Stack of that id (deleted ones too unless show_deleted=False), or None."""
    with db.engine.connect() as conn:
        found = conn.execute(_STACK_BY_ID, {'_id': stack_id}).first()
    if found is None or (found.deleted_at is not None and not show_deleted):
        return None
    return Stack(**found._mapping)


def stack_get_by_name(db, name, project_id):
    """The live Stack of that name in the project, or None."""
    query = sa.select(Stack).where(Stack.project_id == project_id, Stack.live_name == name)
    with db.session() as session:
        return session.scalars(query).first()


def stack_list(db, project_id, include_nested=False, owner_id=None, show_deleted=False,
               convergence=None, status=None):
    """Stacks of a project (every project if None), oldest first.

    Only top-level stacks unless include_nested; only children of owner_id when it is given;
    only those on one path (convergence True: distributed) or with one status when given.
    """
    query = sa.select(Stack)
    if project_id is not None:
        query = query.where(Stack.project_id == project_id)
    if convergence is not None:
        query = query.where(Stack.convergence.is_(bool(convergence)))
    if status is not None:
        query = query.where(Stack.status == status)
    if owner_id is not None:
        query = query.where(Stack.owner_id == owner_id)
    elif not include_nested:
        query = query.where(Stack.owner_id.is_(None))
    if not show_deleted:
        query = query.where(Stack.deleted_at.is_(None))
    query = query.order_by(Stack.created_at, Stack.id)
    with db.session() as session:
        return list(session.scalars(query))


def stack_descendants(db, stack_id, depth):
    """The nested stacks of a stack down to ``depth`` levels (deleted ones too), one
    query per level, parents before their children."""
    found, level = [], [stack_id]
    with db.session() as session:
        for _ in range(max(0, int(depth))):
            if not level:
                break
            rows = list(session.scalars(sa.select(Stack).where(Stack.owner_id.in_(level))
                                        .order_by(Stack.created_at, Stack.id)))
            found.extend(rows)
            level = [r.id for r in rows]
    return found


def stack_update(db, stack_id, values, expected_traversal=None, expected_status=None,
                 event=None, clear_outputs=False, mark_deleted=False):
    """Set column values on a stack; returns False if it is gone or, when expected_traversal
    is given, if its current_traversal is not that (a compare-and-swap), or when
    expected_status is given, if its status is not that.

    ``event``: the stack's own event of the change (stack_event's values), inserted in
    the same transaction when the row changed (one more INSERT), not when it did not.
    ``clear_outputs``: remove the stack's stored outputs, and ``mark_deleted``: mark it
    deleted (its name becomes free), both in the same transaction when the row changed: a
    delete's end is one write, so a kill never leaves a deleted stack IN_PROGRESS (which
    no resume can find).
    """
    _check_values(Stack, values, _STACK_FIXED)
    values = dict(values)
    if 'name' in values:
        values['live_name'] = sa.case((Stack.deleted_at.is_(None), values['name']), else_=None)
    if mark_deleted:
        values.update(deleted_at=sa.func.coalesce(Stack.deleted_at, utcnow()),
                      live_name=None)
    query = sa.update(Stack).where(Stack.id == stack_id).values(**values)
    if expected_traversal is not None:
        query = query.where(Stack.current_traversal == expected_traversal)
    if expected_status is not None:
        query = query.where(Stack.status == expected_status)
    try:
        if clear_outputs:
            # Deleting outputs beside a sibling's insert can deadlock on InnoDB's gap
            # locks (see output_set_all): the victim runs again.
            return _retry_deadlock(_stack_update)(db, stack_id, query, event, clear_outputs)
        return _stack_update(db, stack_id, query, event, clear_outputs)
    except sa.exc.IntegrityError as e:
        if _is_live_name_conflict(e):
            raise exceptions.StackExists(values['name'], None) from e
        raise _integrity_error(e) from e


def _stack_update(db, stack_id, query, event, clear_outputs):
    with db.session() as session:
        changed = session.execute(query).rowcount == 1
        if changed and clear_outputs:
            session.execute(sa.delete(StackOutput).where(StackOutput.stack_id == stack_id))
        if changed and event is not None:
            _insert_event(session.connection(), event)
        return changed


def stack_mark_deleted(db, stack_id):
    """Mark a stack deleted (its name becomes free); returns False if missing or already so."""
    query = (sa.update(Stack)
             .where(Stack.id == stack_id, Stack.deleted_at.is_(None))
             .values(deleted_at=utcnow(), live_name=None))
    with db.session() as session:
        return session.execute(query).rowcount == 1


def stack_reset_in_progress(db, stack_ids, reason):
    """Mark the given stacks, where IN_PROGRESS, and their IN_PROGRESS resources FAILED, in
    one transaction, with each reset stack's own event; each reset stack gets a new
    traversal id so that any work still running for the old one stops. Returns the number
    of stacks reset."""
    with db.session() as session:
        reset = 0
        for stack_id in stack_ids:
            changed = session.execute(
                sa.update(Stack)
                .where(Stack.id == stack_id, Stack.status == states.IN_PROGRESS)
                .values(status=states.FAILED, status_reason=reason,
                        current_traversal=str(uuid.uuid4()), updated_at=utcnow())).rowcount
            if changed:
                name, action = session.execute(sa.select(Stack.name, Stack.action)
                                               .where(Stack.id == stack_id)).one()
                _insert_event(session.connection(),
                              stack_event(stack_id, name, action, states.FAILED, reason))
            reset += changed
            session.execute(
                sa.update(Resource)
                .where(Resource.stack_id == stack_id, Resource.status == states.IN_PROGRESS)
                .values(status=states.FAILED, status_reason=reason, engine_id=None,
                        atomic_key=Resource.atomic_key + 1, updated_at=utcnow()))
    return reset


# Legacy liveness (engine/resume.py): which process runs a stack's traversal (engine_id) and
# its last heartbeat. A heartbeat is not a stack change: updated_at keeps its value.
_HOLDER_COLUMNS = frozenset(['engine_id', 'heartbeat_at'])


def stack_set_holder(db, stack_id, values, expected_engine_id=None):
    """Set engine_id and/or heartbeat_at of a stack, leaving updated_at as it is; returns
    False if it is gone or, when expected_engine_id is given, if its engine_id is not that."""
    unknown = set(values) - _HOLDER_COLUMNS
    if unknown:
        raise exceptions.InvalidValues('stack.%s is not a heartbeat column'
                                       % ', '.join(sorted(unknown)))
    query = (sa.update(Stack).where(Stack.id == stack_id)
             .values(updated_at=Stack.updated_at, **values))
    if expected_engine_id is not None:
        query = query.where(Stack.engine_id == expected_engine_id)
    with db.session() as session:
        return session.execute(query).rowcount == 1


def stack_refresh_heartbeats(db, held):
    """Set heartbeat_at to now on every stack of {stack id: engine id} that engine id
    still holds, in one transaction; returns how many it refreshed."""
    by_engine = {}
    for stack_id, engine_id in held.items():
        by_engine.setdefault(engine_id, []).append(stack_id)
    now = utcnow()
    refreshed = 0
    with db.session() as session:
        for engine_id, ids in by_engine.items():
            refreshed += session.execute(
                sa.update(Stack)
                .where(Stack.id.in_(ids), Stack.engine_id == engine_id)
                .values(heartbeat_at=now, updated_at=Stack.updated_at)).rowcount
    return refreshed


def stack_take_over(db, stack_id, traversal_id, expected_engine_id, engine_id):
    """Make engine_id the holder of a stack IN_PROGRESS (heartbeat now) if its
    current_traversal is still traversal_id and its engine_id still expected_engine_id
    (None: no holder), a compare-and-swap; returns whether it did."""
    query = (sa.update(Stack)
             .where(Stack.id == stack_id, Stack.status == states.IN_PROGRESS,
                    Stack.current_traversal == traversal_id)
             .values(engine_id=engine_id, heartbeat_at=utcnow(),
                     updated_at=Stack.updated_at))
    if expected_engine_id is None:
        query = query.where(Stack.engine_id.is_(None))
    else:
        query = query.where(Stack.engine_id == expected_engine_id)
    with db.session() as session:
        return session.execute(query).rowcount == 1


class _StaleFamily(Exception):
    """Raised inside stack_set_convergence's transaction to roll it back."""


def stack_set_convergence(db, expected, states):
    """Move a family of stacks to the distributed path, all or nothing, in one transaction.

    ``expected``: {stack id: current_traversal it must still have}; each stack must also be
    live, on the legacy path and in one of ``states`` ((action, status) pairs). Returns
    False (changing nothing) when any of them no longer is.
    """
    allowed = sa.or_(*[sa.and_(Stack.action == a, Stack.status == s) for a, s in states])
    try:
        with db.session() as session:
            for stack_id, traversal in expected.items():
                changed = session.execute(
                    sa.update(Stack)
                    .where(Stack.id == stack_id, Stack.current_traversal == traversal,
                           Stack.convergence.is_(False), Stack.deleted_at.is_(None),
                           allowed)
                    .values(convergence=True, updated_at=utcnow())).rowcount
                if changed != 1:
                    raise _StaleFamily(stack_id)
    except _StaleFamily:
        return False
    return True


def stack_delete(db, stack_id):
    """Delete a stack, its nested stacks and everything theirs; returns False if it was gone.

    Raw templates only these stacks and their resources used are deleted too.
    """
    with db.session() as session:
        stack_ids = [stack_id]
        level = [stack_id]
        while level:    # one query per nesting level, not per stack
            level = list(session.scalars(sa.select(Stack.id).where(Stack.owner_id.in_(level))))
            stack_ids.extend(level)
        template_ids = set()
        for a, b in session.execute(
                sa.select(Stack.raw_template_id, Stack.prev_raw_template_id)
                .where(Stack.id.in_(stack_ids))):
            template_ids.update((a, b))
        template_ids.update(session.scalars(
            sa.select(Resource.current_template_id).distinct()
            .where(Resource.stack_id.in_(stack_ids))))
        template_ids.discard(None)
        # ON DELETE CASCADE removes nested stacks, resources, events, outputs, sync points.
        deleted = session.execute(sa.delete(Stack).where(Stack.id == stack_id)).rowcount
        if template_ids:
            session.execute(
                sa.delete(RawTemplate)
                .where(RawTemplate.id.in_(template_ids))
                .where(~sa.exists().where(sa.or_(
                    Stack.raw_template_id == RawTemplate.id,
                    Stack.prev_raw_template_id == RawTemplate.id)))
                .where(~sa.exists().where(Resource.current_template_id == RawTemplate.id)))
    return deleted == 1


# resource

def resource_create(db, **values):
    """Create a resource from column values; returns the Resource with its id."""
    _check_values(Resource, values, frozenset(['id']))
    values = dict(_RESOURCE_DEFAULTS, **values)
    values.setdefault('uuid', new_uuid())
    values.setdefault('created_at', utcnow())
    values.setdefault('requires', [])
    values.setdefault('needed_by', [])
    try:
        with db.engine.begin() as conn:
            result = conn.execute(_RESOURCE_INSERT, values)
    except sa.exc.IntegrityError as e:
        raise _integrity_error(e) from e
    row = Resource(**values)
    row.id = result.inserted_primary_key[0]
    return row


def resource_create_replacement(db, replaces_id, event=None, **values):
    """Create the replacement of a resource and link the two (replaces / replaced_by) in one
    transaction; raises ResourceNotFound if the replaced row is gone.

    ``event``: event column values to insert in the same transaction (the replaced row's
    "replacing" event), its ``resource_status_reason`` a format with one ``%d``: the new
    row's id. Returns the new Resource, or (Resource, Event) when an event is given.
    """
    row = Resource(replaces=replaces_id, **values)
    try:
        with db.session() as session:
            session.add(row)
            session.flush()
            linked = session.execute(
                sa.update(Resource).where(Resource.id == replaces_id)
                .values(replaced_by=row.id, atomic_key=Resource.atomic_key + 1)).rowcount
            if linked != 1:
                raise exceptions.ResourceNotFound(replaces_id)
            if event is not None:
                reason = event.get('resource_status_reason') or ''
                event = _insert_event(session.connection(), dict(
                    event, resource_status_reason=reason % row.id))
    except sa.exc.IntegrityError as e:
        raise _integrity_error(e) from e
    return row if event is None else (row, event)


def resource_restore(db, restored_id, replacement_id, event=None):
    """Make a replaced resource current again and its failed replacement the replaced one,
    in one transaction (a rollback after a failed replacement); False if either is gone.

    ``event``: event column values inserted in the same transaction (the restored row's
    event); the Event is then returned instead of True.
    """
    try:
        with db.session() as session:
            for row_id, successor in ((replacement_id, restored_id), (restored_id, None)):
                changed = session.execute(
                    sa.update(Resource).where(Resource.id == row_id)
                    .values(replaced_by=successor,
                            atomic_key=Resource.atomic_key + 1)).rowcount
                if changed != 1:
                    raise exceptions.ResourceNotFound(row_id)   # rolls both back
            if event is not None:
                return _insert_event(session.connection(), event)
    except exceptions.ResourceNotFound:
        return False
    return True


def resource_get(db, resource_id):
    """The Resource of that id, or None."""
    with db.engine.connect() as conn:
        row = conn.execute(_RESOURCE_BY_ID, {'_id': resource_id}).first()
    return None if row is None else _resource(row)


def resource_get_by_name(db, stack_id, name):
    """The current Resource (not replaced) of that name in the stack, or None."""
    with db.engine.connect() as conn:
        row = conn.execute(_RESOURCE_BY_NAME, {'_stack_id': stack_id, '_name': name}).first()
    return None if row is None else _resource(row)


def resource_states_by_names(db, stack_id, names):
    """What dependents read of the current resources of those names in the stack: rows of
    (id, name, type, reference_id, attributes), one query; missing names are absent."""
    names = list(names)
    if not names:
        return []
    with db.engine.connect() as conn:
        rows = conn.execute(_RESOURCE_STATES_BY_NAMES, {'_stack_id': stack_id, '_names': names})
        # Newest wins should two unreplaced rows share a name mid-replacement.
        return list({row.name: row for row in rows}.values())


def resource_list(db, stack_id, current_only=False):
    """The stack's resources in creation order (replaced ones too unless current_only)."""
    query = sa.select(Resource).where(Resource.stack_id == stack_id)
    if current_only:
        query = query.where(Resource.replaced_by.is_(None))
    with db.session() as session:
        return list(session.scalars(query.order_by(Resource.id)))


# Filters of resource_query: Heat's names to columns ('id' is the resource's uuid).
RESOURCE_FILTERS = {'name': 'name', 'type': 'type', 'action': 'action', 'id': 'uuid',
                    'physical_resource_id': 'physical_resource_id'}


def resource_query(db, stack_ids, filters=None, action_status=None):
    """The current (not replaced) resources of the stacks, one query, in the stacks'
    order then creation order: ``filters`` {name of RESOURCE_FILTERS: value or list};
    ``action_status`` [(action or None, status)] of which one must match. Raises
    InvalidValues for an unknown filter."""
    stack_ids = list(stack_ids)
    query = sa.select(Resource).where(Resource.stack_id.in_(stack_ids),
                                      Resource.replaced_by.is_(None))
    query = _filtered(query, Resource, filters, RESOURCE_FILTERS, 'resource')
    if action_status:
        query = query.where(_action_status(Resource.action, Resource.status, action_status))
    with db.session() as session:
        rows = list(session.scalars(query.order_by(Resource.id)))
    position = {stack_id: i for i, stack_id in enumerate(stack_ids)}
    return sorted(rows, key=lambda r: position[r.stack_id])


def resource_update(db, resource_id, values, expected_atomic_key=None):
    """Set column values and bump atomic_key; returns False if the resource is gone or, when
    expected_atomic_key is given, if its atomic_key is not that (a compare-and-swap)."""
    _check_values(Resource, values, _RESOURCE_FIXED)
    params = dict(values, _id=resource_id)
    query = _RESOURCE_UPDATE
    if expected_atomic_key is not None:
        query = _RESOURCE_UPDATE_CAS
        params['_expected'] = expected_atomic_key
    try:
        with db.engine.begin() as conn:
            return conn.execute(query, params).rowcount == 1
    except sa.exc.IntegrityError as e:
        raise _integrity_error(e) from e


def resource_update_with_event(db, resource_id, values, **event_values):
    """resource_update and event_create in one transaction; returns the Event (the update
    changes nothing if the resource is gone, as resource_update)."""
    _check_values(Resource, values, _RESOURCE_FIXED)
    try:
        with db.engine.begin() as conn:
            conn.execute(_RESOURCE_UPDATE, dict(values, _id=resource_id))
            event = _insert_event(conn, event_values)
    except sa.exc.IntegrityError as e:
        raise _integrity_error(e) from e
    return event


def _insert_event(conn, event_values):
    """Insert an event with one plain INSERT in the connection's transaction (no unit of
    work: about half the CPU of session.add + flush); returns the Event with its id."""
    values = dict(event_values, uuid=new_uuid(), created_at=utcnow())
    result = conn.execute(_EVENT_INSERT, values)
    event = Event(**values)
    event.id = result.inserted_primary_key[0]
    return event


def resource_lock(db, resource_id, engine_id):
    """Take the resource for engine_id if it is free or already ours; returns whether we hold
    it."""
    query = (sa.update(Resource)
             .where(Resource.id == resource_id)
             .where(sa.or_(Resource.engine_id.is_(None), Resource.engine_id == engine_id))
             .values(engine_id=engine_id))
    with db.session() as session:
        return session.execute(query).rowcount == 1


def resource_unlock(db, resource_id, engine_id):
    """Release the resource if engine_id holds it; returns whether it did."""
    query = (sa.update(Resource)
             .where(Resource.id == resource_id, Resource.engine_id == engine_id)
             .values(engine_id=None))
    with db.session() as session:
        return session.execute(query).rowcount == 1


def resource_delete(db, resource_id):
    """Delete a resource and its data; returns False if it was gone."""
    with db.session() as session:
        return session.execute(
            sa.delete(Resource).where(Resource.id == resource_id)).rowcount == 1


_RESOURCE_DELETE = sa.delete(_RESOURCE).where(_RESOURCE.c.id == sa.bindparam('_id'))


def resource_delete_with_event(db, resource_id, **event_values):
    """Delete a resource and its data and record its event (DELETE_COMPLETE), in one
    transaction: a process killed in between leaves both or neither. Returns the Event, or
    None (nothing recorded) when the resource was gone already."""
    with db.engine.begin() as conn:
        if conn.execute(_RESOURCE_DELETE, {'_id': resource_id}).rowcount != 1:
            return None
        return _insert_event(conn, event_values)


# resource_data

_INSERT = {
    'sqlite': sqlite_dialect.insert,
    'postgresql': postgresql_dialect.insert,
    'mysql': mysql_dialect.insert,
}


def _upsert_resource_data(dialect):
    insert = _INSERT[dialect](_RESOURCE_DATA)
    if dialect == 'mysql':
        return insert.on_duplicate_key_update(value=insert.inserted.value)
    return insert.on_conflict_do_update(
        index_elements=['resource_id', 'key'], set_={'value': insert.excluded.value})


_RESOURCE_DATA_UPSERT = {dialect: _upsert_resource_data(dialect) for dialect in _INSERT}


def resource_data_set(db, resource_id, key, value):
    """Store value under key for the resource, replacing any earlier value (one upsert)."""
    try:
        with db.engine.begin() as conn:
            conn.execute(_RESOURCE_DATA_UPSERT[db.dialect],
                         {'resource_id': resource_id, 'key': key, 'value': value})
    except sa.exc.IntegrityError as e:
        raise exceptions.ResourceNotFound(resource_id) from e


def resource_data_get(db, resource_id):
    """Every key/value stored for the resource, as a dict (empty if none)."""
    with db.engine.connect() as conn:
        return {key: value for key, value in
                conn.execute(_RESOURCE_DATA_GET, {'_resource_id': resource_id})}


# event

def event_create(db, stack_id, resource_name=None, physical_resource_id=None,
                 resource_type=None, resource_action=None, resource_status=None,
                 resource_status_reason=None, traversal_id=None):
    """Record an event; returns the Event with its id (ids give the order).
    ``traversal_id``: the traversal whose resource action wrote it."""
    values = dict(stack_id=stack_id, resource_name=resource_name,
                  physical_resource_id=physical_resource_id, resource_type=resource_type,
                  resource_action=resource_action, resource_status=resource_status,
                  resource_status_reason=resource_status_reason, traversal_id=traversal_id)
    try:
        with db.engine.begin() as conn:
            return _insert_event(conn, values)
    except sa.exc.IntegrityError as e:
        raise exceptions.StackNotFound(stack_id) from e


_EVENT_EXISTS = (sa.select(_EVENT.c.id)
                 .where(_EVENT.c.stack_id == sa.bindparam('_stack_id'),
                        _EVENT.c.resource_name == sa.bindparam('_name'),
                        _EVENT.c.traversal_id == sa.bindparam('_traversal_id'),
                        _EVENT.c.resource_action == sa.bindparam('_action'),
                        _EVENT.c.resource_status == sa.bindparam('_status'))
                 .limit(1))


def event_exists(db, stack_id, resource_name, traversal_id, action, status):
    """Whether the traversal recorded that state (action, status) of the stack's resource
    (a re-run of an action asks before recording it a second time)."""
    with db.engine.connect() as conn:
        return conn.execute(_EVENT_EXISTS, {
            '_stack_id': stack_id, '_name': resource_name, '_traversal_id': traversal_id,
            '_action': action, '_status': status}).first() is not None


def event_list(db, stack_id, since_id=None, resource_name=None, limit=None):
    """The stack's events in order, only those after since_id and of resource_name if given."""
    query = sa.select(Event).where(Event.stack_id == stack_id)
    if since_id is not None:
        query = query.where(Event.id > since_id)
    if resource_name is not None:
        query = query.where(Event.resource_name == resource_name)
    query = query.order_by(Event.id)
    if limit is not None:
        query = query.limit(limit)
    with db.session() as session:
        return list(session.scalars(query))


# Paged, sorted queries (events, stacks): Heat's marker, limit, sort keys and direction.

class _Key:
    """A sort key: the SQL expression rows are ordered by, and its value on a row (the
    marker's). Text columns sort NULL as '' and a column with a fallback sorts NULL as
    the fallback's value: NULLs order differently on every database."""

    def __init__(self, column, fallback=None):
        self.name = column.key
        self._column = column
        self._fallback = fallback
        if fallback is not None:
            self.expr = sa.func.coalesce(column, fallback)
        elif isinstance(column.type, (sa.String, sa.Text)):
            self.expr = sa.func.coalesce(column, '')
        else:
            self.expr = column

    def value(self, row):
        """The key's value on a row."""
        value = getattr(row, self._column.key)
        if value is None:
            if self._fallback is not None:
                return getattr(row, self._fallback.key)
            if isinstance(self._column.type, (sa.String, sa.Text)):
                return ''
        return value


def _sort_keys(table, names, what):
    """The _Keys of sort key names (unknown ones raise InvalidValues), without repeats."""
    keys = {}
    for name in names:
        key = table.get(name)
        if key is None:
            raise exceptions.InvalidValues('%s sort key "%s" is not one of %s'
                                           % (what, name, ', '.join(sorted(table))))
        keys.setdefault(key.name, key)
    return list(keys.values())


def _filtered(query, model, filters, allowed, what):
    """query with column == value (or IN values, for a list) for each filter; allowed
    maps a filter name to its column name."""
    for name, value in (filters or {}).items():
        if name not in allowed:
            raise exceptions.InvalidValues('%s filter "%s" is not one of %s'
                                           % (what, name, ', '.join(sorted(allowed))))
        column = getattr(model, allowed[name])
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        query = query.where(column.in_([str(v) for v in values]))
    return query


def _action_status(action_column, status_column, pairs):
    """Rows whose (action, status) is one of pairs [(action or None: any, status)]."""
    return sa.or_(*[sa.and_(*([action_column == a] if a else []), status_column == st)
                    for a, st in pairs])


def _paged(session, query, model, keys, marker_row, descending, limit):
    """query's rows ordered by keys then id (all in one direction), after marker_row
    (exclusive; None: from the first), at most limit."""
    keys = list(keys) + [_Key(model.id)]
    if marker_row is not None:
        alternatives = []
        for i, key in enumerate(keys):
            before = [keys[j].expr == keys[j].value(marker_row) for j in range(i)]
            value = key.value(marker_row)
            alternatives.append(sa.and_(*before, key.expr < value if descending
                                        else key.expr > value))
        query = query.where(sa.or_(*alternatives))
    query = query.order_by(*[(k.expr.desc() if descending else k.expr.asc()) for k in keys])
    if limit is not None:
        query = query.limit(int(limit))
    return list(session.scalars(query))


# event queries (the API's event list)

# Sort keys of event_query, by name (Heat's names); the id breaks ties, in the same direction.
EVENT_SORT_KEYS = {
    'event_time': _Key(Event.created_at),
    'created_at': _Key(Event.created_at),
    'resource_name': _Key(Event.resource_name),
    'resource_type': _Key(Event.resource_type),
    'resource_action': _Key(Event.resource_action),
    'resource_status': _Key(Event.resource_status),
    'physical_resource_id': _Key(Event.physical_resource_id),
}
EVENT_FILTERS = {name: name for name in ('resource_name', 'resource_type',
                                         'physical_resource_id', 'resource_action')}


def event_get(db, stack_ids, event_uuid):
    """The Event of that uuid among the stacks' events, or None."""
    query = sa.select(Event).where(Event.uuid == str(event_uuid),
                                   Event.stack_id.in_(list(stack_ids)))
    with db.session() as session:
        return session.scalars(query).first()


def event_query(db, stack_ids, filters=None, action_status=None, marker=None, limit=None,
                sort_keys=None, descending=False):
    """Events of the stacks, one query: ``filters`` {name of EVENT_FILTERS: value or list
    of values}; ``action_status``: [(action or None, status)] of which one must match;
    sorted by ``sort_keys`` (names of EVENT_SORT_KEYS; default event_time) then id, all
    ascending or all ``descending``; only those after the event of uuid ``marker`` in that
    order (exclusive; a marker that is no event of these stacks is ignored, as in Heat);
    at most ``limit``. Raises InvalidValues for an unknown filter or sort key."""
    keys = _sort_keys(EVENT_SORT_KEYS, sort_keys or ['event_time'], 'event')
    query = sa.select(Event).where(Event.stack_id.in_(list(stack_ids)))
    query = _filtered(query, Event, filters, EVENT_FILTERS, 'event')
    if action_status:
        query = query.where(_action_status(Event.resource_action, Event.resource_status,
                                           action_status))
    with db.session() as session:
        found = None
        if marker is not None:
            found = session.scalars(sa.select(Event).where(
                Event.uuid == str(marker), Event.stack_id.in_(list(stack_ids)))).first()
        return _paged(session, query, Event, keys, found, descending, limit)


# stack listing (the API's and the command line's stack list)

# Sort keys of stack_query, by name: the engine's and Heat's API names.
STACK_SORT_KEYS = {
    'name': _Key(Stack.name),
    'stack_name': _Key(Stack.name),
    'status': _Key(Stack.status),
    'stack_status': _Key(Stack.status),
    'action': _Key(Stack.action),
    'stack_action': _Key(Stack.action),
    'created_at': _Key(Stack.created_at),
    'creation_time': _Key(Stack.created_at),
    # A stack never updated sorts by its creation time.
    'updated_at': _Key(Stack.updated_at, Stack.created_at),
    'updated_time': _Key(Stack.updated_at, Stack.created_at),
}
STACK_FILTERS = {'id': 'id', 'name': 'name', 'stack_name': 'name', 'action': 'action',
                 'owner_id': 'owner_id', 'parent': 'owner_id', 'tenant': 'project_id',
                 'project': 'project_id', 'project_id': 'project_id'}


def _stack_selection(query, project_id, filters, action_status, show_deleted, show_nested):
    if project_id is not None:
        query = query.where(Stack.project_id == project_id)
    query = _filtered(query, Stack, filters, STACK_FILTERS, 'stack')
    if action_status:
        query = query.where(_action_status(Stack.action, Stack.status, action_status))
    if not show_deleted:
        query = query.where(Stack.deleted_at.is_(None))
    if not show_nested and not (filters or {}).get('owner_id') \
            and not (filters or {}).get('parent'):
        query = query.where(Stack.owner_id.is_(None))
    return query


def stack_query(db, project_id, filters=None, action_status=None, sort_keys=None,
                descending=False, limit=None, marker=None, show_deleted=False,
                show_nested=False):
    """Stacks of a project (every project if None), one query: ``filters`` {name of
    STACK_FILTERS: value or list}; ``action_status`` [(action or None, status)] of which
    one must match; top-level and live ones unless show_nested / show_deleted; sorted by
    ``sort_keys`` (names of STACK_SORT_KEYS; default created_at) then id, all ascending or
    all ``descending``; after the stack of id ``marker`` in that order (exclusive; one
    not among the project's stacks is ignored, as in Heat); at most ``limit``."""
    keys = _sort_keys(STACK_SORT_KEYS, sort_keys or ['created_at'], 'stack')
    query = _stack_selection(sa.select(Stack), project_id, filters, action_status,
                             show_deleted, show_nested)
    with db.session() as session:
        found = None
        if marker is not None:
            marker_query = sa.select(Stack).where(Stack.id == str(marker))
            if project_id is not None:
                marker_query = marker_query.where(Stack.project_id == project_id)
            found = session.scalars(marker_query).first()
        return _paged(session, query, Stack, keys, found, descending, limit)


def stack_count(db, project_id, filters=None, action_status=None, show_deleted=False,
                show_nested=False):
    """How many stacks stack_query would list without a limit or marker."""
    query = _stack_selection(sa.select(sa.func.count()).select_from(Stack), project_id,
                             filters, action_status, show_deleted, show_nested)
    with db.session() as session:
        return session.execute(query).scalar_one()


# stack_output

# A transaction the database chose as a deadlock's victim is run again this many times.
DEADLOCK_RETRIES = 5


def _is_deadlock(error):
    """Whether an error is a deadlock victim (MySQL/MariaDB 1213, PostgreSQL 40P01)."""
    if not isinstance(error, sa.exc.DBAPIError) or isinstance(error, sa.exc.IntegrityError):
        return False
    orig = getattr(error, 'orig', None)
    args = getattr(orig, 'args', ())
    return bool((args and args[0] == 1213)
                or getattr(orig, 'pgcode', None) == '40P01')


# A deadlock's victim runs again after 10 ms, then 20 ms, ... (the error of the last
# attempt is raised as is).
_retry_deadlock = tenacity.retry(
    retry=tenacity.retry_if_exception(_is_deadlock),
    stop=tenacity.stop_after_attempt(DEADLOCK_RETRIES + 1),
    wait=tenacity.wait_incrementing(start=0.01, increment=0.01),
    reraise=True)


def output_set_all(db, stack_id, outputs):
    """Replace the stack's stored outputs by outputs: {name: {'value', 'description',
    'error'}}. The delete and insert of sibling stacks finishing at once (a group's
    members) can deadlock on InnoDB's gap locks: the victim runs again."""
    rows = [{'stack_id': stack_id, 'name': name, 'value': output.get('value'),
             'description': output.get('description'), 'error': output.get('error')}
            for name, output in outputs.items()]
    try:
        _replace_outputs(db, stack_id, rows)
    except sa.exc.IntegrityError as e:
        raise exceptions.StackNotFound(stack_id) from e


@_retry_deadlock
def _replace_outputs(db, stack_id, rows):
    with db.session() as session:
        session.execute(sa.delete(StackOutput).where(StackOutput.stack_id == stack_id))
        if rows:
            session.execute(sa.insert(StackOutput), rows)


def output_list(db, stack_id):
    """The stack's stored outputs ordered by name."""
    query = (sa.select(StackOutput).where(StackOutput.stack_id == stack_id)
             .order_by(StackOutput.name))
    with db.session() as session:
        return list(session.scalars(query))


def output_get(db, stack_id, name):
    """The stack's stored output of that name, or None."""
    query = sa.select(StackOutput).where(StackOutput.stack_id == stack_id,
                                         StackOutput.name == name)
    with db.session() as session:
        return session.scalars(query).first()


# sync_point

def sync_point_create(db, entity_id, traversal_id, is_update, stack_id, input_data=None):
    """Create a sync point; raises SyncPointExists if that key is taken."""
    row = SyncPoint(entity_id=str(entity_id), traversal_id=traversal_id, is_update=is_update,
                    stack_id=stack_id, input_data=input_data)
    try:
        with db.session() as session:
            session.add(row)
    except sa.exc.IntegrityError as e:
        if _sync_point_exists(db, entity_id, traversal_id, is_update):
            raise exceptions.SyncPointExists((entity_id, traversal_id, is_update)) from e
        raise exceptions.StackNotFound(stack_id) from e
    return row


def sync_point_create_all(db, stack_id, traversal_id, points):
    """Create the sync points of one traversal of a stack in one transaction; ``points``:
    (entity_id, is_update, input_data) tuples. Raises StackNotFound if the stack is gone,
    SyncPointExists (changing nothing) if one of them exists already."""
    rows = [SyncPoint(entity_id=str(entity_id), traversal_id=traversal_id,
                      is_update=is_update, stack_id=stack_id, input_data=input_data)
            for entity_id, is_update, input_data in points]
    try:
        with db.session() as session:
            session.add_all(rows)
    except sa.exc.IntegrityError as e:
        # Entity ids are the stack's and its nodes': a key taken is one of this traversal.
        query = sa.select(SyncPoint).where(SyncPoint.traversal_id == traversal_id).limit(1)
        with db.session() as session:
            taken = session.scalars(query).first()
        if taken is not None:
            raise exceptions.SyncPointExists(
                (taken.entity_id, taken.traversal_id, taken.is_update)) from e
        raise exceptions.StackNotFound(stack_id) from e


def _sync_point_exists(db, entity_id, traversal_id, is_update):
    with db.session() as session:
        return session.get(SyncPoint, (str(entity_id), traversal_id, is_update)) is not None


def sync_point_get(db, entity_id, traversal_id, is_update):
    """The SyncPoint of that key, or None."""
    with db.engine.connect() as conn:
        found = conn.execute(_SYNC_POINT_GET, {'_entity_id': str(entity_id),
                                               '_traversal_id': traversal_id,
                                               '_is_update': is_update}).first()
    return None if found is None else SyncPoint(**found._mapping)


def sync_point_update_input(db, entity_id, traversal_id, is_update, input_data,
                            expected_atomic_key):
    """Replace input_data and bump atomic_key if atomic_key is still expected_atomic_key;
    returns whether it was."""
    params = {'_entity_id': str(entity_id), '_traversal_id': traversal_id,
              '_is_update': is_update, '_expected': expected_atomic_key,
              'input_data': input_data}
    with db.engine.begin() as conn:
        return conn.execute(_SYNC_POINT_SWAP, params).rowcount == 1


def sync_point_list(db, stack_id, traversal_id=None, other_than=None, nodes_only=False):
    """The SyncPoints of a stack: of one traversal (``traversal_id``), or of every traversal
    but one (``other_than``), or all; with ``nodes_only`` without the stack's own end sync
    point (whose entity id is the stack id)."""
    query = sa.select(SyncPoint).where(SyncPoint.stack_id == stack_id)
    if traversal_id is not None:
        query = query.where(SyncPoint.traversal_id == traversal_id)
    if other_than is not None:
        query = query.where(SyncPoint.traversal_id != other_than)
    if nodes_only:
        query = query.where(SyncPoint.entity_id != stack_id)
    with db.session() as session:
        return list(session.scalars(query))


def sync_point_delete_all(db, stack_id, traversal_id):
    """Delete the sync points of one traversal of a stack; returns how many there were."""
    query = sa.delete(SyncPoint).where(SyncPoint.stack_id == stack_id,
                                       SyncPoint.traversal_id == traversal_id)
    with db.session() as session:
        return session.execute(query).rowcount


# encryption at rest (persistence/crypto.py)

def encrypted_columns():
    """[(table, [columns])] of every column whose values are encrypted at rest."""
    out = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.c if getattr(c.type, 'encrypted', False)]
        if columns:
            out.append((table, columns))
    return out


def reencrypt(db, batch_size=500, check_only=False, progress=None):
    """Encrypt every stored value of an encrypted column with db.cipher's first key: clear
    values, and values under an older key listed after it. Returns {table: values changed
    (or, with check_only, values not yet under the first key)}.

    Each batch of batch_size rows is its own transaction, and a value is replaced only if
    it is still the one read (a concurrent write wins), so an interrupted run loses nothing
    and a new run carries on: values already under the first key are left alone.
    progress(table_name, rows_seen, changed) is called after each batch.
    """
    cipher = db.cipher
    if cipher is None:
        raise exceptions.InvalidValues('no encryption key is configured')
    counts = {}
    for table, columns in encrypted_columns():
        key = list(table.primary_key.columns)
        raw = [sa.type_coerce(c, sa.Text).label(c.key) for c in columns]
        last, seen, changed = None, 0, 0
        while True:
            query = sa.select(*key, *raw).order_by(*key).limit(batch_size)
            if last is not None:
                query = query.where(sa.tuple_(*key) > sa.tuple_(*last))
            with db.engine.begin() as conn:
                rows = conn.execute(query).all()
                for row in rows:
                    values = row._mapping
                    new = {}
                    for column in columns:
                        stored = values[column.key]
                        if stored is None or cipher.is_current(stored):
                            continue
                        new[column.key] = stored if check_only else cipher.reencrypt(stored)
                    if not new:
                        continue
                    changed += 1
                    if check_only:
                        continue
                    where = [c == values[c.key] for c in key]
                    where += [sa.type_coerce(table.c[name], sa.Text)
                              == sa.literal(values[name], sa.Text) for name in new]
                    conn.execute(sa.update(table).where(*where).values(
                        {name: sa.literal(value, sa.Text) for name, value in new.items()}))
            seen += len(rows)
            if progress is not None:
                progress(table.name, seen, changed)
            if len(rows) < batch_size:
                break
            last = [rows[-1]._mapping[c.key] for c in key]
        counts[table.name] = changed
    return counts
