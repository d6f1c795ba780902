"""The simulated cloud's request dispatcher: REST over the kinds, behaviour, quotas, drift, audit.

Endpoints (JSON in and out; errors are ``{"error": {"code", "message"}}``)::

  GET    /healthz                         {"status": "ok"}
  GET    /v1                              kinds and flavors
  GET    /v1/flavors                      the flavor catalog (name, id, vcpus, ram, disk)
  GET    /v1/KIND?field=value             {"KIND": [objects]} (filters: name, token, body fields)
  POST   /v1/KIND                         create; header Idempotency-Key: TOKEN. 201, or 200 with
                                          X-Idempotent-Replay: true when TOKEN names a live object
  GET    /v1/KIND/ID                      the object
  PUT    /v1/KIND/ID                      update the given fields (PATCH is the same)
  DELETE /v1/KIND/ID                      204; 404 when it does not exist
  GET    /admin/audit?kind=&token_prefix= every creation ever: kind, id, token, parent,
                                          created_at, deleted_at, deleted_by; and a summary
  GET    /admin/faults                    effective defaults and per-operation settings
  PUT    /admin/faults                    {"OP": {settings} | null, ...}; DELETE resets all
  GET    /admin/quotas, PUT /admin/quotas {"KIND": limit (-1 or null: unlimited)}
  GET    /admin/calls                     {"OP": number of calls} since the server started
  GET    /admin/KIND/ID                   the stored object, private fields included
  PATCH  /admin/KIND/ID                   drift: change fields behind the engine's back
  DELETE /admin/KIND/ID                   drift: remove it behind the engine's back (no checks)

KIND is one of ``kinds.KINDS``; an operation (OP) is ``KIND.VERB`` with VERB one of create,
get, list, update, delete. Behaviour settings: ``latency`` (seconds slept before acting),
``failure_rate`` (0..1), ``fail_next`` (the next N calls fail), ``failure_status`` (HTTP
status of an injected failure, 503 by default), ``failure_mode`` (``before``: fail without
acting; ``after``: act, then answer with the failure, as when a response is lost) and
``build_time`` (seconds a created/resized server or volume stays in its transitional status).
Settings are looked up in ``KIND.VERB``, then ``KIND.*``, then ``*``, then the defaults the
server was started with. Quotas limit how many objects of a kind may exist (403).
"""

import collections
import random
import threading
import time

from heat_taskflow.simcloud import kinds as kinds_mod
from heat_taskflow.simcloud.kinds import KINDS, ApiError, Op

VERBS = ('create', 'get', 'list', 'update', 'delete')
DEFAULTS = {'latency': 0.0, 'failure_rate': 0.0, 'fail_next': 0, 'failure_status': 503,
            'failure_mode': 'before', 'build_time': 0.0}
FAILURE_MODES = ('before', 'after')
TOKEN_HEADER = 'Idempotency-Key'
REPLAY_HEADER = 'X-Idempotent-Replay'


def _error(status, code, message):
    return status, {'error': {'code': code, 'message': message}}, {}


class Cloud:
    """Answers requests against a Store; thread-safe."""

    def __init__(self, store, defaults=None, seed=None, sleep=time.sleep):
        unknown = set(defaults or {}) - set(DEFAULTS)
        if unknown:
            raise ValueError('unknown behaviour settings: %s' % ', '.join(sorted(unknown)))
        self.store = store
        self.defaults = dict(DEFAULTS, **(defaults or {}))
        self._random = random.Random(seed)
        self._sleep = sleep
        self._calls = collections.Counter()
        self._lock = threading.Lock()
        # This server owns its database: behaviour settings are read once and kept in
        # memory, and every change is written through.
        with store.tx() as tx:
            self._behaviours = tx.behaviours()

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, method, path, query=None, body=None, headers=None):
        """``(status, payload or None, headers)`` for one request."""
        query = query or {}
        headers = headers or {}
        parts = [p for p in path.split('/') if p]
        try:
            if parts == ['healthz'] and method == 'GET':
                return 200, {'status': 'ok'}, {}
            if parts and parts[0] == 'v1':
                return self._v1(method, parts[1:], query, body, headers)
            if parts and parts[0] == 'admin':
                return self._admin(method, parts[1:], query, body)
            return _error(404, 'NotFound', 'no such endpoint: %s %s' % (method, path))
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)

    def _v1(self, method, parts, query, body, headers):
        if not parts:
            return 200, {'kinds': sorted(KINDS),
                         'flavors': sorted(kinds_mod.FLAVORS)}, {}
        if parts == ['flavors'] and method == 'GET':
            return 200, {'flavors': list(kinds_mod.FLAVORS.values())}, {}
        kind = parts[0]
        if kind not in KINDS:
            return _error(404, 'NotFound', 'unknown collection "%s"; collections: %s'
                          % (kind, ', '.join(sorted(KINDS))))
        if len(parts) == 1 and method == 'GET':
            return self._call(kind, 'list', lambda op: (200, {kind: self._list(op, kind, query)},
                                                        {}))
        if len(parts) == 1 and method == 'POST':
            token = headers.get(TOKEN_HEADER) or None
            return self._call(kind, 'create', lambda op: self._create(op, kind, body),
                              token=token)
        if len(parts) == 2:
            obj_id = parts[1]
            if method == 'GET':
                return self._call(kind, 'get', lambda op: (
                    200, KINDS[kind].view(op, op.require(kind, obj_id)), {}))
            if method in ('PUT', 'PATCH'):
                return self._call(kind, 'update', lambda op: self._update(op, kind, obj_id,
                                                                          body))
            if method == 'DELETE':
                return self._call(kind, 'delete', lambda op: self._delete(op, kind, obj_id))
        return _error(405, 'MethodNotAllowed', '%s is not allowed on %s'
                      % (method, '/v1/' + '/'.join(parts)))

    # -- behaviour -------------------------------------------------------------------------

    def settings(self, op_name):
        """The effective behaviour settings of an operation."""
        with self._lock:
            rows = dict(self._behaviours)
        kind = op_name.split('.', 1)[0]
        out = dict(self.defaults)
        for key in ('*', '%s.*' % kind, op_name):
            out.update(rows.get(key) or {})
        return out

    def _take_failure(self, op_name):
        """Whether this call fails by injection (an exact count is used up first)."""
        kind = op_name.split('.', 1)[0]
        with self._lock:
            for key in (op_name, '%s.*' % kind, '*'):
                row = self._behaviours.get(key)
                if row and row.get('fail_next', 0) > 0:
                    row = dict(row, fail_next=row['fail_next'] - 1)
                    self._behaviours[key] = row
                    break
            else:
                row = None
        if row is not None:
            # Written outside self._lock: the store's lock is always taken first.
            with self.store.tx() as tx:
                tx.set_behaviour(key, row)
            return True
        rate = self.settings(op_name)['failure_rate']
        with self._lock:
            return rate > 0 and self._random.random() < rate

    def _call(self, kind, verb, action, token=None):
        op_name = '%s.%s' % (kind, verb)
        with self._lock:
            self._calls[op_name] += 1
        settings = self.settings(op_name)
        if settings['latency'] > 0:
            self._sleep(settings['latency'])
        fail = self._take_failure(op_name)
        failure = _error(settings['failure_status'], 'InjectedFailure',
                         'injected failure of %s (%s acting)'
                         % (op_name, settings['failure_mode']))
        if fail and settings['failure_mode'] == 'before':
            return failure
        with self.store.tx() as tx:
            result = action(Op(tx, build_time=settings['build_time'], token=token))
        return failure if fail else result

    # -- object operations -----------------------------------------------------------------

    def _list(self, op, kind, query):
        filters = dict(query)
        token = filters.pop('token', None)
        parent = filters.pop('parent', None)
        return [KINDS[kind].view(op, body)
                for body in op.tx.find(kind, token=token, parent=parent, **filters)]

    def _create(self, op, kind, spec):
        if not isinstance(spec, dict):
            raise kinds_mod.bad_request('a create request body must be a JSON object')
        if op.token is not None:
            existing = op.tx.find(kind, token=op.token)
            if existing:
                return 200, KINDS[kind].view(op, existing[0]), {REPLAY_HEADER: 'true'}
        limit = op.tx.quotas().get(kind)
        if limit is not None and op.tx.count(kind) >= limit:
            raise ApiError(403, 'QuotaExceeded', 'Quota exceeded for %s: limit %d reached'
                           % (kind, limit))
        body = KINDS[kind].create(op, spec)
        body = op.tx.insert(kind, body, token=op.token)
        KINDS[kind].after_insert(op, body)
        return 201, KINDS[kind].view(op, op.tx.get(kind, body['id'])), {}

    def _update(self, op, kind, obj_id, patch):
        if not isinstance(patch, dict):
            raise kinds_mod.bad_request('an update request body must be a JSON object')
        body = op.require(kind, obj_id)
        body = KINDS[kind].update(op, body, patch)
        op.tx.update(kind, body)
        return 200, KINDS[kind].view(op, body), {}

    def _delete(self, op, kind, obj_id):
        body = op.require(kind, obj_id)
        KINDS[kind].delete(op, body)
        op.tx.delete(kind, obj_id)
        return 204, None, {}

    # -- admin -----------------------------------------------------------------------------

    def _admin(self, method, parts, query, body):
        if parts == ['audit'] and method == 'GET':
            with self.store.tx() as tx:
                creations = tx.creations(kind=query.get('kind'),
                                         token_prefix=query.get('token_prefix'))
            return 200, {'creations': creations, 'summary': audit_summary(creations)}, {}
        if parts == ['faults']:
            return self._faults(method, body)
        if parts == ['quotas']:
            return self._quotas(method, body)
        if parts == ['calls'] and method == 'GET':
            with self._lock:
                return 200, dict(self._calls), {}
        if len(parts) == 2 and parts[0] in KINDS:
            return self._drift(method, parts[0], parts[1], body)
        return _error(404, 'NotFound', 'no such admin endpoint: %s /admin/%s'
                      % (method, '/'.join(parts)))

    def _faults(self, method, body):
        with self.store.tx() as tx:
            if method == 'PUT':
                if not isinstance(body, dict):
                    raise kinds_mod.bad_request('expected {"OP": {settings} or null}')
                for op_name, settings in body.items():
                    _check_op_name(op_name)
                    if settings is not None:
                        _check_settings(op_name, settings)
                    tx.set_behaviour(op_name, settings)
            elif method == 'DELETE':
                for op_name in tx.behaviours():
                    tx.set_behaviour(op_name, None)
            elif method != 'GET':
                return _error(405, 'MethodNotAllowed', '%s /admin/faults' % method)
            operations = tx.behaviours()
            with self._lock:
                self._behaviours = dict(operations)
        return 200, {'defaults': dict(self.defaults), 'operations': operations}, {}

    def _quotas(self, method, body):
        with self.store.tx() as tx:
            if method == 'PUT':
                if not isinstance(body, dict):
                    raise kinds_mod.bad_request('expected {"KIND": limit}')
                for kind, limit in body.items():
                    if kind not in KINDS:
                        raise kinds_mod.bad_request('unknown kind "%s"' % kind)
                    if limit is not None and (not isinstance(limit, int) or
                                              isinstance(limit, bool)):
                        raise kinds_mod.bad_request('quota of %s must be an integer' % kind)
                    tx.set_quota(kind, limit)
            elif method != 'GET':
                return _error(405, 'MethodNotAllowed', '%s /admin/quotas' % method)
            quotas = tx.quotas()
            usage = {kind: tx.count(kind) for kind in KINDS}
        return 200, {'quotas': quotas, 'usage': usage}, {}

    def _drift(self, method, kind, obj_id, patch):
        with self.store.tx() as tx:
            body = tx.get(kind, obj_id)
            if body is None:
                raise kinds_mod.not_found(kind, obj_id)
            if method == 'GET':
                return 200, body, {}
            if method == 'PATCH':
                if not isinstance(patch, dict):
                    raise kinds_mod.bad_request('a drift patch must be a JSON object')
                body.update(patch)
                if 'status' in patch:
                    body.pop('_ready_at', None)
                    body.pop('_ready_status', None)
                tx.update(kind, body)
                return 200, body, {}
            if method == 'DELETE':
                tx.delete(kind, obj_id, by='admin')
                return 204, None, {}
        return _error(405, 'MethodNotAllowed', '%s /admin/%s/%s' % (method, kind, obj_id))


def _check_op_name(op_name):
    if op_name == '*':
        return
    kind, _, verb = op_name.partition('.')
    if kind not in KINDS or verb not in VERBS + ('*',):
        raise kinds_mod.bad_request('unknown operation "%s": use KIND.VERB, KIND.* or *, with '
                                    'VERB one of %s' % (op_name, ', '.join(VERBS)))


def _check_settings(op_name, settings):
    if not isinstance(settings, dict):
        raise kinds_mod.bad_request('settings of %s must be an object' % op_name)
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise kinds_mod.bad_request('unknown settings for %s: %s; valid settings: %s'
                                    % (op_name, ', '.join(unknown), ', '.join(DEFAULTS)))
    if settings.get('failure_mode', 'before') not in FAILURE_MODES:
        raise kinds_mod.bad_request('failure_mode must be one of %s' % ', '.join(FAILURE_MODES))
    rate = settings.get('failure_rate', 0)
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise kinds_mod.bad_request('failure_rate must be a number from 0 to 1')
    for key in ('latency', 'build_time'):
        value = settings.get(key, 0)
        if not isinstance(value, (int, float)) or value < 0:
            raise kinds_mod.bad_request('%s must be a number of seconds >= 0' % key)
    fail_next = settings.get('fail_next', 0)
    if not isinstance(fail_next, int) or fail_next < 0:
        raise kinds_mod.bad_request('fail_next must be an integer >= 0')
    status = settings.get('failure_status', 503)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise kinds_mod.bad_request('failure_status must be an HTTP error status (400-599)')


def audit_summary(creations):
    """Counts over audit entries: creations, live ones, and tokens used more than once."""
    per_token = collections.Counter(c['token'] for c in creations if c['token'] is not None)
    return {'creations': len(creations),
            'live': sum(1 for c in creations if c['deleted_at'] is None),
            'tokens': len(per_token),
            'untokened': sum(1 for c in creations if c['token'] is None),
            'duplicate_tokens': {t: n for t, n in per_token.items() if n > 1}}
