"""WSGI plumbing of the API: the request class, the access log and the body size limit."""

import json
import logging
import time

import webob

from heat_taskflow.api import faults, versions

ACCESS_LOG = logging.getLogger('heat_taskflow.api.access')

# Keys of the WSGI environ the pieces of the pipeline share (docs/api.md).
CONTEXT_KEY = 'heat_taskflow.context'
VERSION_KEY = versions.ENVIRON_KEY
REQUEST_ID_KEY = 'openstack.request_id'     # set by oslo_middleware.RequestId


class Request(webob.Request):
    """A webob Request with the API's per-request state."""

    @property
    def context(self):
        """The caller's RequestContext (api/auth.py's ContextMiddleware put it there)."""
        return self.environ.get(CONTEXT_KEY)

    @property
    def api_version(self):
        """The microversion asked for (api/versions.py), 1.0 when none was."""
        return self.environ.get(VERSION_KEY) or versions.MIN_VERSION

    def json_body(self):
        """The body as a JSON object; None when there is no body. A malformed body, or
        one that is not an object, is a 400 naming the problem."""
        raw = self.body
        if not raw or not raw.strip():
            return None
        try:
            data = json.loads(raw)
        except UnicodeDecodeError as exc:
            raise faults.BadRequest('Malformed JSON body: not UTF-8 (%s)' % exc) from None
        except ValueError as exc:
            raise faults.BadRequest('Malformed JSON body: %s' % exc) from None
        if not isinstance(data, dict):
            raise faults.BadRequest('Malformed JSON body: expected a JSON object, got %s'
                                    % type(data).__name__)
        return data


def json_response(data, status=200, headers=None):
    """A JSON response (application/json; a None body is the JSON null, as Heat's)."""
    resp = webob.Response(status=status, content_type='application/json', charset=None)
    resp.body = json.dumps(data).encode('utf-8')
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def empty_response(status, headers=None):
    """A response without a body (204, 202, 302)."""
    resp = webob.Response(status=status, headers=headers or {})
    resp.content_type = None
    resp.body = b''
    return resp


class AccessLog:
    """WSGI middleware: one log line per request, once the application has answered (the
    API builds every body in memory, so that is when the work is done):

        GET /v1/demo/stacks?limit=1 200 12.3ms req-0c3f...
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        start = time.monotonic()
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen['status'] = status.split(' ', 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            self._log(environ, seen.get('status', '500'), start)

    @staticmethod
    def _log(environ, status, start):
        path = environ.get('SCRIPT_NAME', '') + (environ.get('PATH_INFO', '') or '/')
        if environ.get('QUERY_STRING'):
            path += '?' + environ['QUERY_STRING']
        ACCESS_LOG.info('%s %s %s %.1fms %s', environ.get('REQUEST_METHOD', '-'), path,
                        status, (time.monotonic() - start) * 1000.0,
                        environ.get(REQUEST_ID_KEY, '-'))


class BodySizeLimit:
    """WSGI middleware: refuse a body over max_size bytes with 413 (Heat's fault JSON).

    A declared Content-Length is checked before anything is read; a body without one
    (chunked) is read through a reader that raises once it passes the limit.
    """

    def __init__(self, app, max_size):
        self.app = app
        self.max_size = max_size

    def __call__(self, environ, start_response):
        length = environ.get('CONTENT_LENGTH')
        if length:
            try:
                length = int(length)
            except ValueError:
                raise faults.BadRequest('Invalid Content-Length: %s' % length) from None
            if length > self.max_size:
                raise faults.RequestTooLarge(self._message(length))
        elif 'wsgi.input' in environ:      # chunked: the server ends the stream
            environ['wsgi.input'] = _LimitedReader(environ['wsgi.input'], self.max_size,
                                                   self._message)
        return self.app(environ, start_response)

    def _message(self, length):
        return ('Request body size (%s bytes) exceeds maximum allowed size (%d bytes, '
                '[api] max_request_body_size).' % (length, self.max_size))


class _LimitedReader:
    """A wsgi.input that raises RequestTooLarge once more than limit bytes were read."""

    def __init__(self, stream, limit, message):
        self.stream = stream
        self.limit = limit
        self.message = message
        self.read_so_far = 0

    def _count(self, chunk):
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise faults.RequestTooLarge(self.message('more than %d' % self.limit))
        return chunk

    def read(self, size=-1):
        return self._count(self.stream.read(size))

    def readline(self, size=-1):
        return self._count(self.stream.readline(size))

    def __iter__(self):
        for chunk in self.stream:
            yield self._count(chunk)
