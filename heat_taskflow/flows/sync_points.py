"""Where the nodes of a distributed traversal meet: one sync point row per node, one per stack.

A traversal of the distributed path runs every node of its operation graph as a job of its
own. The database, not the job board, decides what runs next, by compare-and-swap steps on
the sync point rows (as Heat's convergence engine does):

- a node's sync point holds the keys it requires, the keys already satisfied, the keys that
  depend on it, ``posted`` (its job was posted), ``attempts`` (claims of its job) and
  ``done`` (it ran and propagated);
- the stack's sync point (entity id = stack id) holds the leaf keys it waits for, what the
  traversal converges to (action, raw template id, deadline) so any process can rebuild the
  runtime, and ``outcome``: the one node that ends the traversal, as COMPLETE or FAILED.

``satisfy`` records one input and flips ``posted`` in the same swap when the node's last
input arrives (noting which node flipped it in ``posted_by``): exactly one caller sees the
flip, so in the normal course a node is posted once. A crash between the flip and the post
would lose the post; the re-run of the crashed node (its job is claimed again) calls
``satisfy`` again and learns that it flipped the node before and that the node never
started (MAYBE_LOST), so it posts it again unless the job board already holds a job of it.
``pending`` lists every node that should have a job, for ``stack resume`` and the conductors'
lost-post sweep, which claims each re-post first (``claim_repost``).
"""

import copy
import datetime
import uuid

from heat_taskflow.common.states import COMPLETE, FAILED
from heat_taskflow.flows import graph as graph_mod
from heat_taskflow.persistence import api as db

# Entity ids are 36 characters: node keys (which hold resource names) are hashed into them.
_NAMESPACE = uuid.UUID('5c4d0a5e-7b44-4bb4-9a57-0e8f3f7f2d11')

# What satisfy() tells its caller about the dependent it satisfied.
WAIT = 'wait'              # the dependent still waits for other inputs (or is not ours)
POST = 'post'              # this call flipped it: post it now
MAYBE_LOST = 'maybe-lost'  # we flipped it before, and it never started: a crash may have
                           # lost the post; post it unless the board holds a job of it


def entity_id(node_key):
    """The sync point entity id of a node key."""
    return str(uuid.uuid5(_NAMESPACE, node_key))


def _is_update(node_key):
    return not node_key.startswith(graph_mod.CLEANUP + ':')


def create(database, stack_id, traversal_id, graph, target):
    """Create the sync points of a traversal in one transaction.

    ``target``: what the traversal converges to, kept on the stack's sync point:
    {'action', 'template_id' (None when converging to nothing), 'deadline'}.
    """
    dependents = graph.dependents()
    points = []
    leaves = []
    for node, reqs in graph.requires.items():
        deps = sorted(d.key for d in dependents[node])
        if not deps:
            leaves.append(node.key)
        data = {'key': node.key, 'requires': sorted(r.key for r in reqs), 'satisfied': [],
                'dependents': deps, 'posted': not reqs, 'attempts': 0, 'done': False}
        points.append((entity_id(node.key), _is_update(node.key), data))
    stack_data = dict(target, key='stack', requires=sorted(leaves), satisfied=[],
                      outcome=None)
    points.append((stack_id, True, stack_data))
    # One transaction for the whole traversal (api.sync_point_create is one per row).
    db.sync_point_create_all(database, stack_id, traversal_id, points)


def node(database, stack_id, traversal_id, node_key):
    """A node's sync point data, or None once the traversal's sync points are gone."""
    row = db.sync_point_get(database, entity_id(node_key), traversal_id, _is_update(node_key))
    return dict(row.input_data) if row is not None else None


def stack(database, stack_id, traversal_id):
    """The stack's sync point data of a traversal, or None once it is gone."""
    row = db.sync_point_get(database, stack_id, traversal_id, True)
    return dict(row.input_data) if row is not None else None


def _swap(database, ident, traversal_id, is_update, change):
    """Apply change(data) -> (new data or None for no write, result) by compare-and-swap,
    retrying on a stale read; returns (True, result), or (False, None) if the row is gone."""
    while True:
        row = db.sync_point_get(database, ident, traversal_id, is_update)
        if row is None:
            return False, None
        data = copy.deepcopy(row.input_data)
        new, result = change(data)
        if new is None or new == row.input_data:
            return True, result
        if db.sync_point_update_input(database, ident, traversal_id, is_update, new,
                                      row.atomic_key):
            return True, result


def _node_swap(database, traversal_id, node_key, change):
    return _swap(database, entity_id(node_key), traversal_id, _is_update(node_key), change)


def begin_attempt(database, traversal_id, node_key):
    """Count one more claim of a node's job; returns the node's data after it, or None when
    the traversal is over. A node already done is returned unchanged."""

    def change(data):
        if data['done']:
            return None, data
        data['attempts'] += 1
        return data, data

    return _node_swap(database, traversal_id, node_key, change)[1]


def give_back_attempt(database, traversal_id, node_key):
    """Uncount a claim that was handed back on purpose (a conductor stopping)."""

    def change(data):
        if data['done'] or data['attempts'] <= 0:
            return None, None
        data['attempts'] -= 1
        return data, None

    _node_swap(database, traversal_id, node_key, change)


def mark_done(database, traversal_id, node_key):
    """Record that a node ran and propagated (a later job of it does nothing)."""

    def change(data):
        if data['done']:
            return None, None
        data['done'] = True
        return data, None

    _node_swap(database, traversal_id, node_key, change)


def satisfy(database, traversal_id, node_key, by_key):
    """Record by_key as done for node_key; POST for the one caller that must post it,
    MAYBE_LOST when by_key flipped it earlier (a re-run) and it never started, else WAIT."""

    def change(data):
        satisfied = set(data['satisfied'])
        satisfied.add(by_key)
        data['satisfied'] = sorted(satisfied)
        if data['posted']:
            lost = (data.get('posted_by') == by_key and data['attempts'] == 0
                    and not data['done'])
            return data, MAYBE_LOST if lost else WAIT
        if not satisfied.issuperset(data['requires']):
            return data, WAIT
        data['posted'] = True
        data['posted_by'] = by_key
        return data, POST

    return _node_swap(database, traversal_id, node_key, change)[1] or WAIT


def satisfy_stack(database, stack_id, traversal_id, by_key):
    """Record a leaf as done; True when the traversal is complete and by_key is the node
    that must finish it (also on a re-run of that node after a crash)."""

    def change(data):
        outcome = data['outcome']
        if outcome is not None:
            return None, outcome['status'] == COMPLETE and outcome['by'] == by_key
        satisfied = set(data['satisfied'])
        satisfied.add(by_key)
        data['satisfied'] = sorted(satisfied)
        if not satisfied.issuperset(data['requires']):
            return data, False
        data['outcome'] = {'status': COMPLETE, 'by': by_key, 'reason': None}
        return data, True

    return bool(_swap(database, stack_id, traversal_id, True, change)[1])


def claim_failure(database, stack_id, traversal_id, by_key, reason):
    """Make by_key the node that failed the traversal; True if it is (first, or again on a
    re-run), False when the traversal already ended otherwise or is gone."""

    def change(data):
        outcome = data['outcome']
        if outcome is not None:
            return None, outcome['status'] == FAILED and outcome['by'] == by_key
        data['outcome'] = {'status': FAILED, 'by': by_key, 'reason': reason}
        return data, True

    return bool(_swap(database, stack_id, traversal_id, True, change)[1])


def _nodes(database, stack_id, traversal_id):
    """The data of every node sync point of one traversal."""
    return [p.input_data for p in db.sync_point_list(database, stack_id, traversal_id,
                                                      nodes_only=True)]


def in_flight(database, stack_id, traversal_id):
    """Keys of nodes whose job started and has not finished."""
    return sorted(d['key'] for d in _nodes(database, stack_id, traversal_id)
                  if d['attempts'] > 0 and not d['done'])


def pending(database, stack_id, traversal_id):
    """Keys of every node that should have a job now: posted and not done (whether or not
    it started). A node without a job on the board among these is lost."""
    return sorted(d['key'] for d in _nodes(database, stack_id, traversal_id)
                  if d['posted'] and not d['done'])


def pending_reposts(database, stack_id, traversal_id):
    """{key: repost generation} of the nodes pending() lists: the generation counts the
    lost-post sweep's re-posts of the node (claim_repost), 0 before any."""
    return {d['key']: d.get('reposts', 0) for d in _nodes(database, stack_id, traversal_id)
            if d['posted'] and not d['done']}


def claim_repost(database, traversal_id, node_key, seen):
    """Claim the re-post of a node the lost-post sweep found without a job: True for the
    one caller that moved its repost generation from ``seen`` (what the sweep read while
    it found the node lost) to the next. False when another sweep claimed it first (the
    generation moved on), the node no longer waits for a job (done, or never posted) or
    the traversal is gone. Two conductors thus never both post one lost node: two jobs of
    one node could run its action twice at once."""

    def change(data):
        if not data['posted'] or data['done'] or data.get('reposts', 0) != seen:
            return None, False
        data['reposts'] = seen + 1
        return data, True

    return bool(_node_swap(database, traversal_id, node_key, change)[1])


def stack_started(database, stack_id, traversal_id):
    """(the stack's sync point data, when the traversal's sync points were stored as a
    time.time() value) of a traversal, in one read; (None, None) once they are gone."""
    row = db.sync_point_get(database, stack_id, traversal_id, True)
    if row is None:
        return None, None
    started = row.created_at.replace(tzinfo=datetime.timezone.utc).timestamp()
    return dict(row.input_data), started


def superseded(database, stack_id, traversal_id):
    """True when the stack's current traversal is no longer this one (redirected by an
    update, cancelled, rolled back, reset) or the stack is gone."""
    row = db.stack_get(database, stack_id)
    return row is None or row.current_traversal != traversal_id


def _other_nodes(database, stack_id, traversal_id):
    """(traversal id, data) of every node sync point of the stack's other traversals."""
    return [(p.traversal_id, p.input_data)
            for p in db.sync_point_list(database, stack_id, other_than=traversal_id,
                                        nodes_only=True)]


def others_in_flight(database, stack_id, traversal_id, name=None):
    """(traversal id, key) of the nodes of the stack's other traversals (older ones a
    redirect or cancel left behind) whose job started and has not finished; only those
    acting on resource *name* when it is given."""
    out = []
    for other, data in _other_nodes(database, stack_id, traversal_id):
        if not isinstance(data, dict) or 'attempts' not in data:
            continue        # not a node of a traversal
        if data['attempts'] > 0 and not data['done'] and (
                name is None or graph_mod.Node.from_key(data['key']).name == name):
            out.append((other, data['key']))
    return sorted(out)


def other_traversals(database, stack_id, traversal_id):
    """Ids of the stack's other traversals that still have sync points: those with a stack
    sync point (other rows keyed by the stack, such as the observer's, are no traversal)."""
    return sorted({p.traversal_id
                   for p in db.sync_point_list(database, stack_id, other_than=traversal_id)
                   if p.entity_id == stack_id and p.is_update
                   and isinstance(p.input_data, dict) and p.input_data.get('key') == 'stack'})


def delete(database, stack_id, traversal_id):
    """Remove a finished traversal's sync points (late jobs of it then do nothing)."""
    return db.sync_point_delete_all(database, stack_id, traversal_id)
