"""heat-taskflow-api: Heat's Orchestration API v1, served by gunicorn.

    heat-taskflow-api [--config-file /etc/heat-taskflow/heat-taskflow.conf]

Listens on [api] bind_host:bind_port (127.0.0.1:8004) with [api] workers processes of
[api] threads threads each (gunicorn's gthread worker). The master brings the database
schema up to date and closes it; each worker builds its own engine service after the fork
(no connection crosses it), resumes the legacy operations
orphaned by a dead process, and closes the service when it stops. One log line per request
(logger heat_taskflow.api.access). SIGTERM or SIGINT: requests in progress may finish
([api] graceful_timeout), the workers close their services, exit 0. Exit 1 if gunicorn
cannot start (the address is taken), 2 on a configuration error.
"""

import logging
import os
import sys

import gunicorn.app.base
from gunicorn.workers import base as gunicorn_worker
from gunicorn.workers import gthread

from heat_taskflow.cmd import daemon
from heat_taskflow.conf import CONF
from heat_taskflow.conf import api as api_conf

NAME = 'heat-taskflow-api'
LOG = logging.getLogger(NAME)


def prepare_database(conf):
    """Bring the schema up to date once, in the master, before the workers start (they
    would race each other's migrations); no connection outlives this call, so none is
    shared across the fork."""
    from heat_taskflow.persistence import database as database_mod
    database = database_mod.Database.from_conf(conf)
    try:
        database.sync()
    finally:
        database.dispose()


def build_service(conf):
    """The engine service of one worker: legacy operations run in the background on the
    engine's pool; an in-process conductor when the job board is zake://."""
    from heat_taskflow.conductors import local
    return local.stack_service(conf, background=True)


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker, whose quick shutdown survives a second signal.

    Ctrl-C reaches a worker twice: SIGINT from the terminal (to the whole process group),
    then SIGQUIT from the master's quick shutdown a few milliseconds later. gunicorn
    handles both with handle_quit, which raises SystemExit in the main thread; only the
    first may act:

    - gthread's handle_quit shuts the request thread pool down under the pool's
      non-reentrant lock. The second signal handled while the first handler holds it (the
      main thread hands the GIL to the pool thread it wakes there; on a loaded host the
      master's SIGQUIT arrives before it has the GIL back) blocks the main thread on that
      lock for good: the worker hangs until the master kills it ([api] graceful_timeout).
    - The second signal still pending when the first SystemExit unwinds raises another one
      in the worker's "finally" (gunicorn's spawn_worker), which skips the worker_exit hook:
      the engine service is never closed, and the interpreter's exit then waits for the
      resource actions still running in its thread pools (a wait condition: its timeout).

    So handle_quit acts once and ignores what follows (_worker_exit sets the same flag for
    the SIGTERM path), and leaves the request pool alone: nothing is submitted to it after
    the SystemExit, and the interpreter's exit stops its idle threads.
    """

    stopping = False

    def handle_quit(self, sig, frame):
        if self.stopping:
            return
        self.stopping = True
        # Not gthread's handle_quit: the pool's lock may be held by this very thread
        # (a submit in progress) when the signal is handled.
        gunicorn_worker.Worker.handle_quit(self, sig, frame)


class APIServer(gunicorn.app.base.BaseApplication):
    """gunicorn, configured from oslo.config instead of its own command line."""

    def __init__(self, conf):
        self.conf = conf
        self.service = None
        super().__init__(prog=NAME)

    def load_config(self):
        api = self.conf.api
        host = api.bind_host
        if ':' in host and not host.startswith('['):
            host = '[%s]' % host            # an IPv6 address
        settings = {
            'bind': ['%s:%d' % (host, api.bind_port)],
            'workers': api.workers,
            'threads': api.threads,
            'worker_class': ThreadWorker,
            'graceful_timeout': api.graceful_timeout,
            'preload_app': False,           # the app (and its database) is built per worker
            'accesslog': None,              # api.wsgi.AccessLog writes the access log
            'errorlog': '-',
            'loglevel': 'debug' if self.conf.debug else 'info',
            'proc_name': NAME,
            'worker_exit': _worker_exit,
            # gunicorn's control socket is one per user by default ($HOME/.gunicorn): two
            # services on one host would fight over it, and nothing here uses it.
            'control_socket_disable': True,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:        # control_socket_disable: gunicorn >= 25.1
                self.cfg.set(key, value)

    def load(self):
        """Called in each worker after the fork: build its service and the WSGI app."""
        from heat_taskflow.api import app as app_mod
        self.service = build_service(self.conf)
        self.service.resume_orphans()
        return app_mod.build_app(self.conf, self.service)


def _worker_exit(server, worker):
    """gunicorn hook, in the worker as it stops: close its engine service. (The master
    calls it too, for a worker that was already gone: worker.app.service is None there.)"""
    # A SIGINT or SIGQUIT now (Ctrl-C after a SIGTERM, the master's quick shutdown after
    # its graceful one) must not raise SystemExit into the closing, which would cut it
    # short and leave pool threads for the interpreter to wait on (ThreadWorker).
    worker.stopping = True
    service = getattr(worker.app, 'service', None)
    if service is not None:
        worker.app.service = None
        try:
            left = service.close()
        except Exception:  # noqa: BLE001 - the worker is exiting; say why close failed
            LOG.exception('closing the engine service failed')
            return
        if not left:
            LOG.info('worker %s: engine service closed', worker.pid)
            return
        # Resource actions still running (one of a cancelled traversal goes on until its
        # plugin answers) sit in pool threads that the interpreter would join at exit,
        # holding the worker until gunicorn kills it. Leave now, as a crash would: their
        # stacks keep no heartbeat, so the next start (resume_orphans) or "heat-taskflow
        # stack resume" continues what is still IN_PROGRESS, and every action is safe to
        # run twice.
        LOG.warning('worker %s: engine service closed; leaving %d legacy operation(s) '
                    'still running to be resumed: %s', worker.pid, len(left),
                    ', '.join(sorted(left)))
        logging.shutdown()
        os._exit(0)


def main(argv=None):
    """Console script entry point."""
    argv = sys.argv[1:] if argv is None else list(argv)
    api_conf.register_opts(CONF)
    failed = daemon.configure(CONF, argv, NAME)
    if failed is not None:
        return failed
    daemon.setup_logging(CONF.debug)
    try:
        prepare_database(CONF)
    except Exception as exc:  # noqa: BLE001 - reported as a start-up failure
        LOG.error('cannot start: the database at [database] connection: %s', exc)
        return 2
    try:
        APIServer(CONF).run()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
