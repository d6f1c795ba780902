"""Options of the Heat API service (heat-taskflow-api): the [api] group (its
auth_strategy is in conf/auth.py) and [DEFAULT] debug."""

from oslo_config import cfg

api_opts = [
    cfg.HostAddressOpt('bind_host',
                       default='127.0.0.1',
                       help='Address the API service listens on. The default, loopback, suits '
                            'auth_strategy = noauth; listen elsewhere only with keystone.'),
    cfg.PortOpt('bind_port',
                default=8004,
                help='Port the API service listens on (8004 is Heat\'s). The endpoint of '
                     'project P is then http://HOST:PORT/v1/P.'),
    cfg.IntOpt('workers',
               default=1, min=1,
               help='Worker processes serving requests (gunicorn). Each builds its own '
                    'engine service after it starts; legacy operations run in the worker '
                    'that accepted them.'),
    cfg.IntOpt('threads',
               default=8, min=1,
               help='Threads per worker process (gunicorn\'s gthread worker): requests '
                    'one worker serves at the same time.'),
    cfg.IntOpt('max_request_body_size',
               default=1048576, min=1,
               help='Largest request body accepted, in bytes (Heat\'s max_json_body_size); '
                    'a larger body is refused with 413 before it is read.'),
    cfg.IntOpt('graceful_timeout',
                 default=30, min=0,
                 help='Seconds a worker has after SIGTERM to finish its requests in '
                      'progress and close its engine service (which waits up to [DEFAULT] '
                      'shutdown_timeout for legacy operations running in it) before it is '
                      'killed.'),
]

debug_opts = [
    cfg.BoolOpt('debug',
                default=False,
                help='Log at DEBUG level, and put the server-side traceback into the '
                     'error bodies of the API (error.traceback).'),
]


def register_opts(conf):
    """Register the API service's options on conf (once; again is harmless)."""
    conf.register_opts(api_opts, group='api')
    conf.register_opts(debug_opts)


def list_opts():
    """Options for oslo-config-generator, by group."""
    return [('api', api_opts), ('DEFAULT', debug_opts)]
