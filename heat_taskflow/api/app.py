"""The API's WSGI application: the middleware pipeline of docs/api.md around the router."""

from oslo_middleware import http_proxy_to_wsgi, request_id

from heat_taskflow.api import faults, router, versions, wsgi
from heat_taskflow.conf import api as api_conf


def build_app(conf, service, auth_pipeline=None):
    """The WSGI application over an engine service (outermost first): request id, access
    log, fault wrapper, proxy headers, body size limit, versions, auth + context, router.

    ``auth_pipeline(conf, app)`` wraps the router with authentication and the request
    context; api.auth.pipeline ([api] auth_strategy) unless given.
    """
    api_conf.register_opts(conf)
    if auth_pipeline is None:
        from heat_taskflow.api import auth
        auth_pipeline = auth.pipeline
    app = router.Router(conf, service)
    app = auth_pipeline(conf, app)
    app = versions.Versions(app)
    app = wsgi.BodySizeLimit(app, conf.api.max_request_body_size)
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    # Behind a proxy the Location of 302s and links must name the proxy (Heat needs this
    # switched on by hand); [oslo_middleware] enable_proxy_headers_parsing = false turns
    # it off.
    conf.set_default('enable_proxy_headers_parsing', True, group='oslo_middleware')
    app = faults.FaultWrapper(app, conf)
    app = wsgi.AccessLog(app)
    return request_id.RequestId(app, conf)
