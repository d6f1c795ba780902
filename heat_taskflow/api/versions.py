"""API versions: the version documents and microversions (``OpenStack-API-Version``).

A client that asks for nothing gets 1.0, exactly Heat's Orchestration API v1. What
heat-taskflow offers beyond Heat is served under higher microversions, asked for with
``OpenStack-API-Version: orchestration 1.N`` (or ``latest``), as Nova and Ironic do.
``MICROVERSIONS`` lists each one and what it adds; the version documents advertise the
lowest and highest.
"""

import collections
import json
import re

import webob

from heat_taskflow.api import faults

HEADER = 'OpenStack-API-Version'
SERVICE = 'orchestration'
ENVIRON_KEY = 'heat_taskflow.api_version'


class Version(collections.namedtuple('Version', 'major minor')):
    """A microversion; compares as a tuple, prints as 1.N."""

    __slots__ = ()

    def __str__(self):
        return '%d.%d' % (self.major, self.minor)

    @classmethod
    def parse(cls, text):
        """Version('1.2'); ValueError for anything but MAJOR.MINOR."""
        match = re.fullmatch(r'(\d+)\.(\d+)', text.strip())
        if match is None:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))


# Every microversion and what it adds to the one before it.
MICROVERSIONS = (
    (Version(1, 0), "Heat's Orchestration API v1, exactly (the default)."),
    (Version(1, 1), "Stack show and list add 'path' (legacy or distributed) and "
                    "'current_traversal'. POST /v1/{project}/stacks/{name}/{id}/actions "
                    "accepts {\"resume_interrupted\": null}: resume the stack's interrupted "
                    "operation (heat-taskflow stack resume); answers 202."),
    (Version(1, 2), "GET /v1/{project}/stacks/{name}/{id}/drift: what the observer last "
                    "recorded of a distributed stack (when, by which conductor, and the "
                    "resources that had drifted, with the reason); 404 before 1.2."),
)
MIN_VERSION = MICROVERSIONS[0][0]
MAX_VERSION = MICROVERSIONS[-1][0]


def parse_header(value):
    """The Version an OpenStack-API-Version header asks for (None: not for this service).

    Raises faults.APIError: 400 for a malformed value, 406 for a version not served.
    """
    for entry in value.split(','):
        entry = entry.strip()
        if not entry:
            continue
        service, _, text = entry.partition(' ')
        if service.lower() != SERVICE:
            continue
        text = text.strip()
        if text.lower() == 'latest':
            return MAX_VERSION
        try:
            version = Version.parse(text)
        except ValueError:
            raise faults.APIError('Invalid %s header "%s": expected "%s MAJOR.MINOR" or '
                                  '"%s latest"' % (HEADER, value, SERVICE, SERVICE),
                                  code=400) from None
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise faults.APIError('Version %s is not supported by the API. Minimum is %s '
                                  'and maximum is %s.' % (version, MIN_VERSION, MAX_VERSION),
                                  code=406)
        return version
    return None


def version_entry(base_url):
    """The description of API v1 in the version documents."""
    return {
        'id': 'v1.0',
        'status': 'CURRENT',
        'min_version': str(MIN_VERSION),
        'version': str(MAX_VERSION),
        'links': [{'rel': 'self', 'href': '%s/v1/' % base_url}],
    }


_VERSIONS_PATHS = re.compile(r'/(versions/?)?')
# /v1 and /v1/{project}, what keystoneauth's discovery asks for; other /vN are the list.
_ONE_VERSION_PATH = re.compile(r'/v1(/[^/]+)?/?')
_OTHER_VERSION_PATH = re.compile(r'/v(?!1(/|$))\d+(\.\d+)?/?')


def _document(status, data, version=None):
    resp = webob.Response(status=status, content_type='application/json', charset=None)
    resp.body = json.dumps(data).encode('utf-8')
    if version is not None:
        resp.headers[HEADER] = '%s %s' % (SERVICE, version)
        resp.headers['Vary'] = HEADER
    return resp


class Versions:
    """WSGI middleware: answers the version documents itself, and parses the microversion
    of every other request into environ['heat_taskflow.api_version'] (a Version), echoing
    it on the answer with Vary."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO') or '/'
        method = environ.get('REQUEST_METHOD')
        if method in ('GET', 'HEAD'):
            base = webob.Request(environ).application_url
            if _VERSIONS_PATHS.fullmatch(path) or _OTHER_VERSION_PATH.fullmatch(path):
                doc = {'versions': [version_entry(base)]}
                return _document(300, doc)(environ, start_response)
            if _ONE_VERSION_PATH.fullmatch(path):
                doc = {'version': version_entry(base)}
                return _document(200, doc)(environ, start_response)
        header = environ.get('HTTP_OPENSTACK_API_VERSION')
        version = parse_header(header) if header else None
        version = version or MIN_VERSION
        environ[ENVIRON_KEY] = version

        def start_with_version(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != HEADER.lower()]
            headers.append((HEADER, '%s %s' % (SERVICE, version)))
            vary = [v for k, v in headers if k.lower() == 'vary']
            headers = [h for h in headers if h[0].lower() != 'vary']
            headers.append(('Vary', ', '.join(vary + [HEADER])))
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_version)
