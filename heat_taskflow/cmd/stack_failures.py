"""stack failures list."""

from cliff import lister

from heat_taskflow.cmd import common

SHORT_KEYS = ('resource_path', 'resource_status', 'resource_status_reason')
LONG_KEYS = SHORT_KEYS + ('resource_type', 'physical_resource_id', 'stack_name',
                          'updated_time')
REASON_WIDTH = 120


class ListFailures(common.EngineCommand, lister.Lister):
    """List the failed resources of a stack and of its nested stacks, with the reasons."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--long', action='store_true',
                            help='Full reasons, and type, physical id, stack and time')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        failures = self.service.list_failures(parsed_args.name)
        if parsed_args.long:
            return LONG_KEYS, common.list_rows(failures, LONG_KEYS)
        short = []
        for failure in failures:
            reason = (failure.get('resource_status_reason') or '').strip()
            reason = reason.splitlines()[0] if reason else ''
            if len(reason) > REASON_WIDTH:
                reason = reason[:REASON_WIDTH - 3] + '...'
            short.append(dict(failure, resource_status_reason=reason))
        return SHORT_KEYS, common.list_rows(short, SHORT_KEYS)
