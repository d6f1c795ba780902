"""The cloud the OpenStack resource plugins talk to, through openstacksdk.

``connection(conf)`` is the ``openstack.connection.Connection`` of the ``[cloud]`` options:
made once per process and credential, under a lock, and shared by every thread (its HTTP
pool holds ``pool_size`` connections per host). ``translate(exc)`` turns openstacksdk and
keystoneauth exceptions into the one hierarchy of ``base``, keeping the request and the
cloud's own message.

Retries are this module's, never keystoneauth's: keystoneauth's ``connect_retries`` and
``status_code_retries`` would send a POST again after a lost answer and make a second
object, so they are set to 0 (also the per-service ones openstacksdk defaults, such as
``image_status_code_retries: 5``). ``call`` retries calls that are safe to repeat (reads,
updates, deletes); ``find_or_create`` retries a create only after the lookup by its intent
token has found nothing.
"""

import logging
import os
import threading
import time
import types
import urllib.parse
import urllib.request

import keystoneauth1.exceptions as ksa_exc
import openstack
import openstack.config
import openstack.exceptions as sdk_exc
import openstack.resource as sdk_resource
import tenacity
from keystoneauth1 import session as ksa_session
from requests import exceptions as requests_exc
from requests import utils as requests_utils

from heat_taskflow.resources.cloud.base import (  # noqa: F401 - the public names
    BadRequest,
    CloudError,
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    QuotaExceeded,
    TransientError,
)

LOG = logging.getLogger(__name__)

# Service types whose keystoneauth retries are turned off (openstacksdk reads
# ``<service>_status_code_retries`` before the unprefixed option).
_SERVICES = ('compute', 'network', 'image', 'block_storage', 'volume', 'identity',
             'placement', 'baremetal', 'baremetal_introspection', 'orchestration',
             'object_store', 'load_balancer', 'dns', 'key_manager', 'shared_file_system')
NO_KSA_RETRIES = {'connect_retries': 0, 'status_code_retries': 0,
                  **{'%s_status_code_retries' % st: 0 for st in _SERVICES},
                  **{'%s_connect_retries' % st: 0 for st in _SERVICES}}

CONFIG_HINT = ('set [cloud] cloud to an entry of a clouds.yaml (and [cloud] clouds_file to '
               'that file, unless it is on openstacksdk\'s search path), or the OS_* '
               'environment variables')

_lock = threading.Lock()
_connections = {}


def _remember_class_attributes():
    """Make openstacksdk's ``Resource._attributes_iterator`` remember its answer per class.

    Building any openstacksdk resource (each request builds at least one, a bare
    ``new(id=...)`` for a delete too) walks every attribute of every class of its MRO with
    isinstance, several times: 3.5 ms of CPU for a Server from its body, 1.1 ms for a bare
    one, several times the request itself. A resource class's fields are fixed once the
    class is defined, so the walk's result is kept per (class, arguments): 0.96 and 0.22 ms.
    Nothing else of openstacksdk changes."""
    walk = sdk_resource.Resource._attributes_iterator.__func__
    if getattr(walk, 'remembers', False):
        return
    known = {}

    def attributes_iterator(cls, *args, **kwargs):
        key = (cls, args, tuple(sorted(kwargs.items())))
        found = known.get(key)
        if found is None:
            found = known[key] = tuple(walk(cls, *args, **kwargs))
        return iter(found)

    attributes_iterator.remembers = True
    sdk_resource.Resource._attributes_iterator = classmethod(attributes_iterator)


_remember_class_attributes()


def _conf(conf):
    if conf is None:
        from heat_taskflow.conf import CONF as conf
    return conf.cloud


def _key(group):
    env = None
    if group.cloud is None:
        env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith('OS_')))
    return (group.cloud, group.clouds_file, group.region_name, group.api_timeout,
            group.pool_size, env)


def _make(group):
    """A new Connection for the [cloud] options (no request is sent yet)."""
    if group.clouds_file is not None and not os.path.exists(group.clouds_file):
        raise ConfigurationError('[cloud] clouds_file %s does not exist; %s'
                                 % (group.clouds_file, CONFIG_HINT))
    files = [group.clouds_file] if group.clouds_file else None
    kwargs = dict(NO_KSA_RETRIES, api_timeout=group.api_timeout)
    if group.region_name:
        kwargs['region_name'] = group.region_name
    try:
        config = openstack.config.OpenStackConfig(config_files=files)
        region = config.get_one(cloud=group.cloud, **kwargs)
        conn = openstack.connection.Connection(config=region)
        session = conn.session
    except (sdk_exc.SDKException, ksa_exc.ClientException) as exc:
        raise ConfigurationError('no usable cloud configuration (cloud %s): %s; %s'
                                 % (group.cloud or 'from OS_* variables', exc, CONFIG_HINT)
                                 ) from exc
    adapter = ksa_session.TCPKeepAliveAdapter(pool_connections=group.pool_size,
                                              pool_maxsize=group.pool_size)
    for scheme in ('http://', 'https://'):
        session.session.mount(scheme, adapter)
    _environment_once(session.session)
    _access_without_lock(session.auth)
    return conn


def _access_without_lock(auth):
    """Answer keystoneauth's ``get_access`` without its lock while the token is fresh.

    keystoneauth takes the plugin's lock and checks the token's expiry each time it is
    asked for the token, the project or an endpoint: about seven times per request, and
    openstacksdk's resources ask again for their location. With a hundred actions on one
    Connection the threads queue on that lock. Until ``MIN_TOKEN_LIFE_SECONDS`` (plus a
    minute) before the token expires, the token keystoneauth gave last is returned as is;
    after that, or once keystoneauth drops it (``invalidate`` after a 401), its own
    ``get_access`` runs again (and re-authenticates when it must)."""
    if auth is None or not hasattr(auth, 'get_access') or not hasattr(auth, 'auth_ref'):
        return
    locked = auth.get_access
    known = [(None, 0.0)]     # (the AccessInfo, time.time() until which it is used as is)

    def get_access(session, **kwargs):
        ref, until = known[0]
        if ref is not None and ref is auth.auth_ref and time.time() < until:
            return ref
        ref = locked(session, **kwargs)
        expires = getattr(ref, 'expires', None)
        margin = getattr(auth, 'MIN_TOKEN_LIFE_SECONDS', 120) + 60
        known[0] = (ref, expires.timestamp() - margin if expires is not None else 0.0)
        return ref

    auth.get_access = get_access


def _environment_once(http):
    """Read the proxy and CA bundle variables once, now, not on every request.

    With ``trust_env`` requests reads them (and ``~/.netrc``) again for each call; here
    ``HTTP(S)_PROXY``/``NO_PROXY`` as they are when the Connection is made decide once per
    host, and ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` once. ``~/.netrc`` is not read: the
    cloud is authenticated by keystoneauth's token."""
    env_proxies = {k: v for k, v in urllib.request.getproxies().items() if k != 'no'}
    no_proxy = os.environ.get('no_proxy') or os.environ.get('NO_PROXY')
    ca_bundle = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE')
    by_host = {}
    merge = http.merge_environment_settings

    def host_proxies(url):
        key = urllib.parse.urlsplit(url)[:2]
        found = by_host.get(key)
        if found is None:
            bypass = not env_proxies or requests_utils.should_bypass_proxies(url, no_proxy)
            found = by_host[key] = {} if bypass else env_proxies
        return found

    def merge_once(url, proxies, stream, verify, cert):
        proxies = dict(proxies or {})
        for k, v in host_proxies(url).items():
            proxies.setdefault(k, v)
        if ca_bundle and (verify is True or verify is None):
            verify = ca_bundle
        return merge(url, proxies, stream, verify, cert)

    http.trust_env = False
    http.merge_environment_settings = merge_once


def connection(conf=None):
    """The shared Connection of the [cloud] options of ``conf`` (default: the global CONF)."""
    group = _conf(conf)
    key = _key(group)
    with _lock:
        conn = _connections.get(key)
        if conn is None:
            conn = _connections[key] = _make(group)
    return conn


def reset():
    """Forget (and close) the cached connections (tests: a connection in use by another
    thread is closed under it)."""
    with _lock:
        conns = list(_connections.values())
        _connections.clear()
    for conn in conns:
        conn.close()


# -- errors --------------------------------------------------------------------------------

def _request(exc):
    """``METHOD /path`` of the request an HTTP exception answers, or ''."""
    request = getattr(exc, 'request', None)
    if request is None and getattr(exc, 'response', None) is not None:
        request = exc.response.request
    if request is None or not request.url:
        method, url = getattr(exc, 'method', None), getattr(exc, 'url', None)
    else:
        method, url = request.method, request.url
    if not url:
        return ''
    return '%s %s' % (method or '?', urllib.parse.urlsplit(url).path)


def _status_class(status, text):
    if status >= 500 or status == 408:
        return TransientError
    if status == 413 or (status in (403, 409) and 'quota' in text.lower()):
        return QuotaExceeded     # Nova's is a 403, Neutron's OverQuota a 409, Cinder's a 413
    return {400: BadRequest, 403: Forbidden, 404: NotFound, 409: Conflict}.get(status,
                                                                             CloudError)


def _http(exc, status, text):
    where = _request(exc)
    message = '%s: %s %s' % (where, status, text) if where else '%s %s' % (status, text)
    return _status_class(status, text)(message, status, type(exc).__name__)


def _outage_in(exc):
    """Whether the first definite cause in ``exc``'s chain (``__cause__``, else
    ``__context__``) is an outage: no connection, a connection reset, a timeout, or an HTTP
    5xx or 408. An HTTP answer of another status (a 404 from a wrong auth URL, a 401) is a
    definite answer: not an outage."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ksa_exc.SSLError):
            return False                # a certificate is configuration
        if isinstance(exc, (ksa_exc.ConnectionError, requests_exc.ConnectionError,
                            requests_exc.Timeout, ConnectionError, TimeoutError)):
            return True
        status = None
        if isinstance(exc, ksa_exc.HttpError):
            status = exc.http_status
        elif isinstance(exc, sdk_exc.HttpException):
            status = exc.status_code
        if status is not None:
            return status >= 500 or status == 408
        exc = exc.__cause__ or exc.__context__
    return False


# openstacksdk's words when version discovery of a service found nothing: keystoneauth
# swallows why (a refused connection and a 404 alike) and falls back, and openstacksdk then
# finds no version it supports.
_NO_VERSION = ('does not have any supported versions', 'no version was discoverable')


def _no_version_found(exc):
    """Whether ``exc`` is openstacksdk's "the service exists but no version was found": a
    service that did not answer its discovery, as far as can be told (keystoneauth keeps no
    cause), so an outage; a real misconfiguration is retried for one retry window and then
    fails with the same message."""
    return (isinstance(exc, sdk_exc.NotSupported)
            and any(words in str(exc) for words in _NO_VERSION))


def translate(exc):
    """The CloudError for an exception of openstacksdk or keystoneauth (others: as is)."""
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, sdk_exc.HttpException) and exc.status_code is not None:
        return _http(exc, exc.status_code, str(exc.details or exc.message))
    if isinstance(exc, sdk_exc.NotFoundException):
        # find_* says "No Flavor found for X" without a response of its own.
        return NotFound(str(exc.message), 404, type(exc).__name__)
    if isinstance(exc, ksa_exc.HttpError) and exc.http_status is not None:
        text = exc.details or exc.message
        if exc.http_status == 401:
            text = '%s (check the credentials: %s)' % (text, CONFIG_HINT)
        return _http(exc, exc.http_status, text)
    if isinstance(exc, ksa_exc.ConnectionError):     # ConnectFailure, ConnectTimeout, ...
        return TransientError('no answer from the cloud: %s' % exc, None, type(exc).__name__)
    if _no_version_found(exc):
        return TransientError('no answer from the cloud (its version discovery found no '
                              'usable version; taken as an outage): %s' % exc, None,
                              type(exc).__name__)
    if isinstance(exc, (ksa_exc.EndpointNotFound, ksa_exc.MissingRequiredOptions,
                        ksa_exc.DiscoveryFailure, ksa_exc.AuthPluginException,
                        sdk_exc.ConfigException, sdk_exc.EndpointNotFound,
                        sdk_exc.ServiceDiscoveryException)):
        if _outage_in(exc):
            # Authentication or version discovery while the cloud is down: keystoneauth
            # says "Could not find versioned identity endpoints" for a connection refused.
            return TransientError('no answer from the cloud while authenticating or '
                                  'discovering versions: %s' % exc, None, type(exc).__name__)
        return ConfigurationError('the cloud configuration does not work: %s; %s'
                                  % (exc, CONFIG_HINT), None, type(exc).__name__)
    if isinstance(exc, (sdk_exc.SDKException, ksa_exc.ClientException)):
        return CloudError(str(exc), None, type(exc).__name__)
    return exc


def _invoke(fn, args, kwargs):
    """fn(*args, **kwargs) with errors translated; a generator (openstacksdk's list calls)
    is read to the end here, so that its errors are too."""
    try:
        result = fn(*args, **kwargs)
        if isinstance(result, types.GeneratorType):
            result = list(result)
        return result
    except Exception as exc:
        translated = translate(exc)
        if translated is exc:
            raise
        raise translated from exc


def _retrying(conf=None):
    group = _conf(conf)
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(group.retries + 1),
        wait=tenacity.wait_exponential(multiplier=group.retry_delay,
                                       max=group.retry_max_delay),
        before_sleep=lambda state: LOG.info('cloud: retrying after %s',
                                            state.outcome.exception()),
        sleep=time.sleep,
        reraise=True)


def call(fn, *args, **kwargs):
    """fn(*args, **kwargs), retried on transient errors; for calls safe to repeat (reads,
    updates, deletes). Errors are CloudErrors. The first use of a Connection's proxy
    (``conn.compute``) authenticates and discovers versions: reach it inside ``fn`` (a
    lambda) when it may be the first, so that its errors are translated too."""
    return _retrying()(_invoke, fn, args, kwargs)


def find_or_create(find, create):
    """``create()``, but after a transient failure ``find()`` (the lookup by intent token)
    first, adopting what it finds: a create whose answer was lost is not made twice."""
    failed = []

    def once():
        if failed:
            found = call(find)
            if found is not None:
                LOG.info('cloud: adopted %s after a failed create', getattr(found, 'id', found))
                return found
        try:
            return _invoke(create, (), {})
        except TransientError:
            failed.append(True)
            raise
    return _retrying()(once)
