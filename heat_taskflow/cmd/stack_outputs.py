"""stack output list / show."""

from cliff import lister, show

from heat_taskflow.cmd import common

OUTPUT_FIELDS = ('output_key', 'output_value', 'description', 'output_error')


class ListOutputs(common.EngineCommand, lister.Lister):
    """List a stack's outputs."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        return parser

    def take_action(self, parsed_args):
        keys = ('output_key', 'description')
        return keys, common.list_rows(self.service.list_outputs(parsed_args.name), keys)


class ShowOutput(common.EngineCommand, show.ShowOne):
    """Show one output of a stack, or all of them with --all."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='NAME', help='Name or ID of the stack')
        parser.add_argument('output', metavar='OUTPUT', nargs='?',
                            help='Key of the output to show')
        parser.add_argument('--all', action='store_true', help='Show every output')
        return parser

    def take_action(self, parsed_args):
        if parsed_args.all == (parsed_args.output is not None):
            raise common.UsageError('stack output show: give either OUTPUT or --all')
        if parsed_args.all:
            outputs = [self.service.show_output(parsed_args.name, o['output_key'])
                       for o in self.service.list_outputs(parsed_args.name)]
            keys = tuple(o['output_key'] for o in outputs)
            return keys, tuple(common.DataColumn(o) for o in outputs)
        output = self.service.show_output(parsed_args.name, parsed_args.output)
        return common.show_fields(output, OUTPUT_FIELDS)
