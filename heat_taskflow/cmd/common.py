"""Pieces every heat-taskflow command shares: argument types, error mapping, output shaping."""

import argparse
import json
import math
import traceback

import yaml
from cliff import columns
from cliff.formatters import json_format
from oslo_config import cfg

from heat_taskflow.cmd import template_files
from heat_taskflow.common.text import shown_message
from heat_taskflow.conf import CONF
from heat_taskflow.engine.exceptions import EngineError
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.limits import Limits


class UsageError(Exception):
    """The command line asks for something inconsistent (exit 2)."""

    exit_code = 2


# Errors whose message is the whole story: printed as they are, mapped to an exit code.
REPORTED_ERRORS = (EngineError, TemplateError, template_files.FileError, UsageError, cfg.Error)


def exit_code_of(exc):
    """The process exit code for a reported error: the error's own, else 2 (invalid input)."""
    return getattr(exc, 'exit_code', 2)


class StrictJSONFormatter(json_format.JSONFormatter):
    """cliff's ``-f json``, always valid JSON (RFC 8259): a float that is not a number
    (NaN, Infinity) is written as the string Python's json module would have written
    bare ("NaN", "Infinity", "-Infinity"), never as an invalid token."""

    def emit_list(self, column_names, data, stdout, parsed_args):
        items = [dict(zip(column_names, map(_machine, item), strict=True)) for item in data]
        _dump(items, stdout, parsed_args)

    def emit_one(self, column_names, data, stdout, parsed_args):
        _dump(dict(zip(column_names, map(_machine, data), strict=True)), stdout, parsed_args)


def _machine(value):
    return value.machine_readable() if isinstance(value, columns.FormattableColumn) else value


def _dump(value, stdout, parsed_args):
    indent = None if parsed_args.noindent else 2
    try:
        text = json.dumps(value, indent=indent, allow_nan=False)
    except ValueError:      # a non-finite float somewhere: spell it as a string
        text = json.dumps(finite(value), indent=indent, allow_nan=False)
    stdout.write(text + '\n')


def finite(value):
    """A copy of a JSON-like value with each non-finite float as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return 'NaN' if math.isnan(value) else ('Infinity' if value > 0 else '-Infinity')
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


class EngineCommand:
    """Mixin for cliff commands: reports engine and input errors as a message and exit code.

    A command sets ``self.exit_status`` to 1 when the operation it ran left the stack FAILED;
    output is still printed. Its ``-f json`` is StrictJSONFormatter.
    """

    exit_status = 0

    def _load_formatter_plugins(self):
        plugins = super()._load_formatter_plugins()
        for ext in plugins:
            if ext.name == 'json':
                ext.obj = StrictJSONFormatter()
        return plugins

    @property
    def service(self):
        return self.app.service

    def run(self, parsed_args):
        try:
            result = super().run(parsed_args)
        except REPORTED_ERRORS as exc:
            if getattr(self.app.options, 'debug', False):
                traceback.print_exc(file=self.app.stderr)
            self.app.stderr.write('%s\n' % shown_message(exc))
            return exit_code_of(exc)
        return result or self.exit_status


def key_value(option):
    """An argparse type turning KEY=VALUE into (key, value); the error names the option."""

    def parse(text):
        key, sep, value = text.partition('=')
        if not sep or not key:
            raise argparse.ArgumentTypeError(
                'expected KEY=VALUE for %s, got "%s"' % (option, text))
        return key, value

    parse.__name__ = 'KEY=VALUE'
    return parse


def positive_int(text):
    """An argparse type for a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError('expected a whole number >= 1, got "%s"' % text)
    return value


def non_negative_int(text):
    """An argparse type for a whole number of at least 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError('expected a whole number >= 0, got "%s"' % text)
    return value


def json_object(text):
    """An argparse type for a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError('invalid JSON: %s' % exc)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('expected a JSON object, got %s' % text)
    return value


def add_template_args(parser, required):
    """The -t/-e/--parameter/--parameter-file options shared by create, update and validate."""
    parser.add_argument('-t', '--template', metavar='TEMPLATE', required=required,
                        help='Path or file:// URL of the template. Every get_file, '
                             'template type: and resource_registry file it and the '
                             'environments name is read and stored with the stack, as '
                             'heatclient does; see --allow-outside-files')
    parser.add_argument('-e', '--environment', metavar='ENV', action='append', default=[],
                        help='Path or file:// URL of an environment file (repeatable; '
                             'merged in the order given)')
    parser.add_argument('--parameter', metavar='KEY=VALUE', action='append', default=[],
                        type=key_value('--parameter'),
                        help='Parameter value, a string (repeatable)')
    parser.add_argument('--parameter-file', metavar='KEY=FILE', action='append', default=[],
                        type=key_value('--parameter-file'),
                        help='Parameter whose value is the content of FILE (repeatable)')
    parser.add_argument('--allow-outside-files', action='store_true',
                        help='Also read files that get_file, type: or resource_registry '
                             'references name outside the directory trees of the template '
                             'and environment files (absolute paths, ../, symbolic links); '
                             'without it such a reference is an error. heatclient follows '
                             'them without asking')


def load_template_files(parsed_args):
    """template_files.load for the -t/-e/--allow-outside-files options, under the
    configured budgets."""
    return template_files.load(parsed_args.template, parsed_args.environment,
                               limits=Limits.from_conf(CONF),
                               allow_outside=parsed_args.allow_outside_files)


def collect_parameters(parsed_args):
    """{key: str value} from --parameter and --parameter-file; a key given twice is an error."""
    params = {}
    given = [(k, v, '--parameter') for k, v in parsed_args.parameter]
    given += [(k, v, '--parameter-file') for k, v in parsed_args.parameter_file]
    for key, value, option in given:
        if key in params:
            raise UsageError('parameter "%s" is given more than once' % key)
        if option == '--parameter-file':
            value = template_files.read_parameter_file(key, value,
                                                       Limits.from_conf(CONF))
        params[key] = value
    return params


def operation_failed(stack):
    """True when the operation did not do what was asked: the stack ended FAILED, or it
    was rolled back (a create or update that failed and was undone)."""
    status = str((stack or {}).get('stack_status', ''))
    return status.endswith('_FAILED') or status.startswith('ROLLBACK_')


def status_line(name, stack):
    """The one-line summary of where an operation left a stack."""
    if stack is None:
        return 'Stack %s deleted' % name
    line = 'Stack %s %s' % (stack.get('stack_name') or name, stack.get('stack_status'))
    reason = stack.get('stack_status_reason')
    if reason and operation_failed(stack):
        line += ': %s' % reason
    return line


class DataColumn(columns.FormattableColumn):
    """A structured value: YAML in tables, the data itself in json/yaml/value output."""

    def human_readable(self):
        return yaml.safe_dump(self._value, default_flow_style=False, sort_keys=False).rstrip()


def cell(value):
    """Wrap lists and dicts so each formatter renders them appropriately."""
    if isinstance(value, (dict, list, tuple)):
        return DataColumn(value)
    return value


def show_fields(data, order=()):
    """(columns, values) for a ShowOne: known keys in ``order`` first, then the rest sorted."""
    keys = [k for k in order if k in data]
    keys += sorted(k for k in data if k not in keys)
    return tuple(keys), tuple(cell(data[k]) for k in keys)


def list_rows(items, keys):
    """Rows for a Lister: each item's values at ``keys`` (None when missing)."""
    return [tuple(cell(item.get(k)) for k in keys) for item in items]
