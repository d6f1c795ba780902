"""Template parameters: schemas from the parameters section, values with Heat's conversions.

Types: string, number, json, comma_delimited_list, boolean. A value comes from the
user (explicit values, then environment ``parameters``), else from the environment's
``parameter_defaults``, else from the template default. Hidden values print as '******'.
Constraints are ``constraints.py``'s, reported in a parameter's words
(``Constraint.parameter_error``).
"""

import collections.abc
import copy
import json
import math
import re

from oslo_utils import strutils

from heat_taskflow.template import constraints as constr
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.limits import DEFAULT as DEFAULT_LIMITS

MASK = '******'

TYPES = (constr.STRING, constr.NUMBER, constr.JSON, constr.LIST, constr.BOOLEAN)

_KEYS = ('type', 'description', 'default', 'constraints', 'hidden', 'label', 'immutable')
_KEYS_20180302 = _KEYS + ('tags',)

# The pseudo parameters every stack has, and the StackIdentity field each reads.
PSEUDO_PARAMETERS = {
    'OS::stack_name': 'stack_name',
    'OS::stack_id': 'stack_id',
    'OS::project_id': 'project_id',
}


def _flag(value, key):
    if isinstance(value, bool):
        return value
    try:
        return strutils.bool_from_string(str(value), strict=True)
    except ValueError:
        raise ValueError('"%s" must be true or false, not %r' % (key, value))


class ParamSchema:
    """The declaration of one parameter."""

    __slots__ = ('name', 'type', 'default', 'description', 'label', 'hidden', 'immutable',
                 'tags', 'constraints', 'path')

    def __init__(self, name, param_type, default=None, description=None, label=None,
                 hidden=False, immutable=False, tags=None, constraints=(), path=()):
        self.name = name
        self.type = param_type
        self.default = default
        self.description = description
        self.label = label
        self.hidden = hidden
        self.immutable = immutable
        self.tags = tags
        self.constraints = tuple(constraints)
        self.path = tuple(path)

    @classmethod
    def from_dict(cls, name, data, version_name, path=None):
        """Build from the template's declaration; TemplateError names the parameter."""
        path = tuple(path) if path is not None else ('parameters', name)

        def fail(message, sub=()):
            return TemplateError("parameter '%s': %s" % (name, message), path + tuple(sub))

        if not isinstance(data, dict):
            raise fail('declaration must be a map with at least a "type"')
        allowed = _KEYS_20180302 if version_name >= '2018-03-02' else _KEYS
        for key in data:
            if key not in allowed:
                raise fail('"%s" is not a valid parameter key; valid keys: %s'
                           % (key, ', '.join(allowed)), (key,))
        if 'type' not in data:
            raise fail('missing "type"')
        ptype = data['type']
        if ptype not in TYPES:
            raise fail('invalid type %r; valid types: %s' % (ptype, ', '.join(TYPES)),
                       ('type',))
        try:
            hidden = _flag(data.get('hidden', False), 'hidden')
        except ValueError as exc:
            raise fail(str(exc), ('hidden',))
        try:
            immutable = _flag(data.get('immutable', False), 'immutable')
        except ValueError as exc:
            raise fail(str(exc), ('immutable',))
        tags = data.get('tags')
        if tags is not None and not isinstance(tags, list):
            raise fail('"tags" must be a list', ('tags',))
        raw_constraints = data.get('constraints')
        if raw_constraints is None:
            raw_constraints = []
        if not isinstance(raw_constraints, list):
            raise fail('"constraints" must be a list', ('constraints',))
        built = []
        for i, definition in enumerate(raw_constraints):
            try:
                c = constr.from_definition(definition, version_name)
            except ValueError as exc:
                raise fail(str(exc), ('constraints', i))
            if ptype not in c.types:
                raise fail('%s constraint is not valid for a %s parameter' % (c.kind, ptype),
                           ('constraints', i))
            built.append(c)
        schema = cls(name, ptype, default=data.get('default'),
                     description=data.get('description'), label=data.get('label'),
                     hidden=hidden, immutable=immutable, tags=tags, constraints=built,
                     path=path)
        if schema.default is not None:
            schema.check(schema.default, is_default=True, error_path=path + ('default',))
        return schema

    def show(self, value):
        """``value`` as it may be printed: masked when the parameter is hidden."""
        return MASK if self.hidden else value

    def convert(self, value, limits=None):
        """``value`` in this parameter's type, as Heat converts it; raises ValueError.

        ``limits`` (a Limits; the defaults when None) bounds the nesting of a value.
        """
        limits = limits or DEFAULT_LIMITS
        _check_depth(value, limits.max_template_depth)
        if self.type == constr.JSON:
            return _to_json(value, limits.max_template_depth)
        return _CONVERTERS[self.type](value)

    def check(self, value, is_default=False, error_path=None, limits=None):
        """Convert ``value`` and check every constraint; TemplateError names the parameter.

        ``limits`` (a Limits; the defaults when None) bounds the nesting of the value
        and the time of an allowed_pattern match.
        """
        error_path = self.path if error_path is None else error_path
        what = 'default' if is_default else 'value'
        if not is_default:
            # a user's value (command line, parameter file, environment, API): the
            # template's own default is bounded with the template
            budget = (limits or DEFAULT_LIMITS).max_template_size
            if _exceeds(value, budget):
                raise TemplateError("parameter '%s': the value is more than %d bytes "
                                    "([DEFAULT] max_template_size)" % (self.name, budget),
                                    error_path)
        try:
            typed = self.convert(value, limits)
        except ValueError as exc:
            shown = '' if self.hidden else ' %s' % _short(value)
            detail = '' if self.hidden else ': %s' % exc
            if isinstance(exc, _TooDeep):
                detail = ': %s' % exc       # says nothing of the value itself
            raise TemplateError("parameter '%s': %s%s is not a valid %s%s"
                                % (self.name, what, shown, self.type, detail), error_path)
        for c in self.constraints:
            if is_default and not c.applies_to_default():
                continue
            try:
                message = c.parameter_error(typed, self.type, limits)
            except constr.PatternTimeout as exc:
                raise TemplateError("parameter '%s': %s" % (self.name, exc), error_path)
            if message is None:
                continue
            if self.hidden:
                message = 'the %s does not satisfy its %s constraint' % (what, c.kind)
            if c.description:
                message = (c.description if self.hidden
                           else '%s (%s)' % (c.description, message))
            raise TemplateError("parameter '%s': %s%s" % (
                self.name, 'default ' if is_default and not self.hidden else '', message),
                error_path)
        return typed

    def __repr__(self):
        return 'ParamSchema(%r, %r)' % (self.name, self.type)


def _short(value, limit=80):
    try:
        text = repr(value)
    except (ValueError, RecursionError):     # an int too long to print, a deep value
        text = '<%s>' % type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _exceeds(value, budget):
    """Whether ``value`` (text, or a JSON-like structure of them) is more than ``budget``
    bytes, counted as its JSON text roughly would be; stops once over."""
    if isinstance(value, str):
        # no character is more than 4 bytes in UTF-8: encode only when it may matter
        if len(value) * 4 <= budget:
            return False
        return len(value) > budget or len(value.encode('utf-8', 'surrogatepass')) > budget
    total = 0
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += len(item) + 3
        elif isinstance(item, dict):
            total += 2
            for k, v in item.items():
                todo.append(k if isinstance(k, str) else str(k))
                todo.append(v)
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            todo.extend(item)
        else:
            total += 8
        if total > budget:
            return True
    return False


class _TooDeep(ValueError):
    """A value nests deeper than max_template_depth."""

    def __init__(self, limit):
        super().__init__('it nests more than %d levels of lists and maps ([DEFAULT] '
                         'max_template_depth)' % limit)


def _check_depth(value, limit):
    """Raise _TooDeep when lists and maps in ``value`` nest more than ``limit`` levels."""
    if not isinstance(value, (dict, list, tuple)):
        return
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > limit:
            raise _TooDeep(limit)
        children = item.values() if isinstance(item, dict) else item
        todo.extend((child, depth + 1) for child in children
                    if isinstance(child, (dict, list, tuple)))


# A JSON string literal (an unterminated one runs to the end, so that no text is scanned
# twice), or one bracket: what the depth of JSON text is measured on.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)


def _check_json_text_depth(text, limit):
    """Raise _TooDeep when the JSON ``text`` nests more than ``limit`` levels.

    Measured on the text, before parsing it: the json module recurses, and a few
    thousand brackets end in a RecursionError.
    """
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in '[{':
            depth += 1
            if depth > limit:
                raise _TooDeep(limit)
        elif char in ']}':
            depth -= 1


def _to_string(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise ValueError('expected a string, got %s' % type(value).__name__)


def _to_number(value):
    number = constr.to_number(value)
    if isinstance(number, float) and not math.isfinite(number):
        # NaN and infinities (and 1e400, which is one) are not JSON numbers
        raise ValueError('%s is not a finite number' % number)
    return number


def _to_list(value):
    if isinstance(value, (list, tuple)):
        return [x if isinstance(x, str) else str(x) for x in value]
    if isinstance(value, str):
        if value == '':
            return []
        return [x.strip() for x in value.split(',')]
    raise ValueError('expected a comma-delimited list string or a list')


def _to_json(value, max_depth=DEFAULT_LIMITS.max_template_depth):
    if isinstance(value, str):
        if not value.strip():
            return {}
        _check_json_text_depth(value, max_depth)
        try:
            value = json.loads(value, parse_constant=_refuse_constant,
                               parse_float=_finite_float)
        except RecursionError:
            raise _TooDeep(max_depth)
        except ValueError as exc:
            raise ValueError('not valid JSON: %s' % exc)
    elif isinstance(value, (dict, list)):
        value = copy.deepcopy(value)
    if not isinstance(value, (dict, list)):
        raise ValueError('expected a JSON map or list')
    return value


def _refuse_constant(name):
    raise ValueError('%s is not a finite number' % name)


def _finite_float(text):
    number = float(text)
    if not math.isfinite(number):
        raise ValueError('%s is not a finite number' % text)
    return number


def _to_bool(value):
    if isinstance(value, bool):
        return value
    try:
        return strutils.bool_from_string(str(value), strict=True)
    except ValueError:
        raise ValueError('expected a boolean (true/false, yes/no, on/off, 1/0)')


_CONVERTERS = {
    constr.STRING: _to_string,
    constr.NUMBER: _to_number,
    constr.LIST: _to_list,
    constr.JSON: _to_json,
    constr.BOOLEAN: _to_bool,
}


def parse_schemas(section, version_name):
    """{name: ParamSchema} from a template's parameters section."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise TemplateError('the parameters section must be a map', ('parameters',))
    out = {}
    for name, data in section.items():
        if not isinstance(name, str) or not name:
            raise TemplateError('parameter names must be non-empty strings, not %r' % (name,),
                                ('parameters', name))
        out[name] = ParamSchema.from_dict(name, data, version_name)
    return out


class Parameters(collections.abc.Mapping):
    """The parameter values of a stack: a read-only {name: typed value} map.

    Pseudo parameters (OS::stack_name, OS::stack_id, OS::project_id) are not in the
    map (they are not user input) but are answered by ``pseudo``.
    """

    def __init__(self, schemas, values=None, defaults=None, identity=None, limits=None):
        """Compute every value; raises TemplateError for unknown, missing or bad values.

        ``limits`` (a Limits; the defaults when None) bounds the checks of the values.
        """
        self.schemas = dict(schemas)
        values = dict(values or {})
        defaults = dict(defaults or {})
        for name in values:
            if name not in self.schemas:
                raise TemplateError("parameter '%s' is given a value but is not defined in "
                                    "the template" % (name,), ())
        self._values = {}
        for name, schema in self.schemas.items():
            raw = values.get(name)
            if raw is not None:
                self._values[name] = schema.check(raw, limits=limits)
                continue
            if defaults.get(name) is not None:
                # The environment's parameter_defaults are the user's values: every
                # constraint applies, custom ones included (only the template's own
                # default is spared those, as in Heat).
                self._values[name] = schema.check(defaults[name], limits=limits)
                continue
            if schema.default is None:
                raise TemplateError("parameter '%s': no value given and it has no default"
                                    % name, schema.path)
            self._values[name] = schema.check(schema.default, is_default=True, limits=limits)
        self.pseudo = {key: getattr(identity, field, None) if identity is not None else None
                       for key, field in PSEUDO_PARAMETERS.items()}

    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def value(self, name):
        """A parameter or pseudo parameter value; KeyError when there is no such name."""
        if name in self._values:
            return self._values[name]
        if name in self.pseudo:
            return self.pseudo[name]
        raise KeyError(name)

    def hidden_names(self):
        """Names of the hidden parameters."""
        return frozenset(n for n, s in self.schemas.items() if s.hidden)

    def masked(self):
        """The values with every hidden one replaced by '******'."""
        return {n: self.schemas[n].show(v) for n, v in self._values.items()}

    def __repr__(self):
        return 'Parameters(%r)' % (self.masked(),)


def immutable_changes(old, new):
    """Sorted names of immutable parameters (per the new template) whose value an update changes.

    Only parameters present in both the old and new stacks count, as in Heat.
    """
    changed = []
    for name, schema in new.schemas.items():
        if schema.immutable and name in old and old[name] != new[name]:
            changed.append(name)
    return sorted(changed)
