"""Template resources: a resource type mapped to a template file, run as a nested stack.

The template's parameters are the resource's properties (all update_allowed), its outputs
are the resource's attributes. An output named ``OS::stack_id`` becomes the reference id,
as in Heat.
"""

import copy
import functools

from heat_taskflow.resources import attributes
from heat_taskflow.resources.exceptions import ResourceError
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.nested import NestedStackResource
from heat_taskflow.template import limits as limits_mod
from heat_taskflow.template import parser
from heat_taskflow.template.errors import TemplateError

STACK_ID_OUTPUT = 'OS::stack_id'


@functools.lru_cache(maxsize=64)
def _parse_text(template_file, text, limits):
    """The file's text parsed under ``limits`` (the files map is user input). Kept: every
    resource of the type, and every member of a group of them, asks for the same file, and
    callers only read the result."""
    return parser.load(text, template_file, limits)[0]


def parse_template(template_file, template, limits=None):
    """The template as a dict (from text or a dict); ValueError naming the file when bad.

    Text is parsed with the bounded parser under ``limits`` (template.limits.DEFAULT when
    None): an alias bomb or deep nesting in a child template is refused, not expanded."""
    if isinstance(template, (str, bytes)):
        try:
            template = _parse_text(template_file, template,
                                   limits if limits is not None else limits_mod.DEFAULT)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
    if not isinstance(template, dict):
        raise ValueError('%s: a template must be a map' % template_file)
    return template


def make_class(type_name, template_file, template, files=None, limits=None):
    """A TemplateResource subclass bound to one template file (text parsed under
    ``limits``)."""
    parsed = parse_template(template_file, template, limits)
    params = parsed.get('parameters') or {}
    outputs = parsed.get('outputs') or {}
    try:
        schema = {name: Schema.from_parameter(p or {}) for name, p in params.items()}
    except ValueError as exc:
        raise ValueError('%s: %s' % (template_file, exc)) from None
    attrs = {name: attributes.Schema((o or {}).get('description'))
             for name, o in outputs.items()}
    return type('TemplateResource', (TemplateResource,), {
        'type_name': type_name, 'template_file': template_file, 'template': parsed,
        'files': dict(files or {}), 'properties_schema': schema, 'attributes_schema': attrs,
        '__doc__': 'Template resource %s from %s.' % (type_name, template_file),
    })


class TemplateResource(NestedStackResource):
    """A resource implemented by a template; use ``make_class`` to bind one."""

    template_file = None
    template = None
    files = {}

    def _bound(self):
        if self.template is None:
            raise ResourceError(self.name, 'template resource class is not bound to a '
                                'template (use registry.get_template_resource_class)')

    def child_template(self):
        """A copy of the bound template."""
        self._bound()
        return copy.deepcopy(self.template)

    def child_parameters(self):
        """The given property values, as the child stack's parameters."""
        given = [k for k, v in self.properties.data.items() if v is not None]
        return {k: self.properties[k] for k in given}

    def child_files(self):
        """The files map the template was found in (for its own get_file and types)."""
        return dict(self.files)

    def resolve_attribute(self, name):
        """The child stack's output of that name."""
        return self.outputs().get(name)

    def get_reference_id(self):
        """The ``OS::stack_id`` output when the template has one, else the stack id/name."""
        if self.physical_id is not None and STACK_ID_OUTPUT in (self.attributes_schema or {}):
            value = self.outputs().get(STACK_ID_OUTPUT)
            if value is not None:
                return value
        return super().get_reference_id()
