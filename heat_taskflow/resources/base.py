"""The resource plugin API: ``Resource``, ``ResourceContext`` and ``NestedStackService``.

The idempotency contract
========================

Every action of a plugin may run more than once for the same resource. A conductor can die in
the middle of ``handle_create`` and another conductor re-runs the action from the start, on a
fresh plugin instance, with the same ``ResourceContext`` data (TaskFlow claims are not
pre-emptive, so even two live runs can overlap). Every plugin therefore keeps these rules:

1. **Record, then act.** Before calling out to create something, record what is about to be
   created with ``ctx.data_set`` (a name, a client token, a generated value); ``data_set``
   and ``set_physical_id`` are durable when they return. ``Resource.remember(key, make)``
   does this: it returns the recorded value, or makes one and records it first.
2. **Adopt on re-run.** When an action starts and the record already names something, look
   for that thing and adopt it instead of creating another: a re-run must never leave two
   physical resources where one was asked for. Creating by a recorded, deterministic name
   (``physical_resource_name()``) is the usual way, together with services whose create is
   idempotent by name (``NestedStackService.create_stack`` is).
3. **Set the physical id as soon as it is known** with ``set_physical_id``.
4. **Delete is idempotent.** Deleting something already gone succeeds; deleting a resource
   whose create never started (no physical id, no record) succeeds at once.
5. **Update converges.** ``handle_update`` sets the real thing to the new properties; running
   it twice gives the same result as running it once.
6. **Polling is restartable.** A cookie returned by ``handle_*`` lives only in memory: after a
   crash the engine calls ``handle_*`` again, not ``check_*_complete`` with an old cookie, so
   rules 1-2 are what make a re-run safe; cookies must be plain data.

Plugin lifecycle
================

``cls(name, properties, ctx, physical_id=None, data=None, deletion_policy='Delete')``;
``validate()``; for each action, ``cookie = handle_ACTION(...)`` then
``check_ACTION_complete(cookie)`` is polled until it returns True (a synchronous action returns
None from ``handle_*``, and the default ``check_*_complete`` answers True at once). Failures
are raised as ``ResourceFailure`` (any other exception is a failure too).

Optional hooks are declared on ``Resource`` with their defaults, and a plugin overrides those
it needs: ``takes_signals``, ``waits_for_child_stack``, ``handle_check`` with
``check_check_complete``, ``handle_drift_check`` (drift without an operation: the observer,
``update --converge``), ``repairs_in_place`` (a CHECK_FAILED resource updated rather than
replaced), and the classmethod ``implicit_dependencies(name, view)`` (Heat's
``add_dependencies``: names of resources of the same stack this one must come after although
its properties do not refer to them; ``view`` is a ``registry.StackView``). Likewise the
optional methods of ``NestedStackService`` have defaults that keep a check shallow.

Replacement hooks (Heat's): a replacement is created before the resource it replaces is
deleted, so what only one of them may hold (a port given to a server) has to move.
``prepare_for_replace()`` runs on the resource being replaced (a plugin on its stored
properties and physical id, which may be None) before its replacement's create starts: it
lets go of what the replacement will take. ``restore_prev_rsrc(replacement)`` runs on that
same resource when its replacement failed and an update back to it (a rollback) makes it
current again: it takes back what it let go of, from ``replacement`` (a plugin on the failed
replacement's stored properties and physical id, which may be None: it may never have been
created). Both are safe to run twice and after a partial run (a conductor may die in the
middle and the action runs again from the start): they converge on their end state (let go
of, or taken back), and finding it reached already is success. A failure fails the action
(the update, or the rollback) with the hook's message; both do nothing by default.
"""

import abc
import functools
import secrets
import time

from heat_taskflow.common import states
from heat_taskflow.resources import attributes as attr
from heat_taskflow.resources import properties as props
from heat_taskflow.resources.exceptions import InvalidAttribute, InvalidProperties, ResourceError
from heat_taskflow.template import limits as limits_mod

# The actions a plugin performs, and the statuses it reads (of nested stacks).
ACTIONS = (CREATE, UPDATE, DELETE, CHECK) = (states.CREATE, states.UPDATE, states.DELETE,
                                            states.CHECK)
STATUSES = (IN_PROGRESS, COMPLETE, FAILED) = states.STATUSES
DELETION_POLICIES = (DELETE_POLICY, RETAIN, SNAPSHOT) = ('Delete', 'Retain', 'Snapshot')


class NestedStackService(abc.ABC):
    """Nested stacks, as the engine offers them to a plugin (through ``ctx.nested``).

    Stack operations run asynchronously: ``create_stack``, ``update_stack`` and
    ``delete_stack`` start the operation and return; the plugin polls ``stack_status``.
    When one of them returns, ``stack_status`` already reports the new action (in progress
    or finished), never the state from before.
    """

    @abc.abstractmethod
    def create_stack(self, name, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        """Start creating a child stack of the calling resource; return its stack id.

        ``template`` and ``environment`` are dicts. Idempotent by name: when a child stack of
        this name already exists for the calling resource (an earlier run crashed before it
        recorded the id), return that stack's id instead of creating another.
        """

    @abc.abstractmethod
    def update_stack(self, stack_id, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        """Start updating a child stack to a new template, environment and parameters."""

    @abc.abstractmethod
    def delete_stack(self, stack_id):
        """Start deleting a child stack; a stack that does not exist is not an error."""

    @abc.abstractmethod
    def stack_status(self, stack_id):
        """``(action, status, reason)``; a stack that does not exist is DELETE COMPLETE."""

    @abc.abstractmethod
    def stack_outputs(self, stack_id):
        """``{output name: value}`` of a child stack (value None when an output has failed)."""

    @abc.abstractmethod
    def stack_resource_ids(self, stack_id):
        """``{resource name: reference id}`` of the resources in a child stack."""

    # Optional: a service without them gives nested stack resources a shallow check.

    def check_stack(self, stack_id):
        """Start a check of a child stack (polled with ``stack_status``); True once started.
        False (the default) when this service cannot check child stacks: the check stays
        shallow."""
        return False

    def drifted(self, stack_id, mark=False):
        """``{name: reason}`` of a child stack's resources that need repair, checked now
        without a stack operation; with ``mark`` they are marked CHECK_FAILED. The default
        cannot look inside a child stack: nothing."""
        return {}

    def failed_resources(self, stack_id):
        """``{name: 'ACTION_FAILED: reason'}`` of a child stack's failed resources (the
        default: none known)."""
        return {}


class ResourceContext(abc.ABC):
    """What a plugin may ask of the engine, for one resource of one stack.

    Implemented by flows/ over the database. ``data_set`` and ``set_physical_id`` are
    persisted before they return. Data values must be JSON-serialisable.
    """

    @property
    @abc.abstractmethod
    def stack_name(self):
        """The name of the stack the resource belongs to."""

    @property
    @abc.abstractmethod
    def stack_id(self):
        """The id of the stack the resource belongs to."""

    @property
    @abc.abstractmethod
    def project_id(self):
        """The project (tenant) that owns the stack."""

    @property
    @abc.abstractmethod
    def resource_name(self):
        """The name of the resource in its stack."""

    @property
    @abc.abstractmethod
    def deadline(self):
        """When the current stack operation times out, as a time.monotonic() value, or None."""

    @property
    @abc.abstractmethod
    def nested(self):
        """The NestedStackService for child stacks of this resource."""

    @abc.abstractmethod
    def set_physical_id(self, physical_id):
        """Record the physical id of the resource, durably."""

    @abc.abstractmethod
    def data_get(self, key):
        """A value stored earlier for this resource (maybe by a crashed run), or None."""

    @abc.abstractmethod
    def data_set(self, key, value):
        """Store a value for this resource, durably, before the plugin calls out."""

    @abc.abstractmethod
    def signals(self, resource_name):
        """The signal data dicts received for a resource of this stack, oldest first."""

    def monotonic(self):
        """The clock ``deadline`` is measured on; a test context may replace it."""
        return time.monotonic()


def _wraps_update(fn):
    @functools.wraps(fn)
    def handle_update(self, new_properties, prop_diff=None):
        new = self.make_properties(new_properties)
        if prop_diff is None:
            prop_diff = self.properties.diff(new)
        # The plugin sees its new properties as self.properties, as in Heat after an update.
        self.properties = new
        return fn(self, new, prop_diff)
    handle_update.wrapped_by_resource = True
    return handle_update


def _wraps_delete(fn):
    @functools.wraps(fn)
    def handle_delete(self):
        if self.deletion_policy == RETAIN:
            return self.handle_retain()
        return fn(self)
    handle_delete.wrapped_by_resource = True
    return handle_delete


def _wraps_check_delete(fn):
    @functools.wraps(fn)
    def check_delete_complete(self, cookie):
        if self.deletion_policy == RETAIN:
            return True
        return fn(self, cookie)
    check_delete_complete.wrapped_by_resource = True
    return check_delete_complete


_WRAPPERS = {'handle_update': _wraps_update, 'handle_delete': _wraps_delete,
             'check_delete_complete': _wraps_check_delete}


class Resource:
    """Base class of every resource plugin.

    Subclasses declare ``properties_schema`` (``{name: properties.Schema}``, or None to accept
    any properties) and ``attributes_schema`` (``{name: attributes.Schema}``), and override
    the ``handle_*`` / ``check_*_complete`` methods they need and ``resolve_attribute``.
    ``handle_update`` and ``handle_delete`` of every subclass are wrapped so that the
    properties are switched to the new ones before an update, and a ``Retain`` deletion
    policy leaves the real thing alone (``handle_retain`` runs instead of ``handle_delete``).
    """

    type_name = None
    properties_schema = {}
    attributes_schema = {}
    # True when check_*_complete waits for a child stack's operation (nested stacks).
    waits_for_child_stack = False
    # The budgets user-written text a plugin parses (a child template given as a property)
    # is held to: the engine sets the stack's on each plugin it makes.
    limits = limits_mod.DEFAULT
    # True when the engine stores signals sent to resources of this type (``stack resource
    # signal``); others refuse them.
    takes_signals = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for method, wrap in _WRAPPERS.items():
            fn = cls.__dict__.get(method)
            if fn is not None and not getattr(fn, 'wrapped_by_resource', False):
                setattr(cls, method, wrap(fn))

    def __init__(self, name, properties, ctx, physical_id=None, data=None,
                 deletion_policy=DELETE_POLICY):
        if deletion_policy not in DELETION_POLICIES:
            raise ResourceError(name, 'unknown deletion_policy "%s"; valid policies: %s'
                                % (deletion_policy, ', '.join(DELETION_POLICIES)))
        self.name = name
        self.ctx = ctx
        self.physical_id = physical_id
        self.deletion_policy = deletion_policy
        self._data = dict(data or {})
        self.properties = self.make_properties(properties)

    # -- schemas ---------------------------------------------------------------------------

    def make_properties(self, values):
        """A Properties object over ``values`` (returned as is when it already is one)."""
        if isinstance(values, props.Properties):
            return values
        return props.Properties(self.properties_schema, values, self.name)

    @classmethod
    def attributes(cls):
        """``{name: attributes.Schema}`` including the ``show`` attribute."""
        return attr.with_show(cls.attributes_schema)

    @classmethod
    def has_attribute(cls, name):
        """Whether get_attr may ask this type for ``name``."""
        return name in cls.attributes()

    @classmethod
    def implicit_dependencies(cls, name, view):
        """Names of resources of the stack this one must come after although its properties
        do not name them (a Port after the Subnets of its network). ``view`` is a
        ``registry.StackView``: names, types and raw property snippets. None by default."""
        return ()

    def validate(self, partial=False):
        """Check the properties; ``partial`` at validation time, when some are still None."""
        self.properties.validate(partial=partial)

    # -- actions ---------------------------------------------------------------------------

    def handle_create(self):
        """Start creating the real thing; return a cookie to poll, or None when done."""
        return None

    def check_create_complete(self, cookie):
        """Whether the create started by handle_create has finished (raise on failure)."""
        return True

    def handle_update(self, new_properties, prop_diff):
        """Update the real thing in place to ``new_properties``; return a cookie or None."""
        return None

    def check_update_complete(self, cookie):
        """Whether the update started by handle_update has finished (raise on failure)."""
        return True

    def handle_delete(self):
        """Start deleting the real thing (gone already is fine); return a cookie or None."""
        return None

    def check_delete_complete(self, cookie):
        """Whether the delete started by handle_delete has finished (raise on failure)."""
        return True

    def handle_retain(self):
        """What delete does under a Retain deletion policy: by default, nothing at all."""
        return None

    def handle_check(self):
        """Observe the real thing; raise ResourceCheckFailed with a reason on drift; return a
        cookie to poll with check_check_complete, or None when done."""
        return None

    def check_check_complete(self, cookie):
        """Whether the check started by handle_check has finished (raise on drift)."""
        return True

    def handle_drift_check(self, mark=False):
        """Observe the real thing for the observer and ``update --converge``, without
        starting an operation (raise ResourceCheckFailed on drift). By default handle_check;
        ``mark``: a type that holds other resources marks those that drifted CHECK_FAILED."""
        self.handle_check()

    def prepare_for_replace(self):
        """Before the replacement of this resource is created: let go of what the
        replacement needs and only one of them may hold (see the module docstring).
        Nothing by default."""
        return None

    def restore_prev_rsrc(self, replacement):
        """This resource is current again after its replacement failed (a rollback): take
        back what prepare_for_replace let go of, from ``replacement`` (a plugin on the failed
        replacement; its physical id may be None). Nothing by default."""
        return None

    def repairs_in_place(self):
        """Whether a CHECK_FAILED resource is repaired by an update in place (True) or
        replaced by a new one (False, the default)."""
        return False

    def property_diff(self, new_properties):
        """``{name: new value}`` for every property that ``new_properties`` changes."""
        return self.properties.diff(self.make_properties(new_properties))

    def update_requires_replacement(self, new_properties):
        """Whether moving to ``new_properties`` needs a new resource instead of an update.

        True when a changed property is not update_allowed, or is immutable.
        """
        if self.properties_schema is None:
            return False
        for key in self.property_diff(new_properties):
            schema = self.properties_schema.get(key)
            if schema is None or not schema.update_allowed or schema.immutable:
                return True
        return False

    # -- attributes ------------------------------------------------------------------------

    def get_attribute(self, name, *path):
        """The value of attribute ``name``, followed down ``path`` (keys, indexes)."""
        if not self.has_attribute(name):
            raise InvalidAttribute(self.name, 'has no attribute "%s"' % name)
        if name == attr.SHOW and attr.SHOW not in self.attributes_schema:
            value = self.show()
        else:
            value = self.resolve_attribute(name)
        return attr.select(value, path)

    def resolve_attribute(self, name):
        """The value of a declared attribute (plugins override); None when not available."""
        return None

    def show(self):
        """The ``show`` attribute: what is known about the real thing, as a dict."""
        values = {}
        for name in self.attributes_schema:
            try:
                values[name] = self.resolve_attribute(name)
            except ResourceError:
                values[name] = None
        return {'id': self.physical_id, 'name': self.name, 'attributes': values}

    def get_reference_id(self):
        """What get_resource returns: the physical id, or the resource name when there is none."""
        return self.physical_id if self.physical_id is not None else self.name

    # -- helpers for plugins ---------------------------------------------------------------

    def set_physical_id(self, physical_id):
        """Record the physical id (durably, through the context)."""
        self.physical_id = physical_id
        if self.ctx is not None:
            self.ctx.set_physical_id(physical_id)

    def data_get(self, key):
        """A value stored for this resource, or None."""
        if self.ctx is not None:
            return self.ctx.data_get(key)
        # Without a context (reading attributes from stored state) the given data answers.
        return self._data.get(key)

    def data_set(self, key, value):
        """Store a value for this resource (durably, through the context)."""
        self._data[key] = value
        if self.ctx is not None:
            self.ctx.data_set(key, value)

    def remember(self, key, make):
        """The value recorded under ``key``, or ``make()`` recorded there before it is returned.

        The heart of the idempotency contract: a re-run gets what the first run decided.
        """
        value = self.data_get(key)
        if value is None:
            value = make()
            self.data_set(key, value)
        return value

    def physical_resource_name(self):
        """A name for the real thing, unique and the same on every run of this resource."""
        stack = self.ctx.stack_name if self.ctx is not None else 'stack'
        return self.remember('physical_resource_name', lambda: '%s-%s-%s' % (
            stack, self.name, secrets.token_hex(6)))

    def now(self):
        """The current time on the clock of ``ctx.deadline``."""
        return self.ctx.monotonic() if self.ctx is not None else time.monotonic()

    def time_left(self):
        """Seconds until the stack operation's deadline, or None when it has none."""
        deadline = self.ctx.deadline if self.ctx is not None else None
        return None if deadline is None else deadline - self.now()

    def invalid(self, path, message):
        """An InvalidProperties error for this resource at a property path."""
        if isinstance(path, str):
            path = (path,)
        return InvalidProperties(self.name, path, message)

    def __repr__(self):
        return '<%s %s %s>' % (type(self).__name__, self.name, self.physical_id)


for _method, _wrap in _WRAPPERS.items():
    setattr(Resource, _method, _wrap(Resource.__dict__[_method]))
