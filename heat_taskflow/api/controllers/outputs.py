"""Outputs of one stack: /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/outputs[/{key}]."""

from heat_taskflow.api import views
from heat_taskflow.api.controllers import base
from heat_taskflow.common.text import shown

_STACK = '/stacks/{stack_name}/{stack_id}'

ROUTES = [
    (_STACK + '/outputs', 'GET', 'index'),
    (_STACK + '/outputs/{output_key}', 'GET', 'show'),
]


class NotFound(Exception):
    """No output of that key (Heat's engine raises its NotFound: 404, type NotFound)."""


class Controller(base.Controller):
    """Heat's stack outputs list and show (rules stacks:list_outputs, stacks:show_output)."""

    def index(self, req, tenant_id, stack_name, stack_id):
        """{"outputs": [{output_key, description}]}."""
        self.authorize(req, 'stacks:list_outputs', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id, outputs=True)
        return {'outputs': [views.format_output(o, with_value=False)
                            for o in stack.get('outputs') or ()]}

    def show(self, req, tenant_id, stack_name, stack_id, output_key):
        """{"output": {output_key, output_value, description[, output_error]}}; 404 for
        a key the stack has no output of."""
        self.authorize(req, 'stacks:show_output', tenant_id)
        engine = self.engine(req)
        stack = self.identified(engine, stack_name, stack_id, outputs=True)
        # The stack's view carries its outputs already: no second lookup of the stack.
        for output in stack.get('outputs') or ():
            if output['output_key'] == output_key:
                return {'output': views.format_output(output)}
        raise NotFound('Specified output key %s not found.' % shown(output_key))
