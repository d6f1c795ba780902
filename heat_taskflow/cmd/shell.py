"""The heat-taskflow command line: a cliff application over the engine's StackService.

Commands are stevedore entry points in the ``heat_taskflow.cli`` namespace (setup.cfg). The
command line reads files, calls the service and prints; it holds no engine logic.

Exit codes: 0 success; 1 the operation ran and the stack ended FAILED (or an unexpected
error); 2 a usage, input or validation error.
"""

import logging
import sys

from cliff import app, commandmanager
from oslo_config import cfg

from heat_taskflow.common import version as version_mod
from heat_taskflow.conf import CONF

NAME = 'heat-taskflow'
COMMAND_NAMESPACE = 'heat_taskflow.cli'


def make_service(conf):
    """Build the engine's StackService for a parsed configuration (the seam tests replace),
    scoped to ``[DEFAULT] project_id`` so that the command line and the API see the same
    stacks."""
    from heat_taskflow.conductors import local

    return local.stack_service(conf).scoped(conf.project_id)


def _exit_code(exc):
    """The exit code a SystemExit carries (argparse: 2 for usage errors, None for --help)."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


class HeatTaskflowApp(app.App):
    """heat-taskflow: HOT stacks on TaskFlow."""

    NAME = NAME
    LOG = logging.getLogger(NAME)

    def __init__(self, service_factory=None, command_manager=None,
                 stdin=None, stdout=None, stderr=None):
        super().__init__(
            description='Orchestrate Heat (HOT) stacks on TaskFlow.',
            version=version_mod.version_string(),
            command_manager=command_manager or commandmanager.CommandManager(
                COMMAND_NAMESPACE),
            stdin=stdin, stdout=stdout, stderr=stderr)
        self._service_factory = service_factory
        self._service = None
        self._log_handlers = []
        self._root_level = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument('--config-file', metavar='PATH', action='append', default=[],
                            help='Configuration file to read (repeatable; later files win). '
                                 'No file is read unless given.')
        parser.add_argument('--config-dir', metavar='DIR', action='append', default=[],
                            help='Directory of *.conf files to read after --config-file '
                                 '(repeatable)')
        return parser

    @property
    def service(self):
        """The StackService, built on first use from the parsed configuration."""
        if self._service is None:
            factory = self._service_factory or make_service
            self._service = factory(CONF)
        return self._service

    def initialize_app(self, argv):
        try:
            CONF([], project=NAME, default_config_files=list(self.options.config_file),
                 default_config_dirs=list(self.options.config_dir))
        except cfg.Error as exc:
            self.stderr.write('%s\n' % exc)
            raise SystemExit(2)

    # Console log level by -q / (default) / -v / -vv: library INFO chatter stays hidden unless
    # asked for, so stderr carries errors, events and status lines.
    CONSOLE_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}

    def configure_logging(self):
        root = logging.getLogger('')
        before = list(root.handlers)
        self._root_level = root.level
        super().configure_logging()
        self._log_handlers = [h for h in root.handlers if h not in before]
        level = self.CONSOLE_LEVELS.get(self.options.verbose_level, logging.DEBUG)
        for handler in self._log_handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(level)

    def _restore_logging(self):
        root = logging.getLogger('')
        for handler in self._log_handlers:
            root.removeHandler(handler)
        self._log_handlers = []
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None

    def interact(self):
        # No interactive shell: a command is required.
        self.stderr.write('%s: a command is required; see %s --help\n' % (NAME, NAME))
        raise SystemExit(2)

    def run_subcommand(self, argv):
        try:
            self.command_manager.find_command(argv)
        except ValueError:
            self.stderr.write('%s: "%s" is not a command; see %s --help\n'
                              % (NAME, ' '.join(argv), NAME))
            matches = self.get_fuzzy_matches(argv[0])
            if matches:
                self.stderr.write('Did you mean one of these?\n')
                for match in matches:
                    self.stderr.write('  %s\n' % match)
            return 2
        return super().run_subcommand(argv)

    def run(self, argv):
        try:
            return super().run(argv)
        except SystemExit as exc:
            return _exit_code(exc)
        finally:
            self._restore_logging()
            close = getattr(self._service, 'close', None)
            self._service = None
            if callable(close):
                close()


def main(argv=None):
    """Console script entry point."""
    return HeatTaskflowApp().run(sys.argv[1:] if argv is None else list(argv))


if __name__ == '__main__':
    sys.exit(main())
