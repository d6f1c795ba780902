"""The conditions section, and the ``condition:`` of a resource or output.

A condition is defined as a boolean, the name of another condition, or an expression
of the version's condition functions (equals, not, and, or, ...). Expressions reach
other conditions through ``ctx.condition(name)``; a condition that needs itself, even
through others, is an error naming the cycle.
"""

from heat_taskflow.template import functions_base
from heat_taskflow.template.errors import TemplateError

# From this version a resource's or output's condition may be an inline expression.
INLINE_CONDITIONS_SINCE = '2017-09-01'


def parse_section(section, version):
    """{name: definition} from the conditions section, definitions parsed."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise TemplateError('the conditions section must be a map', ('conditions',))
    out = {}
    for name, definition in section.items():
        path = ('conditions', name)
        if not isinstance(name, str) or not name:
            raise TemplateError('condition names must be non-empty strings, not %r' % (name,),
                                path)
        if isinstance(definition, (bool, str)):
            out[name] = definition
            continue
        parsed = (functions_base.parse_condition(definition, version, path)
                  if isinstance(definition, (dict, list)) else definition)
        if not isinstance(parsed, functions_base.Function):
            raise TemplateError("condition '%s' must be true, false, the name of another "
                                "condition, or a condition function such as equals"
                                % name, path)
        out[name] = parsed
    return out


def parse_reference(value, version, path):
    """A resource's or output's ``condition:`` value: None, a name, a bool or a Function."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (dict, list)):
        if version.name < INLINE_CONDITIONS_SINCE:
            raise TemplateError('an inline condition expression needs heat_template_version '
                                '%s or later; name a condition from the conditions section'
                                % INLINE_CONDITIONS_SINCE, path)
        parsed = functions_base.parse_condition(value, version, path)
        if isinstance(parsed, functions_base.Function):
            return parsed
    raise TemplateError('condition must be the name of a condition, true, false%s'
                        % (' or a condition function' if version.name >= INLINE_CONDITIONS_SINCE
                           else ''), path)


def referenced_names(definition):
    """Condition names a definition or reference names directly (a bare string)."""
    return (definition,) if isinstance(definition, str) else ()


class Conditions:
    """Evaluates named conditions once each, detecting cycles."""

    def __init__(self, definitions):
        self.definitions = dict(definitions)
        self._values = {}
        self._active = []

    def __contains__(self, name):
        return name in self.definitions

    def value(self, name, ctx, path=None):
        """The boolean value of the named condition."""
        if not isinstance(name, str) or name not in self.definitions:
            raise TemplateError('condition %r is not defined in the conditions section'
                                % (name,), path or ())
        if name in self._values:
            return self._values[name]
        if name in self._active:
            cycle = self._active[self._active.index(name):] + [name]
            raise TemplateError('conditions refer to each other in a cycle: %s'
                                % ' -> '.join(cycle), ('conditions', cycle[0]))
        self._active.append(name)
        try:
            result = self._evaluate(self.definitions[name], ctx, ('conditions', name), name)
        finally:
            self._active.pop()
        self._values[name] = result
        return result

    def reference(self, ref, ctx, path):
        """Whether a resource's or output's ``condition:`` holds (None means always)."""
        if ref is None:
            return True
        return self._evaluate(ref, ctx, path, None)

    def all(self, ctx):
        """{name: bool} for every condition."""
        return {name: self.value(name, ctx) for name in self.definitions}

    def _evaluate(self, definition, ctx, path, name):
        if isinstance(definition, bool):
            return definition
        if isinstance(definition, str):
            return self.value(definition, ctx, path)
        result = functions_base.resolve(definition, ctx)
        if not isinstance(result, bool):
            what = "condition '%s'" % name if name else 'condition'
            raise TemplateError('%s must evaluate to true or false, not %r'
                                % (what, result), path)
        return result
