"""stack event list (with --follow)."""

from cliff import lister

from heat_taskflow.cmd import common
from heat_taskflow.common import polling
from heat_taskflow.engine.exceptions import StackNotFound

EVENT_KEYS = ('id', 'resource_name', 'resource_status', 'resource_status_reason', 'event_time')

# Seconds between looks at the stack while following it.
FOLLOW_POLL = 2.0


class ListEvents(common.EngineCommand, lister.Lister):
    """List a stack's events; with --follow keep printing new ones until it settles."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--resource', metavar='RESOURCE',
                            help='Only the events of this resource')
        parser.add_argument('--nested-depth', metavar='N', type=common.non_negative_int,
                            default=0, help='Also list events of nested stacks N deep')
        parser.add_argument('--follow', action='store_true',
                            help='Print events as lines as they happen, until the stack is '
                                 'no longer IN_PROGRESS (or Ctrl-C); exit 1 if it ended '
                                 'FAILED or rolled back')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        depth = parsed_args.nested_depth
        keys = EVENT_KEYS + (('stack_name',) if depth else ())
        if parsed_args.follow:
            self._follow(parsed_args)
            return keys, []
        events = self.service.list_events(parsed_args.name, resource_name=parsed_args.resource,
                                          nested_depth=depth)
        return keys, common.list_rows(events, keys)

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.follow:
            return 0        # printed as they came
        return super().produce_output(parsed_args, column_names, data)

    def _follow(self, parsed_args):
        name = parsed_args.name
        follower = _Follower(self.service, parsed_args, self.app.stdout)
        try:
            polling.wait_until(follower.look, FOLLOW_POLL)
        except StackNotFound:
            if not follower.started:
                raise
            self.app.stderr.write('stack %s no longer exists\n' % name)
            return
        except KeyboardInterrupt:
            self.app.stderr.write('interrupted; stack %s was not changed\n' % name)
            self.exit_status = 130
            return
        if common.operation_failed(follower.stack):
            self.app.stderr.write(common.status_line(name, follower.stack) + '\n')
            self.exit_status = 1


class _Follower:
    """Prints a stack's new events at each look; a look answers whether the stack settled."""

    def __init__(self, service, parsed_args, out):
        self.service = service
        self.name = parsed_args.name
        self.resource = parsed_args.resource
        self.depth = parsed_args.nested_depth
        self.out = out
        self.seen, self.since, self.started = set(), None, False
        self.stack = None

    def look(self):
        """Print the events not printed yet; True once the stack is no longer IN_PROGRESS."""
        # The status first: every event of an operation that has ended is stored by the
        # time its stack is seen settled.
        stack = self.service.get_stack(self.name)
        # The last event printed is the marker of the next look (exclusive): only what
        # came after it in the events' order is read.
        events = self.service.list_events(
            self.name, resource_name=self.resource, marker=self.since,
            nested_depth=self.depth)
        self.stack, self.started = stack, True
        for event in events:
            if event['id'] in self.seen:
                continue
            self.seen.add(event['id'])
            self.since = event['id']
            self.out.write(_line(event, self.depth) + '\n')
        self.out.flush()
        return not str(stack.get('stack_status', '')).endswith('_IN_PROGRESS')


def _line(event, depth):
    """One event as a log line: time [resource]: STATUS  reason."""
    resource = event.get('resource_name') or event.get('stack_name')
    if depth and event.get('stack_name'):
        resource = '%s.%s' % (event['stack_name'], resource)
    return '%s [%s]: %s  %s' % (event.get('event_time'), resource,
                                event.get('resource_status'),
                                event.get('resource_status_reason') or '')
