"""CloudResource: what every OpenStack plugin shares — idempotent create, delete, check.

Create follows the idempotency contract of resources/base.py: the plugin records an
idempotency token (stack id / resource name / a random uuid) with ``data_set`` before it
calls the cloud, and sends it with the create. A re-run after a crash sends the same token,
and the cloud answers with the object the first run made instead of making another. Delete
of something gone succeeds; a delete with a recorded token and no physical id (the crash
came between the create call and ``set_physical_id``) finds the object by its token.
"""

import uuid

from heat_taskflow.resources import base, cloud
from heat_taskflow.resources.exceptions import ResourceCheckFailed, ResourceFailure

TOKEN_KEY = 'idempotency_token'


class CloudResource(base.Resource):
    """Base class of the plugins of objects in the cloud (``kind`` names their collection).

    Subclasses implement ``create_body()`` and, for in-place updates, ``update_body(diff)``;
    they list in ``observed`` the ``{property: object field}`` pairs ``handle_check``
    compares, and answer attributes from the object in ``resolve_attribute``.
    """

    kind = None
    ready_status = None          # status the object reaches when created/updated, or None
    failed_statuses = ('ERROR', 'error')
    observed = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._obj = None

    # -- cloud access ----------------------------------------------------------------------

    @property
    def client(self):
        """The CloudClient of the [cloud] options."""
        return cloud.fetch()

    def call(self, action, fn, *args, **kwargs):
        """Call the cloud; a cloud error becomes a ResourceFailure naming this resource."""
        try:
            return fn(*args, **kwargs)
        except cloud.CloudError as exc:
            raise ResourceFailure(self.name, str(exc), action) from exc

    def token(self):
        """The idempotency token of this resource's create (recorded before first use)."""
        stack_id = self.ctx.stack_id if self.ctx is not None else 'stack'
        return self.remember(TOKEN_KEY, lambda: '%s/%s/%s' % (stack_id, self.name,
                                                             uuid.uuid4().hex))

    def resolve(self, kind, name_or_id, action=base.CREATE):
        """The id of a referenced object given by name or id (a failure when missing)."""
        if name_or_id is None:
            return None
        return self.call(action, self.client.resolve, kind, name_or_id)

    def observe(self):
        """The object as the cloud shows it now (cached for attributes), or None if gone."""
        if self.physical_id is None:
            return None
        self._obj = self.client.get_or_none(self.kind, self.physical_id)
        return self._obj

    def current(self):
        """The last observed object, observing it when it has not been yet."""
        if self._obj is None:
            try:
                self.observe()
            except cloud.CloudError:
                return None
        return self._obj

    # -- create ----------------------------------------------------------------------------

    def create_body(self):
        """The create request for the current properties."""
        raise NotImplementedError

    def handle_create(self):
        """Record the token, then create (or adopt what an earlier run made with it)."""
        token = self.token()
        obj = None
        if self.physical_id is not None:
            obj = self.call(base.CREATE, self.observe)
        if obj is None:
            body = self.create_body()
            obj = self.call(base.CREATE, self.client.create, self.kind, body, token)
            self.set_physical_id(obj['id'])
        self._obj = obj
        return {'id': obj['id']}

    def check_create_complete(self, cookie):
        """True when the object has reached ``ready_status``; a failed status raises."""
        return self._ready(base.CREATE)

    def _ready(self, action):
        if self.ready_status is None:
            return True
        obj = self.call(action, self.observe)
        if obj is None:
            raise ResourceFailure(self.name, '%s %s vanished while %s was in progress'
                                  % (self.kind, self.physical_id, action.lower()), action)
        status = obj.get('status')
        if status in self.failed_statuses:
            raise ResourceFailure(self.name, '%s %s went to status %s'
                                  % (self.kind, self.physical_id, status), action)
        return status == self.ready_status

    # -- update ----------------------------------------------------------------------------

    def update_body(self, prop_diff):
        """The update request for changed properties ({} when nothing is sent)."""
        return {}

    def handle_update(self, new_properties, prop_diff):
        """Send the changed fields (converges: a re-run sends the same ones)."""
        body = self.update_body(prop_diff)
        if body and self.physical_id is not None:
            self._obj = self.call(base.UPDATE, self.client.update, self.kind, self.physical_id,
                                  body)
        return {'id': self.physical_id}

    def check_update_complete(self, cookie):
        """True when the object is back in ``ready_status``."""
        return self._ready(base.UPDATE)

    # -- delete ----------------------------------------------------------------------------

    def handle_delete(self):
        """Delete the object (gone already is fine), found by its token if no id was kept."""
        ids = [self.physical_id] if self.physical_id is not None else []
        token = self.data_get(TOKEN_KEY)
        if not ids and token is not None:
            ids = [o['id'] for o in self.call(base.DELETE, self.client.list, self.kind,
                                              token=token)]
        for obj_id in ids:
            self.before_delete(obj_id)
            self.call(base.DELETE, self.client.delete, self.kind, obj_id)
        return {'ids': ids}

    def before_delete(self, obj_id):
        """What must happen before the object can be deleted (plugins override)."""

    def check_delete_complete(self, cookie):
        """True once none of the deleted objects can be found."""
        for obj_id in cookie['ids'] if cookie else ():
            if self.call(base.DELETE, self.client.get_or_none, self.kind, obj_id) is not None:
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
                                      % (self.kind, self.physical_id, exc))
        if obj is None:
            raise ResourceCheckFailed(self.name, '%s %s no longer exists'
                                      % (self.kind, self.physical_id))
        status = obj.get('status')
        if status in self.failed_statuses:
            raise ResourceCheckFailed(self.name, '%s %s is in status %s'
                                      % (self.kind, self.physical_id, status))
        drift = self.drift(obj)
        if drift:
            raise ResourceCheckFailed(self.name, '%s %s differs from its properties: %s'
                                      % (self.kind, self.physical_id, '; '.join(drift)))

    def drift(self, obj):
        """Messages for each property in ``observed`` the object no longer matches."""
        out = []
        for prop, field in self.observed.items():
            wanted = self.properties[prop]
            if wanted is None:
                continue
            actual = obj.get(field)
            if self.normalise(prop, actual) != self.normalise(prop, wanted):
                out.append('%s is %r, expected %r' % (prop, actual, wanted))
        return out

    def normalise(self, prop, value):
        """A value as compared by the drift check (plugins override for ids and names)."""
        return value

    # -- attributes ------------------------------------------------------------------------

    def show(self):
        """The object as the cloud shows it (Heat's ``show`` attribute)."""
        return self.current()

    def field(self, name):
        """A field of the observed object, or None."""
        obj = self.current()
        return None if obj is None else obj.get(name)


def value_specs(properties):
    """The value_specs property as extra fields of a request (a copy)."""
    return dict(properties.get('value_specs') or {})
