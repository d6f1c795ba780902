"""StackDefinition: a template with an environment, parameter values and identity.

Everything that depends on parameter values lives here: condition values, the active
resources, the dependency graph, required attributes and resolution. Indexes are built
once, so validating a template is linear in its size.

The dependency graph holds the references of the template and, when the definition was
given an ``implicit`` callable (the engine passes resources.registry's
``implicit_dependencies``), the dependencies resource plugins declare although no property
refers to them; an implicit edge that would close a cycle is left out. This package only
calls it: it knows nothing of plugins.
"""

import functools

from heat_taskflow.template import conditions as conds
from heat_taskflow.template import functions_base, graph, redaction
from heat_taskflow.template import limits as limits_mod
from heat_taskflow.template import parameters as params
from heat_taskflow.template.definitions import StackIdentity
from heat_taskflow.template.environment import Environment
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.resolution import StackContext
from heat_taskflow.template.template import DELETION_POLICIES

# Resolution errors of outputs become text; anything a function can raise on bad data.
_OUTPUT_ERRORS = (TemplateError, TypeError, ValueError, KeyError, IndexError, AttributeError)


def _located(method):
    """Give any TemplateError raised by ``method`` the template's file and line, and mask
    the hidden parameters' values in its message."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except TemplateError as exc:
            raise self.redact.exception(self.template.locate(exc))
    return wrapper


def _reaches(deps, start, goal):
    """Whether ``goal`` is ``start`` or among what ``start`` requires, transitively."""
    seen = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(deps.get(name, ()))
    return False


class StackDefinition:
    """A stack's definition: what to build, in which order, with which values."""

    def __init__(self, template, environment=None, params=None, files=None, identity=None,
                 facade=None, implicit=None, limits=None):
        """Nothing is checked here; call validate() (or use any property) for that.

        ``implicit``: a callable ``implicit(defn) -> {name: names}`` of dependencies the
        template does not state, merged into ``dependencies()``. ``limits``: the budgets
        resolution is held to (template.limits.DEFAULT when not given); each resolution
        (a resource's properties, an output, ...) may build ``max_resolved_size`` bytes.
        """
        self.limits = limits if limits is not None else limits_mod.DEFAULT
        self.template = template
        self.environment = environment if environment is not None else Environment()
        self.user_params = dict(params or {})
        self.files = dict(files or {})
        self.identity = identity if identity is not None else StackIdentity()
        self.facade = facade
        self.implicit = implicit
        self._conditions = conds.Conditions(template.conditions)

    # --- parameters and conditions -------------------------------------------------

    @functools.cached_property
    def parameter_values(self):
        """The Parameters object (typed values, schemas, pseudo parameters)."""
        try:
            values = dict(self.environment.params)
            values.update(self.user_params)
            return params.Parameters(self.template.parameter_schemas, values,
                                     self.environment.param_defaults, self.identity,
                                     limits=self.limits)
        except TemplateError as exc:
            raise self.redact.exception(self.template.locate(exc))

    @functools.cached_property
    def redact(self):
        """A Redactor: ``redact(text)`` masks every hidden parameter value in ``text``.

        Apply it to any message built from resolved values before it leaves (an error, a
        status reason, an event, a log line); errors raised by this class already are.
        """
        return redaction.for_definition(self)

    @property
    def parameters(self):
        """{name: value} after user values, environment, defaults and type conversion."""
        return dict(self.parameter_values)

    def masked_parameters(self):
        """The parameters with hidden values as '******'."""
        return self.parameter_values.masked()

    def condition_value(self, name, ctx=None):
        """The boolean value of a named condition."""
        return self._conditions.value(name, ctx or self._validation_ctx)

    @functools.cached_property
    def _validation_ctx(self):
        return StackContext(self)

    @functools.cached_property
    @_located
    def conditions(self):
        """{name: bool} for every condition in the conditions section."""
        self.parameter_values  # noqa: B018 - parameter errors come first
        return self._conditions.all(self._validation_ctx)

    def _enabled(self, ref, path):
        return self._conditions.reference(ref, self._validation_ctx, path)

    # --- resources -----------------------------------------------------------------

    @functools.cached_property
    @_located
    def resources(self):
        """{name: ResourceDefinition} of the resources whose condition is true."""
        self.conditions  # noqa: B018 - evaluate (and check) every condition first
        return {name: rdef for name, rdef in self.template.resources.items()
                if self._enabled(rdef.condition, rdef.path + ('condition',))}

    @functools.cached_property
    @_located
    def active_outputs(self):
        """{name: OutputDefinition} of the outputs whose condition is true."""
        self.conditions  # noqa: B018
        return {name: odef for name, odef in self.template.outputs.items()
                if self._enabled(odef.condition, odef.path + ('condition',))}

    @_located
    def resource_type(self, name):
        """ResolvedType of a resource after the environment's resource_registry."""
        rdef = self.template.resources[name]
        return self.environment.resolve_type(rdef.type, name)

    def _check_active(self, refs, who):
        active = self.resources
        for target, path in refs:
            if target not in active:
                cond = self.template.resources[target].condition
                raise TemplateError('%s refers to resource "%s", which is not created because '
                                    'its condition %s is false'
                                    % (who, target, cond if isinstance(cond, str)
                                       else '(inline)'), path)

    @functools.cached_property
    @_located
    def _graph(self):
        tpl = self.template
        deps = {}
        for name in self.resources:
            self._check_active(tpl.resource_refs[name], "resource '%s'" % name)
            self._check_active(tpl.other_refs[name], "resource '%s'" % name)
            deps[name] = frozenset(target for target, _path in tpl.resource_refs[name])
        cycle = graph.find_cycle(deps)
        if cycle is not None:
            raise TemplateError('resources depend on each other in a cycle: %s'
                                % ' -> '.join(cycle), ('resources', cycle[0]))
        if self.implicit is not None:
            self._merge_implicit(deps, self.implicit(self))
        return deps

    @staticmethod
    def _merge_implicit(deps, implicit):
        """Add implicit edges to ``deps`` in name order, each unless it closes a cycle."""
        for name in sorted(implicit):
            if name not in deps:
                continue
            for target in sorted(implicit[name]):
                if target in deps and target != name and not _reaches(deps, target, name):
                    deps[name] = deps[name] | {target}

    def dependencies(self):
        """{name: frozenset(names it requires)} for active resources; cycles raise."""
        return dict(self._graph)

    def order(self):
        """Active resource names, each after everything it requires."""
        return graph.topological_order(self._graph)

    @functools.cached_property
    @_located
    def _required_attributes(self):
        required = {}
        tpl = self.template
        for name in self.resources:
            for target, attribute in tpl.attribute_refs[name]:
                required.setdefault(target, set()).add(attribute)
        for name in self.active_outputs:
            for target, attribute in tpl.output_attribute_refs[name]:
                required.setdefault(target, set()).add(attribute)
        return {k: frozenset(v) for k, v in required.items()}

    def required_attributes(self, name):
        """Attribute names other resources and outputs read from ``name``; None = all."""
        return self._required_attributes.get(name, frozenset())

    @functools.cached_property
    @_located
    def _output_dependencies(self):
        names = set()
        for name in self.active_outputs:
            refs = self.template.output_refs[name]
            self._check_active(refs, "output '%s'" % name)
            names.update(target for target, _path in refs)
        return frozenset(names)

    def output_dependencies(self):
        """Names of the resources that active outputs read."""
        return self._output_dependencies

    # --- validation ----------------------------------------------------------------

    @_located
    def validate(self):
        """Check parameters, conditions, references, the graph and every snippet."""
        self.parameter_values  # noqa: B018
        self.conditions  # noqa: B018
        self._graph  # noqa: B018
        self._output_dependencies  # noqa: B018
        for rdef in self.resources.values():
            for field in ('properties', 'metadata', 'update_policy', 'external_id'):
                functions_base.resolve(getattr(rdef, field), self.context())
            if isinstance(rdef.deletion_policy, functions_base.Function):
                policy = functions_base.resolve(rdef.deletion_policy, self.context())
                if policy is not None and policy not in DELETION_POLICIES:
                    raise TemplateError('invalid deletion_policy %r; valid policies: %s'
                                        % (policy, ', '.join(DELETION_POLICIES)),
                                        rdef.path + ('deletion_policy',))
        for odef in self.active_outputs.values():
            functions_base.resolve(odef.value, self.context())
        return True

    # --- resolution ----------------------------------------------------------------

    def context(self, states=None):
        """A ResolutionContext over ``states`` ({name: ResourceState}); None validates.

        Each context is one resolution with its own byte budget.
        """
        return StackContext(self, states)

    @_located
    def resolve_properties(self, name, states=None):
        """The properties of resource ``name`` with every function resolved."""
        return functions_base.resolve(self.template.resources[name].properties,
                                 self.context(states))

    @_located
    def resolve_metadata(self, name, states=None):
        """The metadata of resource ``name`` with every function resolved."""
        return functions_base.resolve(self.template.resources[name].metadata,
                                 self.context(states))

    @_located
    def resolve_field(self, name, field, states=None):
        """Any parsed field of a resource (update_policy, deletion_policy, ...) resolved."""
        return functions_base.resolve(getattr(self.template.resources[name], field),
                                 self.context(states))

    @_located
    def resolve_outputs(self, states=None):
        """{name: {'value', 'description', 'error'}}; a failure is text, not an exception.

        Outputs whose condition is false have the value None.
        """
        active = self.active_outputs
        out = {}
        for name, odef in self.template.outputs.items():
            entry = {'value': None, 'description': odef.description, 'error': None}
            if name in active:
                try:
                    entry['value'] = functions_base.resolve(odef.value, self.context(states))
                except _OUTPUT_ERRORS as exc:
                    if isinstance(exc, TemplateError):
                        self.template.locate(exc)
                    entry['error'] = self.redact(str(exc))
            out[name] = entry
        return out

    def __repr__(self):
        try:
            shown = self.masked_parameters()
        except TemplateError:
            shown = '<invalid>'
        return '<StackDefinition %s params=%r>' % (self.template.filename, shown)
