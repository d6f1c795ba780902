"""What each kind of object in the simulated cloud is, and how it behaves like OpenStack's.

One class per kind, registered in a table (``KINDS``, ``@register``): which fields a client may
set on create and on update, what the stored body turns into when shown (``view``), and the
checks the real services make (a server needs its image and flavor; an attached volume cannot
be deleted). Neutron's kinds are in ``network``, Nova's in ``compute``, Glance's in ``image``,
Cinder's in ``volume``. Creating and updating servers and volumes takes ``build_time``
seconds: the status stays BUILD/creating until then, so clients poll as they do against a
real cloud. ``create_object`` and friends at the end are what a route handler runs inside
``Request.call``.
"""

KINDS = {}   # collection name -> Kind instance (see register)


def register(*classes):
    """Make kinds known (admin API, quotas, faults ``KIND.VERB``) under their collection names.

    A class decorator (``@register``) or a call with several classes; returns the first. The
    service modules register theirs when they are imported (``api.SERVICE_MODULES``).
    """
    for cls in classes:
        KINDS[cls.name] = cls()
    return classes[0]


class ApiError(Exception):
    """An error answer: HTTP status, an OpenStack-like code and a message naming the thing."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(kind, obj_id):
    return ApiError(404, '%sNotFound' % KINDS[kind].label, '%s %s could not be found.'
                    % (KINDS[kind].label, obj_id))


def bad_request(message):
    return ApiError(400, 'BadRequest', message)


def conflict(code, message):
    return ApiError(409, code, message)


class Op:
    """One request's view of the store: transaction, time, build time, token, project, user.

    ``project`` is the id of the requester's project: objects are made in it, and an object
    of another project is not found (``require``, ``find``). ``user`` is the requester's id.
    """

    def __init__(self, tx, build_time=0.0, token=None, project=None, user=None):
        self.tx = tx
        self.now = tx.now
        self.build_time = build_time
        self.token = token
        self.project = project
        self.user = user

    def at_once(self):
        """This Op without build time (what it makes is ready at once)."""
        return Op(self.tx, token=self.token, project=self.project, user=self.user)

    def visible(self, body):
        """Whether the requester's project may see a stored body."""
        owner = body.get('project_id')
        return owner is None or self.project is None or owner == self.project

    def get(self, kind, obj_id):
        """The body of an object the requester may see, or None."""
        body = self.tx.get(kind, obj_id) if obj_id else None
        return body if body is not None and self.visible(body) else None

    def find(self, kind, **fields):
        """``tx.find`` restricted to the requester's project."""
        if self.project is not None:
            fields['project_id'] = self.project
        return self.tx.find(kind, **fields)

    def require(self, kind, obj_id, status=404):
        """The object, or an error (404, or 400 when it is referred to from a request body)."""
        body = self.get(kind, obj_id)
        if body is None:
            if status == 400:
                raise bad_request('%s %s could not be found' % (KINDS[kind].label, obj_id))
            raise not_found(kind, obj_id)
        return body

    def sub_token(self, suffix):
        """A token for an object this request makes on the side (None without a token)."""
        return None if self.token is None else '%s#%s' % (self.token, suffix)


class Kind:
    """Base class: a collection of objects, its checks and how its bodies are shown."""

    name = None          # collection name in URLs
    label = None         # singular name in messages

    def create(self, op, spec):
        """Check a create request and return the body to store (side effects allowed)."""
        raise bad_request('%s objects cannot be created' % self.label)

    def update(self, op, body, patch):
        """Apply an update request to a stored body and return it."""
        raise bad_request('%s objects cannot be updated' % self.label)

    def over_quota(self, limit):
        """The error of a create past the quota: Nova's 403 (Neutron and Cinder override)."""
        return ApiError(403, 'QuotaExceeded', 'Quota exceeded for %s: limit %d reached'
                        % (self.name, limit))

    def after_insert(self, op, body):
        """Make what belongs to a new object once it is stored (its token is known)."""

    def seed(self, op):
        """Store the objects every cloud starts with (called at every start: idempotent)."""

    def delete(self, op, body):
        """Check a delete request and undo side effects (raise to refuse)."""

    def view(self, op, body):
        """What a client sees of a stored body (transitional status resolved)."""
        out = {k: v for k, v in body.items() if not k.startswith('_')}
        ready_at = body.get('_ready_at')
        if ready_at is not None and op.now >= ready_at:
            out['status'] = body.get('_ready_status', out.get('status'))
        return out

    def settle(self, op, body):
        """Persist a finished transition (before the body is changed again)."""
        ready_at = body.get('_ready_at')
        if ready_at is not None and op.now >= ready_at:
            body['status'] = body.pop('_ready_status', body.get('status'))
            body.pop('_ready_at', None)
        return body

    def transition(self, op, body, during, after):
        """Put a body through a transitional status that ends after build_time."""
        if op.build_time > 0:
            body['status'] = during
            body['_ready_at'] = op.now + op.build_time
            body['_ready_status'] = after
        else:
            body['status'] = after
            body.pop('_ready_at', None)
            body.pop('_ready_status', None)
        return body


# -- operations a route handler runs inside ``Request.call`` ---------------------------------


def check_quota(op, kind):
    """The kind's ``over_quota`` error when one more object of ``kind`` would pass its quota
    (``/admin/quotas``)."""
    limit = op.tx.quotas().get(kind)
    if limit is not None and op.tx.count(kind) >= limit:
        raise KINDS[kind].over_quota(limit)


def create_object(op, kind, spec, parent=None):
    """Check the quota, make and store an object from a request body; its stored body.

    The creation is audited with ``op.token``.
    """
    if not isinstance(spec, dict):
        raise bad_request('a create request body must be a JSON object')
    check_quota(op, kind)
    body = KINDS[kind].create(op, spec)
    body = op.tx.insert(kind, body, token=op.token, parent=parent)
    KINDS[kind].after_insert(op, body)
    return op.tx.get(kind, body['id'])


def update_object(op, kind, obj_id, patch):
    """Apply an update request to a visible object; its stored body."""
    if not isinstance(patch, dict):
        raise bad_request('an update request body must be a JSON object')
    body = KINDS[kind].update(op, op.require(kind, obj_id), patch)
    return op.tx.update(kind, body)


def delete_object(op, kind, obj_id):
    """Check and delete a visible object (404 when there is none)."""
    body = op.require(kind, obj_id)
    KINDS[kind].delete(op, body)
    op.tx.delete(kind, obj_id)


def view(op, kind, body):
    """What a client sees of a stored body."""
    return KINDS[kind].view(op, body)
