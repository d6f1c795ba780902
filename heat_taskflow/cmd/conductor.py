"""heat-taskflow-conductor: claims and runs the distributed path's jobs until told to stop.

    heat-taskflow-conductor --config-file /etc/heat-taskflow/heat-taskflow.conf

SIGTERM or SIGINT stops it cleanly: it claims nothing more, lets running resource actions
end, hands their jobs back for another conductor, and exits 0. A second signal exits at
once (claims then vanish with the ZooKeeper session). Exit 1 if the conductor dies, 2 on
a configuration or connection error.
"""

import logging
import os
import signal
import sys
import threading

from oslo_config import cfg

from heat_taskflow.cmd import daemon
from heat_taskflow.conf import CONF

NAME = 'heat-taskflow-conductor'
LOG = logging.getLogger(NAME)

cli_opts = [
    cfg.BoolOpt('verbose', short='v', default=False, help='Log at DEBUG level.'),
]


def main(argv=None):
    """Console script entry point."""
    argv = sys.argv[1:] if argv is None else list(argv)
    CONF.register_cli_opts(cli_opts)
    failed = daemon.configure(CONF, argv, NAME)
    if failed is not None:
        return failed
    daemon.setup_logging(CONF.verbose)

    from heat_taskflow.conductors import conductor as conductor_mod
    from heat_taskflow.jobs import backends as jobboards
    from heat_taskflow.persistence import database as database_mod

    try:
        if jobboards.in_process(CONF.jobboard.url):
            LOG.warning('[jobboard] url %s is in-process: only this process sees its jobs',
                        CONF.jobboard.url)
        database = database_mod.Database.from_conf(CONF)
        database.sync()
        conductor = conductor_mod.Conductor(CONF, database).start()
    except Exception as exc:  # noqa: BLE001 - reported as a start-up failure
        LOG.error('cannot start: %s', exc)
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            LOG.warning('second %s: exiting now', signal.Signals(signum).name)
            os._exit(1)
        LOG.info('%s: stopping (running actions end, their jobs are handed back)',
                 signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(1.0):
        if not conductor.alive():
            LOG.error('%s: the conductor died', conductor.name)
            conductor.stop()
            return 1
    conductor.stop()
    database.dispose()
    return 0


if __name__ == '__main__':
    sys.exit(main())
