"""The simulator's HTTP framework: services, routes, requests, errors, versions, microversions.

A ``Service`` is one OpenStack API mounted under a path prefix (``/compute``). Its module
declares routes with ``@SERVICE.route(METHOD, '/v2.1/servers/{server_id}')``; a handler takes
a ``Request`` and returns ``(status, payload)`` or ``(status, payload, headers)``. Handlers
reach the store through ``req.call(KIND, VERB, action)`` (see ``api.Cloud.call``), which
applies the operation's fault injection and gives ``action`` a ``kinds.Op``. Errors are raised
as ``kinds.ApiError`` and written in the service's own format (``error_format``).
"""

import json
import re
import urllib.parse

from heat_taskflow.simcloud.kinds import ApiError

REGION = 'RegionOne'

MAX_BODY = 16 * 1024 * 1024     # bytes of a request body
MAX_BODY_DEPTH = 100            # nesting of objects and arrays in a request body

# Nova's and Cinder's fault names by status (webob's, as their API layers answer them).
FAULT_NAMES = {400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound',
               405: 'badMethod', 409: 'conflictingRequest', 413: 'overLimit',
               415: 'badMediaType', 429: 'overLimit', 500: 'computeFault',
               501: 'notImplemented', 503: 'serviceUnavailable'}
TITLES = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
          405: 'Method Not Allowed', 409: 'Conflict', 413: 'Request Entity Too Large',
          500: 'Internal Server Error', 503: 'Service Unavailable'}


def nova_error(exc):
    """Nova's and Cinder's ``{"itemNotFound": {"code": 404, "message": ...}}``."""
    name = FAULT_NAMES.get(exc.status, 'computeFault' if exc.status >= 500 else 'badRequest')
    return {name: {'code': exc.status, 'message': exc.message}}


def neutron_error(exc):
    """Neutron's ``{"NeutronError": {"type", "message", "detail"}}``."""
    return {'NeutronError': {'type': exc.code, 'message': exc.message, 'detail': ''}}


def keystone_error(exc):
    """Keystone's ``{"error": {"code", "title", "message"}}`` (keystonemiddleware's 401 too)."""
    return {'error': {'code': exc.status, 'title': TITLES.get(exc.status, exc.code),
                      'message': exc.message}}


def plain_error(exc):
    """Glance's webob text body: ``404 Not Found\\n\\nMESSAGE``."""
    return '%d %s\n\n%s\n\n   ' % (exc.status, TITLES.get(exc.status, exc.code), exc.message)


def admin_error(exc):
    """The admin API's ``{"error": {"code", "message"}}``."""
    return {'error': {'code': exc.code, 'message': exc.message}}


def parse_version(text):
    """``'2.79'`` -> ``(2, 79)``."""
    major, _, minor = text.strip().partition('.')
    return int(major), int(minor or 0)


class Microversions:
    """A service's microversion range and the headers that ask for one (Nova, Cinder)."""

    def __init__(self, service_type, minimum, maximum, legacy_header=None):
        self.service_type = service_type
        self.minimum, self.maximum = minimum, maximum
        self.legacy_header = legacy_header

    def requested(self, headers):
        """The version a request asks for (the minimum when it does not ask); 406 outside."""
        wanted = None
        for value in (headers.get('OpenStack-API-Version') or '').split(','):
            service, _, version = value.strip().partition(' ')
            if service.lower() == self.service_type and version:
                wanted = version
        if wanted is None and self.legacy_header:
            wanted = headers.get(self.legacy_header)
        if not wanted:
            return parse_version(self.minimum)
        if wanted.strip().lower() == 'latest':
            return parse_version(self.maximum)
        try:
            version = parse_version(wanted)
        except ValueError:
            raise ApiError(400, 'BadRequest', 'Invalid API version request %r' % wanted)
        if not parse_version(self.minimum) <= version <= parse_version(self.maximum):
            raise ApiError(406, 'NotAcceptable', 'Version %s is not supported by the API. '
                           'Minimum is %s and maximum is %s.'
                           % (wanted, self.minimum, self.maximum))
        return version

    def headers(self, version):
        """The response headers echoing the version a request was served at."""
        text = '%d.%d' % version
        out = {'OpenStack-API-Version': '%s %s' % (self.service_type, text),
               'Vary': 'OpenStack-API-Version'}
        if self.legacy_header:
            out[self.legacy_header] = text
            out['Vary'] += ', ' + self.legacy_header
        return out


def body_length(value):
    """The byte count a Content-Length header announces; 400 unless it is a whole
    number >= 0 (a negative one would read until the client hangs up), 413 above
    MAX_BODY."""
    text = (value or '0').strip()
    if not re.fullmatch('[0-9]{1,20}', text):    # refuses '-1', '+1', '1.5', 'abc', ''
        raise ApiError(400, 'BadRequest', 'invalid Content-Length %r' % value[:40])
    length = int(text)
    if length > MAX_BODY:
        raise ApiError(413, 'RequestTooLarge', 'body larger than %d' % MAX_BODY)
    return length


# Strings (with their escapes) and the brackets outside them, for the depth check.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _refuse_constant(name):
    raise ValueError('%s is not JSON' % name)


def parse_json_body(raw, max_depth=MAX_BODY_DEPTH):
    """A request body's JSON (None when empty); 400 for malformed JSON, NaN or Infinity,
    or nesting deeper than max_depth (checked on the bytes, before parsing)."""
    if not raw:
        return None
    depth = 0
    for token in _JSON_TOKENS.finditer(raw):
        char = token.group()[:1]
        if char in (b'[', b'{'):
            depth += 1
            if depth > max_depth:
                raise ApiError(400, 'BadRequest', 'malformed JSON: nested deeper than %d'
                               % max_depth)
        elif char in (b']', b'}'):
            depth -= 1
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, 'BadRequest', 'malformed JSON: %s' % exc) from None


class Request:
    """One request to a service, as its handler sees it."""

    def __init__(self, cloud, method, path, query_pairs, body, headers, base_url):
        self.cloud = cloud
        self.method = method
        self.path = path
        self.query_all = {}
        for key, value in query_pairs:
            self.query_all.setdefault(key, []).append(value)
        self.query = {key: values[-1] for key, values in self.query_all.items()}
        self.body = body
        self.headers = headers
        self.base_url = base_url
        self.params = {}
        self.auth = None          # identity.Auth of the token, on routes that need one
        self.version = None       # the microversion served, on services that have them

    @property
    def project(self):
        """The id of the token's project."""
        return self.auth.project_id

    def call(self, kind, verb, action, token=None):
        """Run ``action(op)`` as operation ``KIND.VERB`` (fault injection, one transaction)."""
        return self.cloud.call(kind, verb, action, token=token, project=self.auth.project_id,
                               user=self.auth.user_id)

    def json_body(self, key=None):
        """The body (a JSON object), or its ``key`` member (an object); 400 otherwise."""
        body = self.body
        if not isinstance(body, dict):
            raise ApiError(400, 'BadRequest', 'The request body must be a JSON object')
        if key is None:
            return body
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise ApiError(400, 'BadRequest', "Invalid input for field/attribute %s: the "
                           "body needs a '%s' object" % (key, key))
        return inner

    def at_least(self, version):
        """Whether the request was served at microversion ``version`` ('2.52') or later."""
        return self.version is not None and self.version >= parse_version(version)


class Route:
    """A method and a path pattern (``{name}`` matches one segment) with its handler."""

    def __init__(self, method, pattern, handler, auth):
        self.method = method
        self.pattern = pattern
        regex = re.sub(r'\\{(\w+)\\}', r'(?P<\1>[^/]+)', re.escape(pattern.rstrip('/')))
        self.regex = re.compile('^%s/?$' % regex)
        self.handler = handler
        self.auth = auth


SERVICES = {}   # first path segment -> Service (a Service registers itself when made)


class Service:
    """One API under a path prefix: its routes, error format and (optional) microversions."""

    def __init__(self, name, prefix, error_format, microversions=None):
        self.name = name
        self.prefix = prefix
        self.error_format = error_format
        self.microversions = microversions
        self.routes = []
        SERVICES[prefix.strip('/')] = self

    def route(self, method, pattern, auth=True):
        """Decorator: serve ``METHOD prefix+pattern`` with the function (auth: needs a token).

        ``method`` may be a tuple of methods (``('GET', 'HEAD')``).
        """
        def register(handler):
            for one in (method,) if isinstance(method, str) else method:
                self.routes.append(Route(one, pattern, handler, auth))
            return handler
        return register

    def match(self, method, path):
        """``(route, params)`` for a request path below the prefix; 404/405 as ApiError."""
        allowed = False
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: urllib.parse.unquote(v)
                               for k, v in found.groupdict().items()}
            allowed = True
        if allowed:
            raise ApiError(405, 'HTTPMethodNotAllowed', 'The method %s is not allowed for %s%s'
                           % (method, self.prefix, path))
        raise ApiError(404, 'NotFound', 'The resource could not be found: %s%s'
                       % (self.prefix, path))


def link(req, *parts):
    """An absolute URL on this server, e.g. ``link(req, 'compute', 'v2.1')``."""
    return '/'.join((req.base_url,) + tuple(p.strip('/') for p in parts))


def version_entry(req, version_id, path, status='CURRENT', minimum='', maximum='',
                  media='application/vnd.openstack.compute+json;version=2.1', updated=None):
    """One entry of a version document, as Nova, Cinder, Glance and Neutron write them."""
    return {'id': version_id, 'status': status, 'min_version': minimum, 'version': maximum,
            'updated': updated or '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': link(req, path) + '/'}],
            'media-types': [{'base': 'application/json', 'type': media}]}


# Neutron's service and version documents; network.py adds its routes to it.
NETWORK = Service('network', '/network', neutron_error)


@NETWORK.route('GET', '/', auth=False)
def network_versions(req):
    return 200, {'versions': [version_entry(req, 'v2.0', 'network/v2.0')]}


@NETWORK.route('GET', '/v2.0', auth=False)
def network_version(req):
    entry = version_entry(req, 'v2.0', 'network/v2.0')
    return 200, {'resources': [], 'version': entry}
