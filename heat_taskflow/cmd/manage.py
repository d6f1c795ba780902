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


def _key_file(parsed_args):
    import os
    path = getattr(parsed_args, 'key_file', None) or CONF.auth_encryption_key_file
    if not path:
        raise cfg.Error('no key file: give --key-file or set [DEFAULT] '
                        'auth_encryption_key_file')
    return os.path.abspath(os.path.expanduser(path))


class KeyGenerate(ManageCommand):
    """Write a new encryption key file (mode 0600) for [DEFAULT]
    encrypt_parameters_and_properties; refuses to overwrite an existing one."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--key-file', metavar='PATH',
                            help='Where to write it (default: [DEFAULT] '
                                 'auth_encryption_key_file)')
        return parser

    def take_action(self, parsed_args):
        from heat_taskflow.persistence import crypto

        path = _key_file(parsed_args)
        crypto.write_key_file(path, [crypto.generate_key()])
        self.app.stdout.write(
            'wrote a new encryption key to %s (mode 0600); to use it, set in [DEFAULT]:\n'
            '  encrypt_parameters_and_properties = true\n'
            '  auth_encryption_key_file = %s\n'
            'Keep a copy somewhere safe: without it, encrypted values cannot be read.\n'
            % (path, path))
        return 0


class KeyRotate(ManageCommand):
    """Encrypt every stored value with a new key (and any clear value as well).

    With one key in the key file, puts a new key first (the old one stays, for reading);
    with several, a rotation is under way and this one goes on with the first key. Then
    re-encrypts, in batches of one transaction each, every value not yet under the first
    key. Safe to interrupt and run again. Stop the engine, API and conductors first (they
    read the key file when they start), and start them once it has finished; then run
    "key retire" to drop the old key.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--batch-size', type=int, default=500, metavar='N',
                            help='Rows per transaction (default 500)')
        return parser

    def take_action(self, parsed_args):
        from heat_taskflow.persistence import api, crypto

        if parsed_args.batch_size < 1:
            raise cfg.Error('--batch-size must be at least 1')
        if not CONF.encrypt_parameters_and_properties:
            raise cfg.Error('[DEFAULT] encrypt_parameters_and_properties is off: turn it on '
                            'before rotating (values would be written in clear)')
        path = _key_file(parsed_args)
        keys = crypto.read_key_file(path)
        out = self.app.stdout
        if len(keys) == 1:
            crypto.write_key_file(path, [crypto.generate_key()] + keys, replace=True)
            out.write('%s: added a new key (first); the old one stays for reading\n' % path)
        else:
            out.write('%s: lists %d keys; (re-)encrypting with the first\n'
                      % (path, len(keys)))
        db = self.get_database()    # built now: it reads the key file as it is now
        counts = api.reencrypt(db, batch_size=parsed_args.batch_size)
        for table, count in counts.items():
            out.write('  %s: %d row(s) re-encrypted\n' % (table, count))
        out.write('Every stored value is under the first key. Once every heat-taskflow '
                  'process has restarted with this key file, run "%s key retire" to drop '
                  'the old key.\n' % NAME)
        return 0


class KeyRetire(ManageCommand):
    """Drop every key but the first from the key file, once no stored value needs them."""

    def take_action(self, parsed_args):
        from heat_taskflow.persistence import api, crypto

        path = _key_file(parsed_args)
        keys = crypto.read_key_file(path)
        if len(keys) == 1:
            self.app.stdout.write('%s holds one key: nothing to retire\n' % path)
            return 0
        pending = api.reencrypt(self.get_database(), check_only=True)
        left = sum(pending.values())
        if left:
            self.app.stderr.write(
                '%s: %d row(s) hold values not under the first key (%s); run "%s key '
                'rotate" first\n' % (NAME, left, ', '.join(
                    '%s: %d' % item for item in pending.items() if item[1]), NAME))
            return 1
        crypto.write_key_file(path, keys[:1], replace=True)
        self.app.stdout.write('%s: retired %d old key(s)\n' % (path, len(keys) - 1))
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

            self._database = Database.from_conf(CONF)
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
