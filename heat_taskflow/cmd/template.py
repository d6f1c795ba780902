"""template validate."""

from cliff import show

from heat_taskflow.cmd import common

VALIDATE_FIELDS = ('Description', 'Parameters', 'ParameterGroups')


class ValidateTemplate(common.EngineCommand, show.ShowOne):
    """Validate a template with its environments and parameters, without creating anything."""

    @property
    def formatter_default(self):
        return 'yaml'

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_template_args(parser, required=True)
        return parser

    def take_action(self, parsed_args):
        params = common.collect_parameters(parsed_args)
        text, filename, files, envs = common.load_template_files(parsed_args)
        result = self.service.validate_template(text, filename, files, envs, params)
        return common.show_fields(result, VALIDATE_FIELDS)
