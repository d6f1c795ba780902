"""The simulated cloud's request dispatcher: services by prefix, tokens, behaviour, admin API.

``Cloud.handle`` sends a request to the service whose prefix starts its path (``SERVICES``:
``/identity``, ``/compute``, ``/image``, ``/network``, ``/volume``), checks its token
(``X-Auth-Token``, except on version documents) and writes errors in the service's format;
``/healthz`` and ``/admin`` are the simulator's own (no token: it listens on loopback).

``Cloud.call(KIND, VERB, action)`` is what a route handler runs an operation through: it counts
the call, applies the operation's behaviour settings and runs ``action(op)`` in one store
transaction. Behaviour settings: ``latency`` (seconds slept before acting), ``failure_rate``
(0..1), ``fail_next`` (the next N calls fail), ``failure_status`` (HTTP status of an injected
failure, 503 by default), ``failure_mode`` (``before``: fail without acting; ``after``: act,
then answer with the failure, as when a response is lost) and ``build_time`` (seconds a created
or resized server or volume stays in its transitional status). They are looked up in
``KIND.VERB``, then ``KIND.*``, then ``*``, then the defaults the server was started with.

Admin endpoints (JSON; errors ``{"error": {"code", "message"}}``)::

  GET    /admin/audit?kind=&token_prefix= every creation ever: kind, id, token, parent,
                                          created_at, deleted_at, deleted_by; and a summary
  GET    /admin/faults                    effective defaults and per-operation settings
  PUT    /admin/faults                    {"OP": {settings} | null, ...}; DELETE resets all
  GET    /admin/quotas, PUT /admin/quotas {"KIND": limit (-1 or null: unlimited)}; a create
                                          beyond gets the service's own refusal (Nova 403,
                                          Neutron 409 OverQuota, Cinder 413)
  GET    /admin/calls                     {"OP": number of calls} since the server started
  GET    /admin/KIND/ID                   the stored object, private fields included
  PATCH  /admin/KIND/ID                   drift: change fields behind the engine's back
  DELETE /admin/KIND/ID                   drift: remove it behind the engine's back (no checks)
"""

import collections
import importlib
import math
import random
import threading
import time
import uuid

from heat_taskflow.simcloud import framework, identity
from heat_taskflow.simcloud import kinds as kinds_mod
from heat_taskflow.simcloud.kinds import KINDS, ApiError, Op

VERBS = ('create', 'get', 'list', 'update', 'delete')
DEFAULTS = {'latency': 0.0, 'failure_rate': 0.0, 'fail_next': 0, 'failure_status': 503,
            'failure_mode': 'before', 'build_time': 0.0}
FAILURE_MODES = ('before', 'after')

# The modules that declare services and routes (importing one registers them).
SERVICE_MODULES = ('identity', 'compute', 'image', 'network', 'volume')


def _load_services():
    for name in SERVICE_MODULES:
        importlib.import_module('heat_taskflow.simcloud.' + name)
    return dict(framework.SERVICES)


class Cloud:
    """Answers requests against a Store; thread-safe."""

    def __init__(self, store, defaults=None, seed=None, sleep=time.sleep):
        unknown = set(defaults or {}) - set(DEFAULTS)
        if unknown:
            raise ValueError('unknown behaviour settings: %s' % ', '.join(sorted(unknown)))
        self.store = store
        self.defaults = dict(DEFAULTS, **(defaults or {}))
        self.services = _load_services()
        self._random = random.Random(seed)
        self._sleep = sleep
        self._calls = collections.Counter()
        self._lock = threading.Lock()
        # This server owns its database: behaviour settings are read once and kept in
        # memory, and every change is written through.
        with store.tx() as tx:
            self._behaviours = tx.behaviours()
            self.tokens = identity.Tokens(tx.secret('token-key'))
            for kind in KINDS.values():
                kind.seed(Op(tx))

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, method, path, query_pairs=(), body=None, headers=None,
               base_url='http://127.0.0.1'):
        """``(status, payload or None, headers)`` for one request.

        ``payload`` is JSON-able, or a str (a text body, as Glance's errors are).
        """
        headers = headers or {}
        first, _, rest = path.lstrip('/').partition('/')
        if first == 'healthz' and method == 'GET':
            return 200, {'status': 'ok'}, {}
        if first == 'admin':
            try:
                return self._admin(method, [p for p in rest.split('/') if p],
                                   dict(query_pairs), body)
            except ApiError as exc:
                return exc.status, framework.admin_error(exc), {}
        service = self.services.get(first)
        if service is None:
            return 404, framework.admin_error(ApiError(
                404, 'NotFound', 'no such endpoint: %s %s' % (method, path))), {}
        req = framework.Request(self, method, '/' + rest, query_pairs, body, headers,
                                base_url)
        extra = {'X-OpenStack-Request-Id': 'req-%s' % uuid.uuid4()}
        try:
            try:
                route, req.params = service.match(method, req.path)
            except ApiError:
                # As behind keystonemiddleware: no token, no answer, not even a 404.
                self.tokens.check(headers.get('X-Auth-Token'))
                raise
            if route.auth:
                req.auth = self.tokens.check(headers.get('X-Auth-Token'))
            if service.microversions is not None:
                req.version = service.microversions.requested(headers)
                extra.update(service.microversions.headers(req.version))
            result = route.handler(req)
        except ApiError as exc:
            payload = (framework.keystone_error(exc) if exc.status == 401
                       else service.error_format(exc))
            return exc.status, payload, dict(extra, **_auth_headers(exc))
        status, payload = result[:2]
        out = dict(extra, **(result[2] if len(result) > 2 else {}))
        return status, payload, out

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
            if not self._behaviours:
                return False
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

    def call(self, kind, verb, action, token=None, project=None, user=None):
        """Run ``action(op)`` as operation ``KIND.VERB``: count, behave, one transaction.

        ``token`` is the heat-taskflow intent token found in a create (recorded in the
        audit), ``project`` and ``user`` the requester's. An injected failure is raised as an
        ApiError (before acting, or after acting when failure_mode is ``after``).
        """
        op_name = '%s.%s' % (kind, verb)
        with self._lock:
            self._calls[op_name] += 1
        settings = self.settings(op_name)
        if settings['latency'] > 0:
            self._sleep(settings['latency'])
        fail = self._take_failure(op_name)
        failure = ApiError(settings['failure_status'], 'InjectedFailure',
                           'injected failure of %s (%s acting)'
                           % (op_name, settings['failure_mode']))
        if fail and settings['failure_mode'] == 'before':
            raise failure
        with self.store.tx() as tx:
            result = action(Op(tx, build_time=settings['build_time'], token=token,
                               project=project, user=user))
        if fail:
            raise failure
        return result

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
        raise ApiError(404, 'NotFound', 'no such admin endpoint: %s /admin/%s'
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
                raise ApiError(405, 'MethodNotAllowed', '%s /admin/faults' % method)
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
                raise ApiError(405, 'MethodNotAllowed', '%s /admin/quotas' % method)
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
        raise ApiError(405, 'MethodNotAllowed', '%s /admin/%s/%s' % (method, kind, obj_id))


def _auth_headers(exc):
    if exc.status == 401:
        return {'WWW-Authenticate': 'Keystone uri="/identity"'}
    return {}


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
    if not _finite_number(rate) or not 0 <= rate <= 1:
        raise kinds_mod.bad_request('failure_rate must be a number from 0 to 1')
    for key in ('latency', 'build_time'):
        value = settings.get(key, 0)
        if not _finite_number(value) or value < 0:
            raise kinds_mod.bad_request('%s must be a finite number of seconds >= 0' % key)
    fail_next = settings.get('fail_next', 0)
    if not isinstance(fail_next, int) or fail_next < 0:
        raise kinds_mod.bad_request('fail_next must be an integer >= 0')
    status = settings.get('failure_status', 503)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise kinds_mod.bad_request('failure_status must be an HTTP error status (400-599)')


def _finite_number(value):
    """A JSON number that is finite (not a bool, not NaN, not Infinity)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def audit_summary(creations):
    """Counts over audit entries: creations, live ones, and tokens used more than once."""
    per_token = collections.Counter(c['token'] for c in creations if c['token'] is not None)
    return {'creations': len(creations),
            'live': sum(1 for c in creations if c['deleted_at'] is None),
            'tokens': len(per_token),
            'untokened': sum(1 for c in creations if c['token'] is None),
            'duplicate_tokens': {t: n for t, n in per_token.items() if n > 1}}
