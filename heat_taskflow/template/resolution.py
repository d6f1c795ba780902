"""The ResolutionContext over a stack definition and the stored state of its resources."""

from heat_taskflow.template import functions_base
from heat_taskflow.template.errors import TemplateError

FACADE_KINDS = ('metadata', 'deletion_policy', 'update_policy')


class StackContext(functions_base.ResolutionContext):
    """Answers functions from parameters, conditions, files and resource states.

    ``states`` is ``{name: ResourceState(reference_id, attributes)}``; with ``None``
    (validation) every resource has produced nothing, so get_resource and get_attr
    give None. One context is one resolution: its ``budget`` holds the bytes the
    functions may still build (``[DEFAULT] max_resolved_size``).
    """

    def __init__(self, definition, states=None):
        self._defn = definition
        self.budget = functions_base.Budget(definition.limits.max_resolved_size)
        self._states = states
        self.validating = states is None
        self.limits = definition.limits     # the budgets of yaql (functions_logic.Yaql)
        identity = definition.identity
        self.stack_name = identity.stack_name
        self.stack_id = identity.stack_id
        self.project_id = identity.project_id

    def parameter(self, name):
        """A parameter or pseudo parameter value; KeyError when undefined."""
        return self._defn.parameter_values.value(name)

    def _state(self, name):
        if self._states is None:
            return None
        return self._states.get(name)

    def resource_reference(self, name):
        """The reference id stored for a resource, or None."""
        state = self._state(name)
        return None if state is None else state.reference_id

    def resource_attribute(self, name, attribute):
        """A stored attribute value, or None."""
        state = self._state(name)
        if state is None or not state.attributes:
            return None
        return state.attributes.get(attribute)

    def resource_attribute_path(self, name, attribute, path):
        """A stored attribute value followed down ``path`` (see the base class)."""
        state = self._state(name)
        get_path = getattr(state.attributes, 'get_path', None) if state is not None else None
        if get_path is None or any(p is None for p in path):
            return super().resource_attribute_path(name, attribute, path)
        return get_path(attribute, list(path))

    def resource_attributes(self, name):
        """All stored attribute values of a resource (None while validating)."""
        if self._states is None:
            return None
        state = self._states.get(name)
        if state is None or not state.attributes:
            return {}
        return dict(state.attributes)

    def condition(self, name):
        """The value of a named condition."""
        return self._defn.condition_value(name, self)

    def facade(self, kind):
        """The parent resource's metadata/deletion_policy/update_policy (None at top level)."""
        if kind not in FACADE_KINDS:
            raise TemplateError('resource_facade: "%s" is not one of %s'
                                % (kind, ', '.join(FACADE_KINDS)))
        facade = self._defn.facade
        if facade is None:
            return None
        return facade.get(kind)

    def file(self, key):
        """Content of a files map entry, or None."""
        return self._defn.files.get(key)
