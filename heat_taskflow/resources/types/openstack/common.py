"""CloudResource: what every OpenStack plugin shares — exactly-once create, delete, check.

Create follows the idempotency contract of resources/base.py with an intent token
(``htf-<stack id, 32 hex>-<16 random hex>``, see docs/cloud.md section 4), recorded with
``remember`` before the first create call and carried by the create (a tag, metadata or a
name, as the subclass decides):

- first run (this call made the token): create directly, no lookup;
- re-run (the token was already recorded: a crash or a lost answer): look the object up by
  its token and adopt it; create only when there is none;
- a transient failure of the create inside one run: ``cloud.find_or_create`` looks up
  before it tries again.

The physical id is recorded as soon as the create answers; the object is then polled to
``ready_status`` (a failed status fails the resource with the object's fault, and so does
the stack operation's deadline, or ``MAX_WAIT`` seconds when there is none: no wait is
endless). Delete of something gone succeeds; a delete with a token and no physical id (the
crash came between the create call and ``set_physical_id``) finds the object by its token.
Cloud errors become ``ResourceFailure`` naming the resource, the action and the cloud's
message.

``lookup(conn, kind, name_or_id)`` resolves referenced objects (flavors, images, networks,
...) by name or id; flavors and images are cached per connection for ``LOOKUP_TTL`` seconds,
and networks, subnets, security groups and ports given by id for ``ID_LOOKUP_TTL`` seconds
(every port and server of a stack names the same ones, a Port's create leaves its port there
for the server that names it, and an id never names another object;
callers read ids and fields fixed at creation, and a Port's ``subnets`` attribute may show
a subnet as it was up to that long ago).
"""

import contextlib
import functools
import hashlib
import logging
import re
import secrets
import threading
import time
import weakref

from openstack import exceptions as sdk_exc
from openstack.compute.v2 import server as sdk_server

from heat_taskflow.resources import base, cloud
from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure

LOG = logging.getLogger(__name__)

TOKEN_KEY = 'intent_token'
TOKEN_PREFIX = 'htf-'
LOOKUP_TTL = 60.0
ID_LOOKUP_TTL = 10.0
MAX_WAIT = 3600.0     # seconds a wait may last when the operation has no deadline
_HEX32 = re.compile(r'^[0-9a-f]{32}$')


def stack_hex(stack_id):
    """The 32 hex digits of a stack id in intent tokens (a uuid's, else a digest)."""
    text = str(stack_id)
    compact = text.replace('-', '').lower()
    if _HEX32.match(compact):
        return compact
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def make_token(stack_id):
    """A new intent token for a resource of stack ``stack_id`` (53 characters, a valid Nova tag)."""
    return '%s%s-%s' % (TOKEN_PREFIX, stack_hex(stack_id), secrets.token_hex(8))


# -- lookups of referenced objects ---------------------------------------------------------

# kind -> (proxy of the Connection, its find method)
_FINDERS = {
    'flavor': ('compute', 'find_flavor'),
    'image': ('image', 'find_image'),
    'keypair': ('compute', 'find_keypair'),
    'server': ('compute', 'find_server'),
    'network': ('network', 'find_network'),
    'subnet': ('network', 'find_subnet'),
    'port': ('network', 'find_port'),
    'router': ('network', 'find_router'),
    'security_group': ('network', 'find_security_group'),
    'volume': ('block_storage', 'find_volume'),
    'volume_type': ('block_storage', 'find_type'),
}


LOOKUP_KINDS = tuple(_FINDERS)
CACHED_KINDS = ('flavor', 'image')
ID_CACHED_KINDS = ('network', 'subnet', 'security_group', 'port')

_cache_lock = threading.Lock()
_caches = weakref.WeakKeyDictionary()     # Connection -> {(kind, name_or_id): (expiry, obj)}


def _cached(conn, key):
    with _cache_lock:
        entry = _caches.get(conn, {}).get(key)
    if entry is not None and entry[0] > time.monotonic():
        return entry[1]
    return None


def _find(conn, kind, name_or_id):
    # The proxy is reached inside the call: its first use authenticates and discovers.
    proxy, method = _FINDERS[kind]
    return getattr(getattr(conn, proxy), method)(name_or_id, ignore_missing=False)


def lookup(conn, kind, name_or_id):
    """The SDK object of ``kind`` named or identified by ``name_or_id``; cloud.NotFound
    (saying which) when there is none, cloud.CloudError when the name is ambiguous."""
    if kind not in LOOKUP_KINDS:
        raise ValueError('cannot look up a %s; kinds: %s' % (kind, ', '.join(LOOKUP_KINDS)))
    key = (kind, name_or_id)
    if kind in CACHED_KINDS or kind in ID_CACHED_KINDS:
        obj = _cached(conn, key)
        if obj is not None:
            return obj
    try:
        obj = cloud.call(_find, conn, kind, name_or_id)
    except cloud.NotFound:
        raise cloud.NotFound('%s "%s" could not be found' % (kind.replace('_', ' '), name_or_id),
                             404, 'NotFound') from None
    if kind in CACHED_KINDS:
        remember_lookup(conn, kind, name_or_id, obj, LOOKUP_TTL)
    elif kind in ID_CACHED_KINDS and field(obj, 'id') == name_or_id:
        remember_lookup(conn, kind, name_or_id, obj, ID_LOOKUP_TTL)
    return obj


def remember_lookup(conn, kind, name_or_id, obj, ttl):
    """Keep ``obj`` as what ``lookup(conn, kind, name_or_id)`` answers for ``ttl`` seconds."""
    with _cache_lock:
        _caches.setdefault(conn, {})[(kind, name_or_id)] = (time.monotonic() + ttl, obj)


def forget_lookups():
    """Empty the flavor and image cache (tests)."""
    with _cache_lock:
        _caches.clear()


def raw_get(proxy, cls, obj_id):
    """The object ``obj_id`` of the openstacksdk resource class ``cls`` as a plain dict of
    the API's own fields (``GET base_path/ID`` at the microversion openstacksdk would use):
    the polls' hot path, which builds no SDK resource (that costs several times the request).
    A 404 raises openstacksdk's NotFoundException, as its own get does."""
    resp = proxy.get('%s/%s' % (cls.base_path, obj_id), raise_exc=False,
                     microversion=cls._get_microversion(proxy))
    sdk_exc.raise_from_response(resp)
    return resp.json()[cls.resource_key]


def server_ref(server_id):
    """A Server handle for a compute proxy call (no request): given a bare id, openstacksdk's
    volume attachment calls GET the server first to guess the order of their arguments."""
    return sdk_server.Server.existing(id=server_id)


def field(obj, name):
    """A field of an SDK resource or a dict, or None."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _no_answer(exc):
    """The TransientError behind ``exc`` (itself, or a ResourceFailure's cause), or None."""
    if isinstance(exc, cloud.TransientError):
        return exc
    if isinstance(exc, ResourceFailure) and isinstance(exc.__cause__, cloud.TransientError):
        return exc.__cause__
    return None


_CHECKS = {'check_create_complete': base.CREATE, 'check_update_complete': base.UPDATE,
           'check_delete_complete': base.DELETE}


def _patient(check, action):
    """``check`` (a check_*_complete) answering "not yet" when the cloud did not answer
    within the retry window: a poll is safe to repeat, and an outage shorter than the
    operation's deadline must not fail it (``CloudResource.no_answer`` ends the wait at
    the deadline)."""
    if getattr(check, 'patient', False):
        return check

    @functools.wraps(check)
    def patient(self, cookie):
        try:
            return check(self, cookie)
        except (ResourceFailure, cloud.TransientError) as exc:
            error = _no_answer(exc)
            if error is None:
                raise
            self.no_answer(action, error)
            return False

    patient.patient = True
    return patient


class CloudResource(base.Resource):
    """Base class of the plugins of objects in an OpenStack cloud.

    Subclasses implement, on the openstacksdk Connection ``self.conn``:
    ``create_object(token)``, ``find_by_token(token)``, ``get_object(physical_id)`` (may
    raise NotFound or return None), ``delete_object(physical_id)`` (NotFound is success),
    ``update_object(prop_diff)`` for in-place updates, and ``resolve_attribute(name)`` from
    ``self.current()``. ``kind`` names the object in messages; ``ready_status``,
    ``failed_statuses``, ``status_of`` and ``fault_of`` drive the polling; ``observed``
    (``{property: object field}``) lists what ``handle_check`` compares.
    """

    kind = 'object'
    ready_status = None          # status the object reaches when created/updated, or None
    failed_statuses = ('ERROR', 'error')
    observed = {}
    # True where the API deletes before it answers (Neutron): a delete that answered, or
    # found nothing, leaves nothing to poll.
    delete_is_final = False

    def __init_subclass__(cls, **kwargs):
        """A plugin's own check_*_complete polls with the same patience as the base's."""
        super().__init_subclass__(**kwargs)
        for name, action in _CHECKS.items():
            if name in cls.__dict__:
                setattr(cls, name, _patient(cls.__dict__[name], action))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._obj = None
        self._wait_started = {}     # action -> self.now() at its first unfinished poll

    # -- what subclasses provide -----------------------------------------------------------

    def create_object(self, token):
        """Create the object, carrying ``token``; return the SDK resource."""
        raise NotImplementedError

    def find_by_token(self, token):
        """The object carrying ``token``, or None."""
        raise NotImplementedError

    def get_object(self, physical_id):
        """The object of ``physical_id`` (None, or NotFound raised, when it does not exist)."""
        raise NotImplementedError

    def delete_object(self, physical_id):
        """Delete the object (NotFound is taken as success)."""
        raise NotImplementedError

    def update_object(self, prop_diff):
        """Change the object in place to the new ``self.properties`` (converges)."""

    def poll_object(self, physical_id):
        """The object as the status polls read it (None, or NotFound raised, when it does
        not exist): ``get_object`` unless a subclass reads a plain dict (``raw_get``), which
        ``status_of`` and ``fault_of`` then read too."""
        return self.get_object(physical_id)

    def adopt_polled(self, polled):
        """The object for attributes from what ``poll_object`` read (the SDK resource)."""
        return polled

    def physical_id_of(self, obj):
        """The physical id recorded for a created object (its ``id``)."""
        return obj.id

    def status_of(self, obj):
        """The object's status as ``ready_status`` and ``failed_statuses`` spell it."""
        return field(obj, 'status')

    def fault_of(self, obj):
        """The message a failed object carries, or None."""
        return None

    # -- cloud access ----------------------------------------------------------------------

    @property
    def conn(self):
        """The shared openstacksdk Connection of the [cloud] options."""
        return cloud.connection()

    @contextlib.contextmanager
    def failing(self, action):
        """Turn a CloudError raised inside into a ResourceFailure of this resource."""
        try:
            yield
        except cloud.CloudError as exc:
            raise ResourceFailure(self.name, '%s of %s failed: %s'
                                  % (action.lower(), self.kind, exc.message), action) from exc

    def call(self, action, fn, *args, **kwargs):
        """fn(*args, **kwargs) retried on transient errors; a CloudError becomes a
        ResourceFailure naming this resource and ``action``."""
        with self.failing(action):
            return cloud.call(fn, *args, **kwargs)

    def lookup(self, kind, name_or_id, action=base.CREATE):
        """The SDK object of a referenced ``kind`` by name or id (None for None); a
        ResourceFailure when there is none."""
        if name_or_id is None:
            return None
        with self.failing(action):
            return lookup(self.conn, kind, name_or_id)

    def _get(self, physical_id, read=None):
        try:
            return cloud.call(read or self.get_object, physical_id)
        except cloud.NotFound:
            return None

    def observe(self):
        """The object as the cloud shows it now (kept for attributes), or None if gone."""
        if self.physical_id is None:
            return None
        self._obj = self._get(self.physical_id)
        return self._obj

    def current(self):
        """The last observed object, observing it when it has not been yet (None if that
        fails: attributes of an unreachable object are None)."""
        if self._obj is None:
            try:
                self.observe()
            except cloud.CloudError:
                return None
        return self._obj

    # -- create ----------------------------------------------------------------------------

    def intent_token(self):
        """``(token, first_run)``: the recorded token, or a new one recorded now."""
        token = self.data_get(TOKEN_KEY)
        if token is not None:
            return token, False
        stack_id = self.ctx.stack_id if self.ctx is not None else self.name
        token = make_token(stack_id)
        self.data_set(TOKEN_KEY, token)
        return token, True

    def handle_create(self):
        """Record the token, then create (or adopt what an earlier run made with it)."""
        with self.failing(base.CREATE):
            token, first_run = self.intent_token()
            obj = None
            if self.physical_id is not None:
                obj = self._get(self.physical_id)
            elif not first_run:
                obj = cloud.call(self.find_by_token, token)
            if obj is None:
                obj = cloud.find_or_create(lambda: self.find_by_token(token),
                                           lambda: self.create_object(token))
            self.set_physical_id(self.physical_id_of(obj))
        self._obj = obj
        return {'id': self.physical_id}

    def check_create_complete(self, cookie):
        """True when the object has reached ``ready_status``; a failed status raises."""
        return self._ready(base.CREATE)

    def _ready(self, action):
        if self.ready_status is None:
            return True
        with self.failing(action):
            obj = self._get(self.physical_id, self.poll_object)
        if obj is None:
            raise ResourceFailure(self.name, '%s %s vanished while %s was in progress'
                                  % (self.kind, self.physical_id, action.lower()), action)
        status = self.status_of(obj)
        if status in self.failed_statuses:
            raise ResourceFailure(self.name, '%s %s went to status %s: %s'
                                  % (self.kind, self.physical_id, status,
                                     self.fault_of(obj) or 'the cloud gave no reason'), action)
        if status == self.ready_status:
            self._obj = self.adopt_polled(obj)
            return True
        self._check_deadline(action, status)
        return False

    def no_answer(self, action, error):
        """A poll of ``action`` the cloud did not answer within the retry window (``error``,
        a TransientError): logged, and the wait goes on; at the operation's deadline the
        action fails, saying so."""
        LOG.warning("resource '%s': %s: the cloud does not answer (%s); waiting on",
                    self.name, action.lower(), error.message)
        self._check_deadline(action, 'unknown (the cloud does not answer: %s)' % error.message)

    def _check_deadline(self, action, status):
        left = self.time_left()
        if left is not None and left <= 0:
            raise ResourceFailure(self.name, '%s %s still in status %s when the stack '
                                  'operation timed out' % (self.kind, self.physical_id, status),
                                  action)
        if left is None:
            # No deadline (a plugin driven outside a stack operation): no wait is endless.
            waited = self.now() - self._wait_started.setdefault(action, self.now())
            if waited >= MAX_WAIT:
                raise ResourceFailure(self.name, '%s %s still in status %s after %d s (the '
                                      'operation has no deadline; waits end after %d s)'
                                      % (self.kind, self.physical_id, status, waited,
                                         MAX_WAIT), action)

    # -- update ----------------------------------------------------------------------------

    def handle_update(self, new_properties, prop_diff):
        """Change the object in place (converges: a re-run makes the same change)."""
        if prop_diff and self.physical_id is not None:
            self.call(base.UPDATE, self.update_object, prop_diff)
            self._obj = None
        return {'id': self.physical_id}

    def check_update_complete(self, cookie):
        """True when the object is back in ``ready_status``."""
        return self._ready(base.UPDATE)

    # -- delete ----------------------------------------------------------------------------

    def handle_delete(self):
        """Delete the object (gone already is fine), found by its token if no id was kept.
        A delete the cloud does not answer within the retry window (an outage) is sent
        again by ``check_delete_complete`` until the operation's deadline."""
        cookie = {'ids': [], 'wait': [], 'unsent': True}
        try:
            self._send_delete(cookie)
        except ResourceFailure as exc:
            if _no_answer(exc) is None:
                raise
            self.no_answer(base.DELETE, _no_answer(exc))
        return cookie

    def _send_delete(self, cookie):
        """Find (by token) and delete; then ``cookie`` says what to wait for."""
        with self.failing(base.DELETE):
            ids = [self.physical_id] if self.physical_id is not None else []
            token = self.data_get(TOKEN_KEY)
            if not ids and token is not None:
                found = cloud.call(self.find_by_token, token)
                ids = [self.physical_id_of(found)] if found is not None else []
            for physical_id in ids:
                try:
                    cloud.call(self.delete_object, physical_id)
                except cloud.NotFound:
                    pass
        cookie.update(ids=ids, wait=[] if self.delete_is_final else ids, unsent=False)

    def check_delete_complete(self, cookie):
        """True once none of the deleted objects can be found; a failed status raises. A
        delete the cloud did not answer (``unsent``) is sent again first."""
        if cookie and cookie.get('unsent'):
            self._send_delete(cookie)
        for physical_id in cookie.get('wait', cookie['ids']) if cookie else ():
            with self.failing(base.DELETE):
                obj = self._get(physical_id, self.poll_object)
            if obj is None:
                continue
            status = self.status_of(obj)
            if status in self.failed_statuses:
                raise ResourceFailure(self.name, '%s %s went to status %s while being deleted:'
                                      ' %s' % (self.kind, physical_id, status,
                                               self.fault_of(obj) or 'the cloud gave no reason'),
                                      base.DELETE)
            self._check_deadline(base.DELETE, status)
            return False
        return True

    # -- check -----------------------------------------------------------------------------

    def handle_check(self):
        """The object must exist, not be failed, and match the properties ``observed`` lists."""
        if self.physical_id is None:
            raise ResourceCheckFailed(self.name, 'no %s was created' % self.kind)
        try:
            obj = self.observe()
        except cloud.CloudError as exc:
            raise ResourceCheckFailed(self.name, 'cannot observe %s %s: %s'
                                      % (self.kind, self.physical_id, exc.message)) from exc
        if obj is None:
            raise ResourceCheckFailed(self.name, '%s %s no longer exists'
                                      % (self.kind, self.physical_id))
        status = self.status_of(obj)
        if status in self.failed_statuses:
            raise ResourceCheckFailed(self.name, '%s %s is in status %s: %s'
                                      % (self.kind, self.physical_id, status,
                                         self.fault_of(obj) or 'the cloud gave no reason'))
        drift = self.drift(obj)
        if drift:
            raise ResourceCheckFailed(self.name, '%s %s differs from its properties: %s'
                                      % (self.kind, self.physical_id, '; '.join(drift)))

    def drift(self, obj):
        """Messages for each property in ``observed`` the object no longer matches."""
        out = []
        for prop, name in self.observed.items():
            wanted = self.properties[prop]
            if wanted is None:
                continue
            actual = field(obj, name)
            if self.normalise(prop, actual) != self.normalise(prop, wanted):
                out.append('%s is %r, expected %r' % (prop, actual, wanted))
        return out

    def normalise(self, prop, value):
        """A value as compared by the drift check (plugins override for ids and names)."""
        return value

    # -- attributes ------------------------------------------------------------------------

    def show(self):
        """The object as the cloud shows it (Heat's ``show`` attribute), a plain dict."""
        obj = self.current()
        if obj is None:
            return None
        return obj.to_dict() if hasattr(obj, 'to_dict') else dict(obj)


def value_specs(properties):
    """The value_specs property as extra fields of a request (a copy)."""
    return dict(properties.get('value_specs') or {})


for _name, _action in _CHECKS.items():
    setattr(CloudResource, _name, _patient(getattr(CloudResource, _name), _action))
del _name, _action
