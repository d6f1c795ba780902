"""stack create / update / delete / show / list and stack template show."""

from cliff import command, lister, show

from heat_taskflow.cmd import common, progress

STACK_FIELDS = ('id', 'stack_name', 'description', 'stack_status', 'stack_status_reason',
                'creation_time', 'updated_time', 'parameters', 'outputs', 'timeout_mins',
                'disable_rollback', 'auto_converge', 'parent', 'path')
LIST_COLUMNS = ('ID', 'Stack Name', 'Stack Status', 'Creation Time', 'Updated Time')
LIST_KEYS = ('id', 'stack_name', 'stack_status', 'creation_time', 'updated_time')


def _in_progress(stack):
    return bool(stack) and str(stack.get('stack_status', '')).endswith('_IN_PROGRESS')


class StackOperation(common.EngineCommand):
    """Runs a create/update/delete, following it with --wait, and sets the exit status."""

    def run_operation(self, name, start, wait, gone_ok=False):
        """Call start(on_event); with wait, follow the stack until it settles.

        Returns the final stack dict (None when it no longer exists).
        """
        if not wait:
            stack = start(None)
            self._report(name, stack, None)
            return stack
        with progress.EventDisplay(self.app.stderr, title=name) as display:
            stack = start(display)
            if _in_progress(stack):
                stack = self.service.wait(name, on_event=display)
            self._report(name, stack, display, gone_ok)
        return stack

    def _report(self, name, stack, display, gone_ok=False):
        failed = common.operation_failed(stack)
        if stack is None and not gone_ok:
            self.app.stderr.write('stack %s no longer exists\n' % name)
            failed = True
        elif display is not None:
            display.message(common.status_line(name, stack))
        elif failed:
            self.app.stderr.write(common.status_line(name, stack) + '\n')
        if failed:
            self.exit_status = 1


class CreateStack(StackOperation, show.ShowOne):
    """Create a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_template_args(parser, required=True)
        parser.add_argument('--timeout', metavar='MIN', type=common.positive_int,
                            help='Stack operation timeout in minutes')
        parser.add_argument('--disable-rollback', action='store_true',
                            help='Leave a failed create as it is instead of rolling back')
        _add_auto_converge(parser, default=False)
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the stack is created, showing its events')
        parser.add_argument('name', metavar='NAME', help='Name of the stack to create')
        return parser

    def take_action(self, parsed_args):
        params = common.collect_parameters(parsed_args)
        text, filename, files, envs = common.load_template_files(parsed_args)

        def start(on_event):
            return self.service.create_stack(
                parsed_args.name, text, filename, files, envs, params,
                timeout_mins=parsed_args.timeout,
                disable_rollback=parsed_args.disable_rollback, on_event=on_event,
                auto_converge=parsed_args.auto_converge)

        stack = self.run_operation(parsed_args.name, start, parsed_args.wait)
        return common.show_fields(stack or {}, STACK_FIELDS)


ROLLBACK = {'enabled': False, 'disabled': True, 'keep': None}


def _add_auto_converge(parser, default):
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--auto-converge', dest='auto_converge', action='store_true',
                       default=default,
                       help='Let the conductors\' observer repair drift it finds on this '
                            'stack by itself (stack update --existing --converge). '
                            'Distributed stacks only, with [observer] interval set')
    group.add_argument('--no-auto-converge', dest='auto_converge', action='store_false',
                       help='Only record drift the observer finds, as events%s'
                            % (' (default)' if default is False else ''))


class UpdateStack(StackOperation, show.ShowOne):
    """Update a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_template_args(parser, required=False)
        parser.add_argument('--existing', action='store_true',
                            help='Reuse the current template, parameters and environment; '
                                 'what is given here is applied on top of them')
        parser.add_argument('--timeout', metavar='MIN', type=common.positive_int,
                            help='Stack operation timeout in minutes')
        parser.add_argument('--rollback', choices=sorted(ROLLBACK), default='keep',
                            help='Roll back a failed update (enabled) or not (disabled); '
                                 'keep (default) leaves the stack\'s setting as it is')
        parser.add_argument('--converge', action='store_true',
                            help='Compare resources with their real state, not only the '
                                 'stored one')
        _add_auto_converge(parser, default=None)
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the update ends, showing its events')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        if parsed_args.template is None and not parsed_args.existing:
            raise common.UsageError('stack update: -t/--template is required unless '
                                    '--existing is given')
        params = common.collect_parameters(parsed_args)
        text, filename, files, envs = common.load_template_files(parsed_args)
        read_anything = parsed_args.template is not None or parsed_args.environment

        def start(on_event):
            return self.service.update_stack(
                parsed_args.name, template=text, template_filename=filename,
                files=files if read_anything else None,
                environments=envs if parsed_args.environment else None,
                parameters=params or None, existing=parsed_args.existing,
                timeout_mins=parsed_args.timeout,
                disable_rollback=ROLLBACK[parsed_args.rollback],
                converge=parsed_args.converge, on_event=on_event,
                auto_converge=parsed_args.auto_converge)

        stack = self.run_operation(parsed_args.name, start, parsed_args.wait)
        return common.show_fields(stack or {}, STACK_FIELDS)


class DeleteStack(StackOperation, command.Command):
    """Delete a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--yes', '-y', action='store_true',
                            help='Do not ask for confirmation (asked only on a terminal)')
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the stack is deleted, showing its events')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def _confirmed(self, name):
        stdin = self.app.stdin
        if not (getattr(stdin, 'isatty', None) and stdin.isatty()):
            return True
        self.app.stderr.write('Are you sure you want to delete stack %s [y/N]? ' % name)
        self.app.stderr.flush()
        return stdin.readline().strip().lower() in ('y', 'yes')

    def take_action(self, parsed_args):
        name = parsed_args.name
        if not parsed_args.yes and not self._confirmed(name):
            self.app.stderr.write('stack %s not deleted\n' % name)
            return 0

        def start(on_event):
            return self.service.delete_stack(name, on_event=on_event)

        self.run_operation(name, start, parsed_args.wait, gone_ok=True)
        return self.exit_status


class CheckStack(StackOperation, show.ShowOne):
    """Check every resource of a stack against the real resource (drift marks CHECK_FAILED)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the check ends, showing its events')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        name = parsed_args.name

        def start(on_event):
            return self.service.check_stack(name, on_event=on_event)

        stack = self.run_operation(name, start, parsed_args.wait)
        return common.show_fields(stack or {}, STACK_FIELDS)


class ShowStack(common.EngineCommand, show.ShowOne):
    """Show a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        return common.show_fields(self.service.get_stack(parsed_args.name), STACK_FIELDS)


class ListStacks(common.EngineCommand, lister.Lister):
    """List stacks."""

    def take_action(self, parsed_args):
        return LIST_COLUMNS, common.list_rows(self.service.list_stacks(), LIST_KEYS)


class ShowTemplate(common.EngineCommand, show.ShowOne):
    """Show a stack's current template."""

    @property
    def formatter_default(self):
        return 'yaml'

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        template = self.service.get_template(parsed_args.name)
        keys = tuple(template)
        return keys, tuple(common.cell(template[k]) for k in keys)
