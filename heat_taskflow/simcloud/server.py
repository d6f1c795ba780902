"""The simulated cloud's HTTP server: the standard library's ThreadingHTTPServer over ``api``.

One thread per connection (HTTP/1.1 keep-alive); every request is answered by ``Cloud.handle``.
"""

import http.server
import json
import logging
import threading
import urllib.parse

from heat_taskflow.simcloud import api, framework, storage
from heat_taskflow.simcloud.kinds import ApiError

LOG = logging.getLogger(__name__)
MAX_BODY = framework.MAX_BODY


class Handler(http.server.BaseHTTPRequestHandler):
    """Turns an HTTP request into a ``Cloud.handle`` call and writes its JSON answer."""

    protocol_version = 'HTTP/1.1'
    # The status line and headers go out in one write and the body in another: with Nagle's
    # algorithm on, the body then waits for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True
    server_version = 'simcloud/1'

    def _dispatch(self):
        try:
            length = framework.body_length(self.headers.get('Content-Length'))
        except ApiError as exc:
            self.close_connection = True    # where this body ends is unknown
            return self._send(exc.status, {'error': {'code': exc.code,
                                                     'message': exc.message}})
        raw = self.rfile.read(length) if length else b''
        try:
            body = framework.parse_json_body(raw)
        except ApiError as exc:
            return self._send(exc.status, {'error': {'code': exc.code,
                                                     'message': exc.message}})
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        base_url = 'http://%s' % (self.headers.get('Host') or '%s:%d'
                                  % self.server.server_address[:2])
        try:
            status, payload, headers = self.server.cloud.handle(
                self.command, url.path, query, body, self.headers, base_url)
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 instead of a dead socket
            LOG.exception('simcloud: %s %s failed', self.command, self.path)
            status, payload, headers = 500, {'error': {'code': 'InternalError',
                                                       'message': str(exc)}}, {}
        self._send(status, payload, headers)

    def _send(self, status, payload, headers=None):
        if payload is None:
            data, content_type = b'', None
        elif isinstance(payload, str):
            data, content_type = payload.encode(), 'text/plain; charset=UTF-8'
        else:
            data, content_type = json.dumps(payload).encode(), 'application/json'
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if content_type:
            self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format, *args):
        LOG.debug('simcloud: %s - %s', self.address_string(), format % args)


class SimCloudServer(http.server.ThreadingHTTPServer):
    """The HTTP server of one simulated cloud, over the SQLite database at ``db_path``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host='127.0.0.1', port=0, db_path=':memory:', defaults=None,
                 seed=None):
        self.store = storage.Store(db_path)
        self.cloud = api.Cloud(self.store, defaults=defaults, seed=seed)
        super().__init__((host, port), Handler)
        self._thread = None

    @property
    def url(self):
        """``http://HOST:PORT`` the server listens on."""
        host, port = self.server_address[:2]
        return 'http://%s:%d' % (host, port)

    def start(self):
        """Serve in a background thread (tests); returns self."""
        self._thread = threading.Thread(target=self.serve_forever, name='simcloud',
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close the socket and the database."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()
        self.store.close()
