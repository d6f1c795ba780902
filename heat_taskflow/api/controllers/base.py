"""What every controller shares: policy, the project-scoped engine service, query
parameters parsed with Heat's messages, and the URLs of stacks."""

from urllib import parse

from heat_taskflow.api import faults, policy
from heat_taskflow.engine import exceptions

# Query parameter kinds of get_allowed_params (Heat's api/openstack/v1/util.py).
SINGLE, MULTI, MIXED = 'single', 'multi', 'mixed'


class Controller:
    """Base of the controllers: built once per process as Controller(conf, service)."""

    def __init__(self, conf, service):
        self.conf = conf
        self.service = service

    @staticmethod
    def authorize(req, rule, tenant_id):
        """Enforce a Heat policy rule for the URL's project (403 naming the rule; a
        non-admin caller's URL project must be its own; an admin is judged in its own
        project whatever the URL names, as Heat's registered_policy_enforce does)."""
        context = req.context
        project = context.project_id if is_admin(context) else tenant_id
        policy.authorize(context, rule, target={'project_id': project}, tenant_id=tenant_id)

    def engine(self, req):
        """The engine service scoped to the caller's project (never the URL's)."""
        context = req.context
        return self.service.scoped(context.project_id, admin=is_admin(context))

    def identified(self, engine, stack_name, stack_id, outputs=False):
        """The stack at /stacks/{stack_name}/{stack_id} (a view, with its outputs and
        description only when asked: most routes need no more than its row): found by
        id in the caller's project, and its name must match, else 404 (as Heat)."""
        view = engine.get_stack(stack_id, outputs=outputs)
        if view['id'] != stack_id or view['stack_name'] != stack_name:
            # An id that is another stack's name, or a name that is not this stack's.
            raise exceptions.StackNotFound('%s/%s' % (stack_name, stack_id))
        return view


def is_admin(context):
    """Whether the caller is an admin (policy context_is_admin, computed by the context)."""
    return bool(getattr(context, 'is_admin', False))


def stack_url(req, project_id, stack_name, stack_id, *sub):
    """The absolute canonical URL of a stack (plus a sub-path), from the request's host
    as the client sees it (X-Forwarded-* honoured by the pipeline)."""
    parts = ['v1', project_id, 'stacks', stack_name, stack_id] + [str(s) for s in sub]
    return '%s/%s' % (req.application_url, '/'.join(parse.quote(p, safe='') for p in parts))


def stack_link(req, view, project_id, rel='self'):
    """{'href', 'rel'} of a stack view."""
    return {'href': stack_url(req, view.get('project') or project_id, view['stack_name'],
                              view['id']),
            'rel': rel}


def extract_bool(name, value):
    """A boolean query/body value: true or false (any case), else 400 (Heat's message)."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ('true', 'false'):
        raise faults.BadRequest('Unrecognized value "%s" for "%s", acceptable values are: '
                                'true, false.' % (value, name))
    return text == 'true'


def extract_int(name, value, allow_zero=True, allow_negative=False):
    """An integer query/body value, else 400 (Heat's messages)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise faults.BadRequest("Only integer is acceptable by '%s'." % name)
    try:
        result = int(str(value).strip())
    except ValueError:
        raise faults.BadRequest("Only integer is acceptable by '%s'." % name) from None
    if isinstance(value, float) and value != result:
        raise faults.BadRequest("Only integer is acceptable by '%s'." % name)
    if result == 0 and not allow_zero:
        raise faults.BadRequest("Only non-zero integer is acceptable by '%s'." % name)
    if result < 0 and not allow_negative:
        raise faults.BadRequest("Value '%s' is invalid for '%s' which only accepts "
                                "non-negative integer." % (value, name))
    return result


def get_allowed_params(params, param_types):
    """{key: value} for the keys of param_types present in params (a webob MultiDict):
    SINGLE takes the last value, MULTI a list, MIXED a list only when repeated."""
    out = {}
    for key, kind in param_types.items():
        if kind == SINGLE:
            value = params.get(key)
        else:
            value = params.getall(key)
            if kind == MIXED and len(value) == 1:
                value = value[0]
        if value:
            out[key] = value
    return out
