"""The simulator answers 400 to malformed requests instead of dropping the connection or
blocking a thread (issue #14, defect 9)."""

import json
import socket
import time

import pytest

from heat_taskflow.simcloud import api as api_mod
from heat_taskflow.simcloud import storage


def _raw(simcloud, head, body=b''):
    """Send raw bytes; (status line, body text) of the answer. The client keeps its end
    open, as a slow or hostile one would: the server must answer anyway."""
    host, port = simcloud.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(head.encode('latin-1') + b'\r\n\r\n' + body)
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head_part, _, rest = data.partition(b'\r\n\r\n')
        length = int([line.split(b':')[1] for line in head_part.split(b'\r\n')
                      if line.lower().startswith(b'content-length:')][0])
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
    return head_part.split(b'\r\n')[0].decode(), rest.decode()


def _post(length, body=b''):
    return ('POST /admin/faults HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
            'Content-Length: %s' % length, body)


@pytest.mark.parametrize('length', ['-1', '-100', 'abc', '1.5', '+3', '\xb2'])
def test_a_bad_content_length_is_400(simcloud, length):
    started = time.monotonic()
    status, text = _raw(simcloud, *_post(length))
    assert status.startswith('HTTP/1.1 400'), status
    assert 'Content-Length' in json.loads(text)['error']['message']
    assert time.monotonic() - started < 10


def test_deeply_nested_json_is_400(simcloud):
    body = b'[' * 100000 + b']' * 100000
    status, text = _raw(simcloud, *_post(len(body), body))
    assert status.startswith('HTTP/1.1 400'), status
    assert 'nested deeper than' in json.loads(text)['error']['message']


def test_brackets_inside_strings_do_not_count(http):
    # 150 brackets in a string are no nesting: the faults route answers its own 400.
    status, payload, _ = http('PUT', '/admin/faults', {'*': {'speed': '[' * 150}})
    assert status == 400
    assert 'unknown settings' in payload['error']['message']


@pytest.mark.parametrize('literal', [b'Infinity', b'-Infinity', b'NaN'])
def test_non_finite_literals_are_400(simcloud, literal):
    body = b'{"*": {"latency": %s}}' % literal
    status, text = _raw(simcloud, 'PUT /admin/faults HTTP/1.1\r\nHost: x\r\n'
                        'Content-Length: %d' % len(body), body)
    assert status.startswith('HTTP/1.1 400'), status
    assert 'is not JSON' in json.loads(text)['error']['message']


@pytest.mark.parametrize('key, value', [('latency', float('inf')), ('build_time', float('nan')),
                                        ('failure_rate', float('nan')), ('latency', True)])
def test_non_finite_settings_are_refused(key, value):
    cloud = api_mod.Cloud(storage.Store(':memory:'), sleep=lambda s: None)
    status, payload, _ = cloud.handle('PUT', '/admin/faults', body={'*': {key: value}})
    assert status == 400, payload


def test_the_server_still_serves_after_bad_requests(simcloud, http):
    _raw(simcloud, *_post('-1'))
    body = b'[' * 5000 + b']' * 5000
    _raw(simcloud, *_post(len(body), body))
    assert http('GET', '/admin/faults')[0] == 200
