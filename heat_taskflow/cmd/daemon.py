"""What the daemons' entry points (heat-taskflow-api, heat-taskflow-conductor) share: reading
their configuration and setting up their logging."""

import logging
import sys

from oslo_config import cfg

LOG_FORMAT = '%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s'
# Libraries that log every watch, state change, plugin load or migration step at INFO.
NOISY = ('kazoo', 'taskflow', 'stevedore', 'alembic')


def configure(conf, argv, prog):
    """Parse the command line and configuration files into conf. Returns None, or 2 after
    saying why on stderr (a bad option or file)."""
    try:
        conf(argv, project='heat-taskflow', prog=prog)
    except cfg.Error as exc:
        sys.stderr.write('%s: %s\n' % (prog, exc))
        return 2
    return None


def setup_logging(verbose):
    """Log to stderr, one line per record; DEBUG and the noisy libraries too if verbose."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT,
                        stream=sys.stderr)
    if not verbose:
        for noisy in NOISY:
            logging.getLogger(noisy).setLevel(logging.WARNING)
