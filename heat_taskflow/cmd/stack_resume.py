"""stack resume: continue an interrupted operation without redoing what it completed."""

from cliff import show

from heat_taskflow.cmd import common
from heat_taskflow.cmd import stack as stack_cmd


class ResumeStack(stack_cmd.StackOperation, show.ShowOne):
    """Resume a stack's interrupted operation.

    Legacy path: the operation's process died (its heartbeat is older than 3
    [DEFAULT] legacy_heartbeat_interval); this process takes the stack over and finishes
    the operation from its logbook, without redoing the resources it completed. Refused
    while the process is alive.

    Distributed path: the jobs of the stack's traversal that the job board lost are posted
    again and the conductors finish the operation. When no job was missing nothing is
    posted and the command still succeeds (exit 0): the conductors are on it. A traversal
    that never started (its poster died before posting anything) is started again once it
    was claimed a minute ago.

    A stack that is not IN_PROGRESS has nothing to resume (exit 2).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--wait', action='store_true',
                            help='Wait until the operation ends, showing its events '
                                 '(a legacy resume always runs to the end)')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        name = parsed_args.name

        def start(on_event):
            stack = self.service.resume_stack(name, on_event=on_event)
            reposted = stack.pop('reposted', None)
            if reposted is not None:
                if reposted:
                    self.app.stderr.write('stack %s: re-posted %d job(s): %s\n'
                                          % (name, len(reposted), ', '.join(reposted)))
                else:
                    self.app.stderr.write('stack %s: no job was missing from the job '
                                          'board; the conductors are running it\n' % name)
            return stack

        stack = self.run_operation(name, start, parsed_args.wait)
        return common.show_fields(stack or {}, stack_cmd.STACK_FIELDS)
