"""Fixtures for the API's in-process tests: the WSGI application over a StackService on a
private SQLite database, driven with webob.Request.blank.

conf     a private ConfigOpts with every option (the API's too) at its default
service  a StackService on SQLite in the test's own state directory
app      the full pipeline of api/app.py over service (noauth)
call     call(method, path, body=None, headers=None) -> webob Response through app
"""

import json

import pytest
import webob
from oslo_config import cfg

from heat_taskflow.api import app as app_mod
from heat_taskflow.conf import api as api_conf
from heat_taskflow.conf import auth as auth_conf
from heat_taskflow.conf import cloud, opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.persistence import database as database_mod


@pytest.fixture
def conf(tmp_path):
    """A private ConfigOpts with every option at its default, state in tmp_path."""
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    cloud.register_opts(conf)
    api_conf.register_opts(conf)
    auth_conf.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(tmp_path))
    return conf


@pytest.fixture
def service(conf, tmp_path):
    """A StackService on a SQLite database private to the test."""
    database = database_mod.Database('sqlite:///%s' % (tmp_path / 'api.sqlite'))
    database.sync()
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    svc = service_mod.StackService(conf, database=database, executors=executors)
    try:
        yield svc
    finally:
        svc.close()
        executors.shutdown()
        database.dispose()


@pytest.fixture
def app(conf, service):
    """The API's WSGI application over service."""
    return app_mod.build_app(conf, service)


@pytest.fixture
def call(app):
    """call(method, path, body=None, headers=None, **kw) -> Response (body: a dict is sent
    as JSON, bytes/str as they are)."""

    def do(method, path, body=None, headers=None, **kw):
        req = webob.Request.blank(path, method=method, headers=headers or {}, **kw)
        if body is not None:
            if isinstance(body, (dict, list)):
                req.body = json.dumps(body).encode()
                req.content_type = 'application/json'
            else:
                req.body = body.encode() if isinstance(body, str) else body
        return req.get_response(app)

    return do
