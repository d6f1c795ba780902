"""The client of heat-taskflow-simcloud: JSON over HTTP with bounded retries (tenacity)."""

import http.client
import json
import logging
import socket
import threading
import urllib.parse

import tenacity

from heat_taskflow.resources.cloud import base

LOG = logging.getLogger(__name__)
TOKEN_HEADER = 'Idempotency-Key'

_ERRORS = {400: base.BadRequest, 403: base.QuotaExceeded, 404: base.NotFound,
           409: base.Conflict, 413: base.QuotaExceeded}


class SimCloudClient(base.CloudClient):
    """Talks to one simcloud URL; one keep-alive connection per thread."""

    def __init__(self, url, timeout=30.0, retries=5, retry_delay=0.1, retry_max_delay=2.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != 'http' or not parsed.hostname:
            raise ValueError('simcloud URL must be http://HOST:PORT, not %r' % url)
        self.url = url.rstrip('/')
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip('/')
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.retry_max_delay = retry_max_delay
        self._local = threading.local()

    # -- transport -------------------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop_connection(self):
        conn = getattr(self._local, 'conn', None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _once(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        send_headers = {'Accept': 'application/json'}
        if data is not None:
            send_headers['Content-Type'] = 'application/json'
        send_headers.update(headers or {})
        where = '%s %s%s' % (method, self.url, path)
        try:
            conn = self._connection()
            conn.request(method, self.prefix + path, body=data, headers=send_headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException, socket.timeout) as exc:
            self._drop_connection()
            raise base.TransientError('%s: no answer: %s' % (where, exc)) from exc
        if response.getheader('Connection', '').lower() == 'close':
            self._drop_connection()
        payload = json.loads(raw) if raw else None
        if response.status < 400:
            return payload
        error = (payload or {}).get('error') or {}
        message = '%s: %s %s' % (where, response.status,
                                 error.get('message') or response.reason)
        cls = base.TransientError if response.status >= 500 else \
            _ERRORS.get(response.status, base.CloudError)
        raise cls(message, response.status, error.get('code'))

    def request(self, method, path, body=None, headers=None):
        """One call, retried on transient errors with exponential back-off, bounded."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(base.TransientError),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=tenacity.wait_exponential(multiplier=self.retry_delay,
                                           max=self.retry_max_delay),
            before_sleep=lambda state: LOG.info('simcloud: retrying after %s',
                                                state.outcome.exception()),
            reraise=True)
        return retrying(self._once, method, path, body, headers)

    # -- the client API --------------------------------------------------------------------

    def create(self, kind, body, token):
        headers = {TOKEN_HEADER: token} if token else None
        return self.request('POST', '/v1/%s' % kind, body, headers)

    def get(self, kind, obj_id):
        return self.request('GET', '/v1/%s/%s' % (kind, urllib.parse.quote(obj_id, safe='')))

    def list(self, kind, **filters):
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        path = '/v1/%s' % kind + ('?' + query if query else '')
        return self.request('GET', path)[kind]

    def update(self, kind, obj_id, fields):
        return self.request('PUT', '/v1/%s/%s' % (kind, urllib.parse.quote(obj_id, safe='')),
                            fields)

    def delete(self, kind, obj_id):
        try:
            self.request('DELETE', '/v1/%s/%s' % (kind, urllib.parse.quote(obj_id, safe='')))
        except base.NotFound:
            return False
        return True

    # -- simcloud's admin API (tests, tools) -----------------------------------------------

    def admin(self, method, path, body=None):
        """A call to an /admin endpoint (faults, quotas, audit, drift), not retried."""
        return self._once(method, '/admin/%s' % path.lstrip('/'), body)
