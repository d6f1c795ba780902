"""OS::Heat::Stack: a child stack from an inline template (this engine's own, no region)."""

from heat_taskflow.resources import attributes
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.nested import NestedStackResource
from heat_taskflow.template import parser
from heat_taskflow.template.errors import TemplateError


class Stack(NestedStackResource):
    """A resource that creates a stack from a template given as a property."""

    type_name = 'OS::Heat::Stack'

    properties_schema = {
        'context': Schema(Schema.MAP, 'Context for this stack (only the local region is '
                          'supported).', schema={
                              'region_name': Schema(Schema.STRING, 'Region name.'),
                              'credential_secret_id': Schema(Schema.STRING,
                                                             'Credential secret id.'),
                              'ca_cert': Schema(Schema.STRING, 'CA certificate.'),
                              'insecure': Schema(Schema.BOOLEAN, 'Skip TLS checks.',
                                                 default=False),
                          }),
        'template': Schema(Schema.STRING, 'Template that specifies the stack to be created as '
                           'a resource.', required=True, update_allowed=True),
        'timeout': Schema(Schema.INTEGER, 'Number of minutes to wait for this stack creation.',
                          update_allowed=True),
        'parameters': Schema(Schema.MAP, 'Set of parameters passed to this stack.',
                             default={}, update_allowed=True),
    }

    attributes_schema = {
        'stack_id': attributes.Schema('Unique identifier for the stack.',
                                      attributes.Schema.STRING),
        'outputs': attributes.Schema('A dict of key-value pairs output from the stack.',
                                     attributes.Schema.MAP),
    }

    def validate(self, partial=False):
        """Check the schema, that the template is a map, and that no remote region is named."""
        super().validate(partial)
        context = self.properties['context'] or {}
        if context.get('region_name'):
            raise self.invalid(('context', 'region_name'), 'remote regions are not '
                               'supported; the stack is always created locally')
        if self.properties['template'] is not None:
            self.child_template()

    def child_template(self):
        """The ``template`` property, parsed under the stack's budgets (it is text a user
        wrote: an alias bomb or deep nesting is refused before it is built)."""
        text = self.properties['template']
        try:
            template, _lines = parser.load(text, 'template', self.limits)
        except TemplateError as exc:
            # "template:LINE: ...": the line inside the property's text
            raise self.invalid('template', str(exc)) from None
        if not isinstance(template, dict):
            raise self.invalid('template', 'the template must be a map')
        return template

    def child_parameters(self):
        """The ``parameters`` property."""
        return dict(self.properties['parameters'] or {})

    def child_timeout_mins(self):
        """The ``timeout`` property, else what is left of the parent's time."""
        return self.properties['timeout'] or super().child_timeout_mins()

    def resolve_attribute(self, name):
        """``stack_id`` and ``outputs`` (``outputs`` with a path selects one output)."""
        if name == 'stack_id':
            return self.physical_id
        if name == 'outputs':
            return self.outputs()
        return None
