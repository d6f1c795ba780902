"""heat-taskflow-manage: operator commands on the database (a cliff application).

Commands are stevedore entry points in the ``heat_taskflow.manage`` namespace (setup.cfg), as
the ``heat_taskflow.cli`` family of heat-taskflow is: adding a command is a ManageCommand
subclass implementing take_action(parsed_args) (returning an exit code) and its entry point
(``db_tables = module:Class`` is the command ``db tables``). The database comes from
[database] connection, read from --config-file / --config-dir.

Exit codes: 0 success; 1 the command failed; 2 a usage or configuration error.
"""

import logging
import sys

from cliff import app, commandmanager
from cliff import command as cliff_command
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from heat_taskflow.common import states
from heat_taskflow.conf import CONF
from heat_taskflow.persistence import exceptions as db_exc

NAME = 'heat-taskflow-manage'
COMMAND_NAMESPACE = 'heat_taskflow.manage'


class ManageCommand(cliff_command.Command):
    """Base of every heat-taskflow-manage command: gives it the Database, maps errors."""

    def get_database(self):
        """The Database of [database] connection (built once per run)."""
        return self.app.database

    def find_family(self, name_or_id, project):
        """(stack, [stack and every live nested stack below it]) or None, reporting the miss."""
        from heat_taskflow.persistence import api

        db = self.get_database()
        # By id first: a stack named with another stack's id must not stand in for it.
        stack = api.stack_get(db, name_or_id, show_deleted=False)
        if stack is None:
            stack = api.stack_get_by_name(db, name_or_id, project)
        if stack is None:
            self.app.stderr.write('%s: stack "%s" not found\n' % (NAME, name_or_id))
            return None
        return stack, [stack] + _descendants(api, db, stack)

    def run(self, parsed_args):
        try:
            return super().run(parsed_args) or 0
        except (db_exc.PersistenceError, sa_exc.SQLAlchemyError, cfg.Error) as exc:
            self.app.stderr.write('%s: %s\n' % (NAME, exc))
            return 2 if isinstance(exc, cfg.Error) else 1


class DbSync(ManageCommand):
    """Create or upgrade the schema (heat-taskflow's tables and TaskFlow's logbooks)."""

    def take_action(self, parsed_args):
        db = self.get_database()
        db.sync()
        self.app.stdout.write('database at revision %s\n' % db.version())
        return 0


class DbVersion(ManageCommand):
    """Print the schema revision of the database ('None' if it was never synced)."""

    def take_action(self, parsed_args):
        self.app.stdout.write('%s\n' % self.get_database().version())
        return 0


class ResetStackStatus(ManageCommand):
    """Mark an IN_PROGRESS stack, its nested stacks and their in-progress resources FAILED.

    For a stack whose operation can no longer finish (its process died and it will not be
    resumed). Without --yes it only prints what it would change.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('stack', metavar='STACK', help='Stack name or id')
        parser.add_argument('--project', default='default', help='Project of the stack')
        parser.add_argument('--yes', action='store_true',
                            help='Make the change (otherwise only print it)')
        return parser

    def take_action(self, parsed_args):
        from heat_taskflow.persistence import api

        db = self.get_database()
        found = self.find_family(parsed_args.stack, parsed_args.project)
        if found is None:
            return 2
        stack, family = found
        busy = [s for s in family if s.status == states.IN_PROGRESS]
        if not busy:
            self.app.stderr.write('%s: stack "%s" is %s_%s, not in progress: nothing to reset\n'
                                  % (NAME, stack.name, stack.action, stack.status))
            return 1
        out = self.app.stdout
        verb = 'Resetting' if parsed_args.yes else 'Would reset'
        out.write('%s (to FAILED, reason "reset by operator"):\n' % verb)
        for s in busy:
            out.write('  stack %s (%s): %s_IN_PROGRESS -> %s_FAILED\n'
                      % (s.name, s.id, s.action, s.action))
            for r in api.resource_list(db, s.id):
                if r.status == states.IN_PROGRESS:
                    out.write('    resource %s (%s): %s_IN_PROGRESS -> %s_FAILED\n'
                              % (r.name, r.id, r.action, r.action))
        if not parsed_args.yes:
            out.write('Nothing changed; run again with --yes to make the change.\n')
            return 0
        reason = 'reset by operator (was %s_IN_PROGRESS)' % stack.action
        count = api.stack_reset_in_progress(db, [s.id for s in busy], reason)
        out.write('%d stack(s) reset.\n' % count)
        return 0


MIGRATABLE = ((states.CREATE, states.COMPLETE), (states.UPDATE, states.COMPLETE),
              (states.CHECK, states.COMPLETE))


class MigrateConvergence(ManageCommand):
    """Move a finished legacy stack and its nested stacks to the distributed path.

    The stack and every nested stack must be CREATE_, UPDATE_ or CHECK_COMPLETE; all of
    them change in one transaction (or none does). Their next operation is run by
    conductors on the job board.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('stack', metavar='STACK', help='Stack name or id')
        parser.add_argument('--project', default='default', help='Project of the stack')
        return parser

    def take_action(self, parsed_args):
        from heat_taskflow.persistence import api

        db = self.get_database()
        found = self.find_family(parsed_args.stack, parsed_args.project)
        if found is None:
            return 2
        stack, family = found
        reason = _not_migratable(stack, family)
        if reason:
            self.app.stderr.write('%s: stack "%s" not migrated: %s\n'
                                  % (NAME, stack.name, reason))
            return 1
        if not api.stack_set_convergence(db, {s.id: s.current_traversal for s in family},
                                         MIGRATABLE):
            self.app.stderr.write('%s: stack "%s" not migrated: it changed meanwhile (an '
                                  'operation started?); nothing was changed\n'
                                  % (NAME, stack.name))
            return 1
        out = self.app.stdout
        for s in family:
            out.write('stack %s (%s): %s_%s, legacy -> distributed\n'
                      % (s.name, s.id, s.action, s.status))
        out.write('%d stack(s) moved to the distributed path; their next operations are '
                  'run by conductors on the job board.\n' % len(family))
        return 0


def _not_migratable(stack, family):
    """Why a stack family cannot move to the distributed path ('' when it can)."""
    if stack.convergence:
        return 'it is already on the distributed path'
    for s in family:
        what = 'it' if s is stack else 'its nested stack %s (%s)' % (s.name, s.id)
        if s.convergence:
            return '%s is already on the distributed path' % what
        if (s.action, s.status) not in MIGRATABLE:
            return ('%s is %s_%s; only CREATE_COMPLETE, UPDATE_COMPLETE or CHECK_COMPLETE '
                    'stacks can be migrated' % (what, s.action, s.status))
    return ''


def _descendants(api, db, stack):
    """Every live nested stack below a stack."""
    out, todo = [], [stack.id]
    while todo:
        children = api.stack_list(db, None, owner_id=todo.pop())
        out.extend(children)
        todo.extend(c.id for c in children)
    return out


class ManageApp(app.App):
    """heat-taskflow-manage: database administration."""

    def __init__(self, command_manager=None, stdin=None, stdout=None, stderr=None):
        super().__init__(
            description='Administer the heat-taskflow database.',
            version='0.1.0',
            command_manager=command_manager or commandmanager.CommandManager(
                COMMAND_NAMESPACE),
            stdin=stdin, stdout=stdout, stderr=stderr)
        self._database = None
        self._log_handlers = []

    def configure_logging(self):
        # Remember cliff's handlers so an in-process run (tests) leaves the root logger as found.
        root = logging.getLogger('')
        before = list(root.handlers)
        super().configure_logging()
        self._log_handlers = [h for h in root.handlers if h not in before]
        if self.options.verbose_level < 2:
            # Alembic narrates every plugin it loads at INFO; keep that for --debug/-vv.
            logging.getLogger('alembic').setLevel(logging.WARNING)

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument('--config-file', metavar='PATH', action='append', default=[],
                            help='Configuration file to read (repeatable; later files win).')
        parser.add_argument('--config-dir', metavar='DIR', action='append', default=[],
                            help='Directory of *.conf files to read after --config-file '
                                 '(repeatable).')
        return parser

    def initialize_app(self, argv):
        try:
            CONF([], project='heat-taskflow',
                 default_config_files=list(self.options.config_file),
                 default_config_dirs=list(self.options.config_dir))
        except cfg.Error as exc:
            self.stderr.write('%s: %s\n' % (NAME, exc))
            raise SystemExit(2) from exc

    @property
    def database(self):
        """The Database of [database] connection, built on first use."""
        if self._database is None:
            from heat_taskflow.persistence.database import Database

            self._database = Database(CONF.database.connection)
        return self._database

    def interact(self):
        # No interactive shell: a command is required.
        self.stderr.write('%s: a command is required; see %s --help\n' % (NAME, NAME))
        raise SystemExit(2)

    def run(self, argv):
        try:
            return super().run(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            if self._database is not None:
                self._database.dispose()
                self._database = None
            root = logging.getLogger('')
            for handler in self._log_handlers:
                root.removeHandler(handler)
            self._log_handlers = []


def main(argv=None):
    """Console script entry point."""
    return ManageApp().run(sys.argv[1:] if argv is None else list(argv))


if __name__ == '__main__':
    sys.exit(main())
