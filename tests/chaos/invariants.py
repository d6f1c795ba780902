"""The five checks after a chaos run (docs/chaos.md), from the database and the cloud's audit.

``check(db_url, cloud, operations, run_stacks)`` reads heat-taskflow's tables with plain
SQLAlchemy core on ``db_url`` (reflected, so it reads a database of any revision and never
imports the engine) and the simulated cloud's audit of every creation, and returns a
``Report``:

1. **stuck**: a stack (nested ones included) not deleted and IN_PROGRESS;
2. **failed**: an operation that did not end as expected. A failure for a reason of the
   workload's (a template made to fail) is fine only when the operation expected it
   (``FAILED_BY_WORKLOAD``); a reason matching ``infrastructure_reasons`` is never fine,
   and its problem says "infrastructure";
3. **duplicates**: more than one creation in the audit with one intent token (``htf-...``);
4. **orphans**: a live requested creation that no resource row of a live stack (not
   deleted, nor nested in a deleted one) owns: its id is no row's physical id, its token
   no row's recorded intent token, and its parent (a server's port or volume made on the
   side) is not owned either;
5. **doubled**: a resource reaching the same ``*_COMPLETE`` twice in one traversal. Events
   are grouped by ``event.traversal_id`` where the column exists and is set (the engine
   sets it on resource events, not on a stack's own). Otherwise they are grouped by the
   window from one of the stack's own IN_PROGRESS events (every operation, resume and
   rollback starts with one) to the next, and the report's notes say that this fallback
   was used; the window does not end at the stack's COMPLETE or FAILED, as a late write of
   a re-run (a node killed after its commit, run again) lands after it and still belongs
   to that traversal. Within a traversal a resource is told apart by its physical id (an
   event names no resource row): a replacement's new row reaching CREATE_COMPLETE after
   the old row's CREATE_COMPLETE has another physical id and is not a double.

An operation is a dict (tests/chaos/workload.py writes them): ``stream``, ``op`` (create,
update, delete, resume), ``stack`` (name), ``stack_id`` (or None), ``expected``
(``CREATE_COMPLETE``, ``UPDATE_COMPLETE``, ``DELETE_COMPLETE`` - the stack is gone or
DELETE_COMPLETE -, or ``FAILED_BY_WORKLOAD``), ``status`` and ``reason`` (how it ended),
``started``, ``ended``, ``killed_cli``.
"""

import collections
import dataclasses

import sqlalchemy as sa

TOKEN_PREFIX = 'htf-'        # heat-taskflow's intent tokens (resources/types/openstack)
STACK_EVENT_TYPE = 'OS::Heat::Stack'    # the resource type of a stack's own events

# Words of a status reason that make a failure the infrastructure's (the job board, the
# database, the conductors): never an acceptable end of an operation. Matched without case.
DEFAULT = (
    'Posting failure',
    'did not finish in',         # "... in N attempts ([conductor] max_attempts)"
    'did not finish within',     # "... within the stack timeout" (the watchdog's)
    'max_attempts',
    'session expired',
    'SessionExpired',
    'ConnectionLoss',
    'BoardUnavailable',
    'job board',
    'timed out',
    'database error',
    'database is locked',
    'may have died',
    'Failed connecting to Zookeeper',
    '[jobboard]',
    'cannot connect',
    # The cloud's outage (a restart), not the cloud's answer:
    'the cloud configuration does not work',
    'Unable to establish connection',
    'Connection refused',
    'no answer from the cloud',
)

# Operation statuses that say a deleted stack is gone (the command line no longer finds it).
GONE = frozenset(['DELETE_COMPLETE', 'GONE', 'NOT_FOUND', 'DELETED'])
FAILED_BY_WORKLOAD = 'FAILED_BY_WORKLOAD'

CHECKS = ('stuck', 'failed', 'duplicates', 'orphans', 'doubled')


@dataclasses.dataclass
class Report:
    """What the checks found. ``problems``: one sentence per defect, naming the stack,
    resource, token or traversal at fault; ``details``: the same as dicts, per check;
    ``notes``: how the checks were made (e.g. the traversal fallback)."""

    counts: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    problems: list = dataclasses.field(default_factory=list)
    details: dict = dataclasses.field(
        default_factory=lambda: {name: [] for name in CHECKS})
    notes: list = dataclasses.field(default_factory=list)
    # What was looked at: stacks, resources, events, creations, requested, operations.
    checked: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self):
        """True when no check found anything."""
        return not any(self.counts.values())

    def add(self, check, problem, **detail):
        """Record one defect of a check."""
        self.counts[check] += 1
        self.problems.append('%s: %s' % (check, problem))
        self.details[check].append(dict(detail, problem=problem))

    def to_dict(self):
        """The report as plain JSON-able data."""
        return {'ok': self.ok, 'counts': dict(self.counts), 'problems': list(self.problems),
                'notes': list(self.notes), 'checked': dict(self.checked),
                'details': {k: [_jsonable(d) for d in v] for k, v in self.details.items()}}

    def summary(self):
        """One line: the counts."""
        return '%s: %s' % ('ok' if self.ok else 'FAILED',
                           ', '.join('%s=%d' % (k, self.counts[k]) for k in CHECKS))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def check(db_url, cloud, operations, run_stacks, infrastructure_reasons=DEFAULT):
    """Run the five checks; returns a Report.

    ``cloud``: a tests.functional.simcloud.SimCloud, or anything with its ``audit()``
    method, or an audit ({'creations': [...]}) itself.
    ``run_stacks``: the names of every stack the run made (their stacks, nested ones
    included, are the run's; a live one is reported in the notes).
    """
    report = Report()
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            db = _Snapshot(conn)
    finally:
        engine.dispose()
    creations = _audit(cloud)
    check_stuck(report, db)
    check_failed(report, db, operations, infrastructure_reasons)
    check_duplicates(report, db, creations)
    check_orphans(report, db, creations)
    check_doubled(report, db)
    _note_run_stacks(report, db, run_stacks)
    report.checked = {
        'stacks': len(db.stacks), 'resources': len(db.resources), 'events': len(db.events),
        'creations': len(creations),
        'requested': sum(1 for c in creations
                         if (c.get('token') or '').startswith(TOKEN_PREFIX)),
        'operations': len(operations)}
    return report


def _audit(cloud):
    """The creations of the cloud's audit. Only creations carrying an intent token are
    judged, so the cloud's own objects (``SimCloud.seeded``: they have none) are left out
    without asking ``seeded`` - which a SimCloud made after a restart of the simulator
    would fill with everything made so far."""
    audit = cloud if isinstance(cloud, dict) else cloud.audit()
    return list(audit['creations'])


class _Snapshot:
    """The rows the checks need, read once: stacks, resources, intent tokens, events."""

    def __init__(self, conn):
        meta = sa.MetaData()
        meta.reflect(conn, only=['stack', 'resource', 'resource_data', 'event'])
        stack, resource, data, event = (meta.tables[n] for n in
                                        ('stack', 'resource', 'resource_data', 'event'))
        self.stacks = {r['id']: r for r in _rows(conn, sa.select(
            stack.c.id, stack.c.name, stack.c.owner_id, stack.c.root_stack_id,
            stack.c.action, stack.c.status, stack.c.status_reason, stack.c.current_traversal,
            stack.c.deleted_at, stack.c.updated_at, stack.c.created_at))}
        self.resources = _rows(conn, sa.select(
            resource.c.id, resource.c.stack_id, resource.c.name, resource.c.type,
            resource.c.physical_resource_id, resource.c.action, resource.c.status))
        # Intent tokens are JSON strings ('"htf-..."'); an encrypted value is not readable
        # here and is skipped (the row's physical id still owns its object).
        self.tokens = {}
        for row in _rows(conn, sa.select(data.c.resource_id, data.c.value)
                         .where(data.c.key == 'intent_token')):
            value = row['value']
            if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
                self.tokens[row['resource_id']] = value[1:-1]
        self.has_traversal = 'traversal_id' in event.c
        columns = [event.c.id, event.c.stack_id, event.c.resource_name,
                   event.c.physical_resource_id, event.c.resource_type,
                   event.c.resource_action, event.c.resource_status]
        if self.has_traversal:
            columns.append(event.c.traversal_id)
        self.events = _rows(conn, sa.select(*columns).order_by(event.c.id))
        if not self.has_traversal:
            for row in self.events:
                row['traversal_id'] = None

    def live(self, stack_id):
        """Whether the stack exists and neither it nor a stack it is nested in is deleted."""
        seen = set()
        while stack_id is not None and stack_id not in seen:
            seen.add(stack_id)
            row = self.stacks.get(stack_id)
            if row is None or row['deleted_at'] is not None:
                return False
            stack_id = row['owner_id']
        return True

    def name(self, stack_id):
        """'name' (id), with the stacks it is nested in."""
        row = self.stacks.get(stack_id)
        if row is None:
            return 'stack %s (no row)' % stack_id
        text = "stack '%s' (%s)" % (row['name'], stack_id)
        owner = row['owner_id']
        if owner is not None:
            owner_row = self.stacks.get(owner)
            text += " nested in '%s'" % (owner_row['name'] if owner_row else owner)
        return text

    def by_hex(self):
        """{32 hex digits of a stack id: stack id} (how tokens name stacks)."""
        return {sid.replace('-', '').lower(): sid for sid in self.stacks}


def _rows(conn, query):
    return [dict(r._mapping) for r in conn.execute(query)]


# -- 1. stuck -----------------------------------------------------------------------------

def check_stuck(report, db):
    """Stacks, nested ones included, not deleted and IN_PROGRESS."""
    for sid, row in sorted(db.stacks.items(), key=lambda kv: (kv[1]['name'], kv[0])):
        if row['deleted_at'] is None and row['status'] == 'IN_PROGRESS':
            report.add('stuck', '%s is %s_IN_PROGRESS (traversal %s, last change %s): %s'
                       % (db.name(sid), row['action'], row['current_traversal'],
                          row['updated_at'] or row['created_at'], row['status_reason']),
                       stack_id=sid, stack=row['name'], action=row['action'],
                       traversal=row['current_traversal'])


# -- 2. failed ----------------------------------------------------------------------------

def infrastructure_match(reason, patterns=DEFAULT):
    """The first infrastructure pattern found in reason (case-insensitive), or None."""
    text = (reason or '').lower()
    for pattern in patterns:
        if pattern.lower() in text:
            return pattern
    return None


def check_failed(report, db, operations, infrastructure_reasons=DEFAULT):
    """Operations that did not reach their expected end (see the module's docstring)."""
    for op in operations:
        expected = op.get('expected')
        status = (op.get('status') or '').upper() or None
        reason = op.get('reason') or ''
        derived = ''
        if status is None:
            # The command line was killed (or said nothing): what the operation became is
            # its stack's state.
            status, reason = _db_outcome(db, op)
            derived = ' (%s; state from the database)' % (
                'command line killed' if op.get('killed_cli') else 'no status recorded')
        pattern = infrastructure_match(reason, infrastructure_reasons)
        verdict = _verdict(db, op, expected, status, pattern)
        if verdict is None:
            continue
        stack = op.get('stack_id') and db.name(op['stack_id']) or "stack '%s'" % op.get('stack')
        report.add('failed', "%s of %s (stream %s) ended %s%s, expected %s: %s: %s"
                   % (op.get('op'), stack, op.get('stream'), status, derived, expected,
                      verdict, reason),
                   stream=op.get('stream'), op=op.get('op'), stack=op.get('stack'),
                   stack_id=op.get('stack_id'), expected=expected, status=status,
                   reason=reason, infrastructure=pattern is not None,
                   killed_cli=bool(op.get('killed_cli')))


def _verdict(db, op, expected, status, pattern):
    """Why an operation's end is a failure, or None when it is as expected."""
    infrastructure = pattern and "infrastructure (matches '%s')" % pattern
    if expected == FAILED_BY_WORKLOAD:
        if not (status.endswith('_FAILED') or status.startswith('ROLLBACK_')):
            return infrastructure or 'the workload meant it to fail'
        return infrastructure and infrastructure + ", not the workload's"
    if expected == 'DELETE_COMPLETE':
        if status in GONE:
            stack_id = op.get('stack_id')
            if stack_id is None or not db.live(stack_id):
                return None
            row = db.stacks[stack_id]
            return ('the database has the stack live (%s_%s)'
                    % (row['action'], row['status']))
    elif status == expected:
        return None
    return infrastructure or 'not the infrastructure (a failure the workload did not expect)'


def _db_outcome(db, op):
    """(ACTION_STATUS, reason) of the operation's stack in the database; GONE if none."""
    row = db.stacks.get(op.get('stack_id'))
    if row is None:
        live = [r for r in db.stacks.values()
                if r['name'] == op.get('stack') and r['owner_id'] is None]
        live.sort(key=lambda r: r['created_at'])
        row = live[-1] if live else None
    if row is None:
        return 'GONE', 'no stack of that name in the database'
    if row['deleted_at'] is not None:
        return 'DELETE_COMPLETE', row['status_reason'] or ''
    return '%s_%s' % (row['action'], row['status']), row['status_reason'] or ''


# -- 3. duplicates ------------------------------------------------------------------------

def check_duplicates(report, db, creations):
    """Intent tokens the audit shows more than one creation of."""
    per_token = collections.defaultdict(list)
    for c in creations:
        token = c.get('token') or ''
        if token.startswith(TOKEN_PREFIX):
            per_token[token].append(c)
    by_hex = db.by_hex()
    for token, made in sorted(per_token.items()):
        if len(made) < 2:
            continue
        live = sum(1 for c in made if c.get('deleted_at') is None)
        owner = _token_owner(db, by_hex, token)
        report.add('duplicates', 'token %s (%s) made %d times: %s (%d live)'
                   % (token, owner, len(made),
                      ', '.join('%s %s seq %s' % (c.get('kind'), c.get('id'), c.get('seq'))
                                for c in made), live),
                   token=token, creations=made, owner=owner)


def token_stack_hex(token):
    """The stack id hex an intent token names ('htf-<hex>-<random>[#suffix]')."""
    return token[len(TOKEN_PREFIX):].split('-', 1)[0].lower()


def _token_owner(db, by_hex, token):
    """The stack, and resource if a row recorded the token, that a token belongs to."""
    sid = by_hex.get(token_stack_hex(token))
    text = db.name(sid) if sid else 'stack %s not in the database' % token_stack_hex(token)
    base = token.split('#', 1)[0]
    for r in db.resources:
        if db.tokens.get(r['id']) == base:
            return "%s resource '%s'" % (text, r['name'])
    return text


# -- 4. orphans ---------------------------------------------------------------------------

def check_orphans(report, db, creations):
    """Live requested creations that no resource row of a live stack owns."""
    owned_ids, owned_tokens = set(), set()
    for r in db.resources:
        if not db.live(r['stack_id']):
            continue
        if r['physical_resource_id']:
            owned_ids.add(r['physical_resource_id'])
        if r['id'] in db.tokens:
            owned_tokens.add(db.tokens[r['id']])
    by_id = {c.get('id'): c for c in creations if c.get('deleted_at') is None}

    def owned(c, depth=0):
        if c.get('id') in owned_ids or (c.get('token') or '') in owned_tokens:
            return True
        parent = by_id.get(c.get('parent'))
        return parent is not None and depth < 8 and owned(parent, depth + 1)

    by_hex = db.by_hex()
    last_event = {}
    for e in db.events:
        if e['physical_resource_id']:
            last_event[e['physical_resource_id']] = e
    for c in creations:
        token = c.get('token') or ''
        if (not token.startswith(TOKEN_PREFIX) or c.get('deleted_at') is not None
                or owned(c)):
            continue
        sid = by_hex.get(token_stack_hex(token))
        if sid is None:
            why = 'its stack %s is not in the database' % token_stack_hex(token)
        elif not db.live(sid):
            why = 'its %s is deleted%s' % (
                db.name(sid), '' if db.stacks[sid]['deleted_at'] else ' (a stack it is in)')
        else:
            why = 'no resource row of live %s has it' % db.name(sid)
        seen = last_event.get(c.get('id'))
        if seen is not None:
            why += "; last event: resource '%s' of %s %s_%s" % (
                seen['resource_name'], db.name(seen['stack_id']), seen['resource_action'],
                seen['resource_status'])
        report.add('orphans', '%s %s (token %s) is live but %s'
                   % (c.get('kind'), c.get('id'), token, why),
                   kind=c.get('kind'), id=c.get('id'), token=token, stack_id=sid,
                   seq=c.get('seq'))


# -- 5. doubled ---------------------------------------------------------------------------

def is_stack_event(event):
    """Whether an event is the stack's own (stack events name the stack itself:
    physical id = the stack's id, type OS::Heat::Stack; or no resource name)."""
    return event['resource_name'] is None or (
        event['physical_resource_id'] == event['stack_id']
        and event['resource_type'] in (STACK_EVENT_TYPE, None))


def check_doubled(report, db):
    """A resource's same *_COMPLETE twice in one traversal (see the module's docstring)."""
    groups = collections.defaultdict(list)
    fallback_stacks, fallback_events = set(), 0
    window = {}             # stack id: number of stack events seen so far
    for e in db.events:
        if is_stack_event(e) and e['resource_status'] == 'IN_PROGRESS':
            window[e['stack_id']] = window.get(e['stack_id'], 0) + 1
        if e['resource_status'] != 'COMPLETE':
            continue
        if e['traversal_id'] is not None:
            traversal = ('traversal', e['traversal_id'])
        elif is_stack_event(e):
            continue        # the stack's own COMPLETE: once per window by construction
        else:
            traversal = ('window', window.get(e['stack_id'], 0))
            fallback_stacks.add(e['stack_id'])
            fallback_events += 1
        key = (e['stack_id'], traversal, e['resource_name'], e['resource_action'],
               e['physical_resource_id'])
        groups[key].append(e)
    if fallback_events:
        report.notes.append(
            'doubled: %d COMPLETE events of %d stacks carry no traversal (%s): grouped by '
            "the window between two of the stack's own IN_PROGRESS events instead"
            % (fallback_events, len(fallback_stacks),
               'no event.traversal_id column' if not db.has_traversal
               else 'event.traversal_id is NULL'))
    for (sid, traversal, name, action, physical), events in groups.items():
        if len(events) < 2:
            continue
        if traversal[0] == 'traversal':
            where = 'traversal %s' % traversal[1]
        else:
            where = ("one window between the stack's own IN_PROGRESS events (fallback, no "
                     "traversal id): events %s" % '..'.join(str(events[i]['id']) for i in (0, -1)))
        report.add('doubled', "resource '%s' of %s reached %s_COMPLETE %d times in %s "
                   '(physical id %s; event ids %s)'
                   % (name, db.name(sid), action, len(events), where, physical,
                      ', '.join(str(e['id']) for e in events)),
                   stack_id=sid, resource=name, action=action, physical_id=physical,
                   traversal=traversal[1] if traversal[0] == 'traversal' else None,
                   fallback=traversal[0] != 'traversal',
                   event_ids=[e['id'] for e in events])


# -- the run's stacks ---------------------------------------------------------------------

def _note_run_stacks(report, db, run_stacks):
    """A note naming the run's stacks still live (not a defect: a stream may end on a
    create), and their number."""
    names = set(run_stacks)
    live = sorted({r['name'] for r in db.stacks.values()
                   if r['name'] in names and r['deleted_at'] is None})
    report.notes.append('%d stacks made by the run; %d still live%s'
                        % (len(names), len(live), (': ' + ', '.join(live)) if live else ''))


# -- command line -------------------------------------------------------------------------

def main(argv=None):
    """``python -m tests.chaos.invariants DB_URL AUDIT OPERATIONS [RUN_STACKS]``: check a
    kept run again. AUDIT: a JSON file of the cloud's audit, or the simulator's URL
    (``http://127.0.0.1:PORT``); OPERATIONS and RUN_STACKS: JSON files (a list of
    operations; a list of names, by default the operations' stacks). Prints the report as
    JSON; exit status 1 when a check fails."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog='python -m tests.chaos.invariants',
                                     description=main.__doc__.split('\n\n')[0])
    parser.add_argument('db_url')
    parser.add_argument('audit')
    parser.add_argument('operations')
    parser.add_argument('run_stacks', nargs='?')
    args = parser.parse_args(argv)
    if args.audit.startswith(('http://', 'https://')):
        from tests import simcloud

        cloud = simcloud.SimCloud(args.audit, None)
    else:
        with open(args.audit) as f:
            cloud = json.load(f)
    with open(args.operations) as f:
        operations = json.load(f)
    if args.run_stacks:
        with open(args.run_stacks) as f:
            run_stacks = json.load(f)
    else:
        run_stacks = sorted({op['stack'] for op in operations})
    report = check(args.db_url, cloud, operations, run_stacks)
    json.dump(report.to_dict(), sys.stdout, indent=1, sort_keys=True)
    print('\n' + report.summary())
    return 0 if report.ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
