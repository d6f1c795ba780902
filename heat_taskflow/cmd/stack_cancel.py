"""stack cancel: stop a stack's operation in progress, rolling it back or not."""

from cliff import show

from heat_taskflow.cmd import common, progress
from heat_taskflow.cmd import stack as stack_cmd


class CancelStack(common.EngineCommand, show.ShowOne):
    """Cancel a stack's operation in progress.

    Resource actions already running finish; no other starts. By default a create or update
    is then rolled back (to the previous template, or to nothing after a create); with
    --no-rollback the stack stops FAILED ("Update cancelled"). A rollback, delete or check
    in progress can only be stopped (--no-rollback).

    Exit status: 0 when the cancel was recorded (with --wait: when the stack ended as asked,
    stopped or rolled back), 1 when the rollback it started failed, 2 when there was nothing
    to cancel (the stack is not IN_PROGRESS) or the cancel was refused.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--no-rollback', dest='rollback', action='store_false',
                            help='Stop the operation and leave the stack FAILED instead of '
                                 'rolling it back')
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the running actions (and the rollback) have '
                                 'ended, showing the events')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        name = parsed_args.name
        if not parsed_args.wait:
            stack = self.service.cancel_stack(name, rollback=parsed_args.rollback)
            self.app.stderr.write(common.status_line(name, stack) + '\n')
            return common.show_fields(stack, stack_cmd.STACK_FIELDS)
        with progress.EventDisplay(self.app.stderr, title=name) as display:
            stack = self.service.cancel_stack(name, rollback=parsed_args.rollback,
                                              on_event=display)
            if stack_cmd._in_progress(stack):
                stack = self.service.wait(name, on_event=display)
            display.message(common.status_line(name, stack))
        if not _as_asked(stack, parsed_args.rollback):
            self.exit_status = 1
        return common.show_fields(stack or {}, stack_cmd.STACK_FIELDS)


def _as_asked(stack, rollback):
    """True when a settled stack ended as the cancel asked: rolled back, or stopped."""
    status = str((stack or {}).get('stack_status', ''))
    if rollback:
        return status == 'ROLLBACK_COMPLETE'
    return status.endswith('_FAILED') and str(stack.get('stack_status_reason') or
                                              '').endswith('cancelled')
