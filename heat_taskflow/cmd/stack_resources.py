"""stack resource list / show / signal."""

from cliff import command, lister, show

from heat_taskflow.cmd import common

RESOURCE_FIELDS = ('resource_name', 'physical_resource_id', 'resource_type', 'resource_status',
                   'resource_status_reason', 'creation_time', 'updated_time', 'required_by',
                   'attributes', 'stack_name')
LIST_KEYS = ('resource_name', 'physical_resource_id', 'resource_type', 'resource_status',
             'updated_time')


class ListResources(common.EngineCommand, lister.Lister):
    """List a stack's resources."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--nested-depth', metavar='N', type=common.non_negative_int,
                            default=0, help='Also list resources of nested stacks N deep')
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        depth = parsed_args.nested_depth
        keys = LIST_KEYS + (('stack_name',) if depth else ())
        resources = self.service.list_resources(parsed_args.name, nested_depth=depth)
        return keys, common.list_rows(resources, keys)


class ShowResource(common.EngineCommand, show.ShowOne):
    """Show one resource of a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        parser.add_argument('resource', metavar='RESOURCE', help='Name of the resource')
        return parser

    def take_action(self, parsed_args):
        resource = self.service.show_resource(parsed_args.name, parsed_args.resource)
        return common.show_fields(resource, RESOURCE_FIELDS)


class SignalResource(common.EngineCommand, command.Command):
    """Send a signal to a resource of a stack."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        parser.add_argument('resource', metavar='RESOURCE', help='Name of the resource')
        parser.add_argument('--data', metavar='JSON', type=common.json_object, default=None,
                            help='Signal data, a JSON object')
        return parser

    def take_action(self, parsed_args):
        self.service.signal_resource(parsed_args.name, parsed_args.resource,
                                     parsed_args.data or {})
        return 0


class MarkUnhealthy(common.EngineCommand, command.Command):
    """Mark a resource CHECK_FAILED, so that the next converge replaces it (--reset undoes)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        parser.add_argument('resource', metavar='RESOURCE', help='Name of the resource')
        parser.add_argument('--reset', action='store_true',
                            help='Mark a resource marked unhealthy healthy again '
                                 '(CHECK_COMPLETE)')
        parser.add_argument('--reason', metavar='TEXT', default='',
                            help='Why (recorded as the status reason and in the event)')
        return parser

    def take_action(self, parsed_args):
        resource = self.service.mark_resource_unhealthy(
            parsed_args.name, parsed_args.resource, reset=parsed_args.reset,
            reason=parsed_args.reason)
        self.app.stdout.write('Resource %s of stack %s: %s\n' % (
            resource['resource_name'], parsed_args.name, resource['resource_status']))
        return 0
