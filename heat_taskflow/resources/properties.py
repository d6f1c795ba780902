"""Properties schemas as data, and the validation and conversion of resolved property values.

A resource type declares ``properties_schema = {name: Schema(...)}``. The engine hands a
plugin plain resolved values; ``Properties`` checks them against the schema and converts
them (``"3"`` for an integer property becomes ``3``), with errors that name the resource
and the path to the value: ``resource 'web': property 'networks[0].port': ...``.

Constraints are ``heat_taskflow.template.constraints`` objects, the same ones parameters
use (so a custom constraint registered with ``heat_taskflow.template`` applies here too);
a property reports a broken one in its own words (``Constraint.check``).

At validation time a value that depends on a resource not created yet resolves to None;
``validate(partial=True)`` skips such values instead of rejecting them. At action time a
None value means "not given" (as in Heat): the default applies, or a required property is
missing.
"""

from collections.abc import Mapping

from heat_taskflow.resources.exceptions import InvalidProperties
from heat_taskflow.template import constraints as constr


class Schema:
    """The schema of one property (or of a list item / map entry inside one)."""

    TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, LIST, MAP, ANY) = (
        'string', 'integer', 'number', 'boolean', 'list', 'map', 'any')

    def __init__(self, type, description=None, default=None, required=False,
                 constraints=(), schema=None, update_allowed=False, immutable=False):
        if type not in self.TYPES:
            raise ValueError('unknown property type "%s"; valid types: %s'
                             % (type, ', '.join(self.TYPES)))
        if schema is not None:
            if type == self.LIST and not isinstance(schema, Schema):
                raise ValueError('the schema of a list is one Schema for its items')
            if type == self.MAP and not isinstance(schema, (Schema, dict)):
                raise ValueError('the schema of a map is {key: Schema} or one Schema')
            if type not in (self.LIST, self.MAP):
                raise ValueError('only list and map properties have a nested schema')
        self.type = type
        self.description = description
        self.default = default
        self.required = required
        self.constraints = list(constraints)
        self.schema = schema
        self.update_allowed = update_allowed
        self.immutable = immutable

    @classmethod
    def from_parameter(cls, param):
        """The property schema for a HOT parameter (a template resource's properties)."""
        types = {'string': cls.STRING, 'number': cls.NUMBER, 'boolean': cls.BOOLEAN,
                 'json': cls.ANY, 'comma_delimited_list': cls.LIST}
        ptype = param.get('type', 'string')
        if ptype not in types:
            raise ValueError('unknown parameter type "%s"' % ptype)
        return cls(types[ptype], description=param.get('description'),
                   default=param.get('default'), required='default' not in param,
                   constraints=[constr.from_definition(c) for c in param.get('constraints') or ()],
                   update_allowed=True, immutable=bool(param.get('immutable', False)))

    def to_dict(self):
        """The schema as plain data (for showing a resource type)."""
        out = {'type': self.type, 'required': self.required,
               'update_allowed': self.update_allowed, 'immutable': self.immutable}
        if self.description is not None:
            out['description'] = self.description
        if self.default is not None:
            out['default'] = self.default
        if self.constraints:
            out['constraints'] = [c.to_dict() for c in self.constraints]
        if isinstance(self.schema, Schema):
            out['schema'] = {'*': self.schema.to_dict()}
        elif self.schema is not None:
            out['schema'] = {k: s.to_dict() for k, s in self.schema.items()}
        return out

    def __repr__(self):
        return 'Schema(%r)' % (self.to_dict(),)


class _Invalid(Exception):
    """A value at a path does not fit; turned into InvalidProperties with the resource name."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


def _type_error(value, what):
    return 'value %s is not %s' % (_show(value), what)


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _to_string(value, path):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    raise _Invalid(path, _type_error(value, 'a string'))


def _to_integer(value, path):
    if isinstance(value, bool):
        raise _Invalid(path, _type_error(value, 'an integer'))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Invalid(path, _type_error(value, 'an integer'))


def _to_number(value, path):
    if isinstance(value, bool):
        raise _Invalid(path, _type_error(value, 'a number'))
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value.strip())
            except ValueError:
                pass
    raise _Invalid(path, _type_error(value, 'a number'))


def _to_boolean(value, path):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
        return value.strip().lower() == 'true'
    raise _Invalid(path, _type_error(value, 'a boolean ("true" or "false")'))


def _to_list(value, schema, path, partial):
    if not isinstance(value, (list, tuple)):
        raise _Invalid(path, _type_error(value, 'a list'))
    if schema.schema is None:
        return list(value)
    out = []
    for i, item in enumerate(value):
        out.append(convert(schema.schema, item, path + (i,), partial))
    return out


def _to_map(value, schema, path, partial):
    if not isinstance(value, Mapping):
        raise _Invalid(path, _type_error(value, 'a map'))
    if schema.schema is None:
        return dict(value)
    if isinstance(schema.schema, Schema):
        return {k: convert(schema.schema, v, path + (k,), partial) for k, v in value.items()}
    return convert_entries(schema.schema, value, path, partial)


_SCALARS = {Schema.STRING: _to_string, Schema.INTEGER: _to_integer,
            Schema.NUMBER: _to_number, Schema.BOOLEAN: _to_boolean}


def convert(schema, value, path=(), partial=False):
    """Check and convert one value against a Schema; raise _Invalid naming the path.

    None means "not given": the default applies (or, with ``partial``, it is skipped
    because a resource it depends on has not produced it yet).
    """
    if value is None:
        if partial:
            return None
        if schema.default is not None:
            value = schema.default
        elif schema.required:
            raise _Invalid(path, 'required property is missing')
        else:
            return None
    if schema.type in _SCALARS:
        value = _SCALARS[schema.type](value, path)
    elif schema.type == Schema.LIST:
        value = _to_list(value, schema, path, partial)
    elif schema.type == Schema.MAP:
        value = _to_map(value, schema, path, partial)
    for constraint in schema.constraints:
        if partial and _contains_none(value):
            # Part of the value is still unknown: the constraint can only be checked later.
            break
        try:
            constraint.check(value)
        except ValueError as exc:
            raise _Invalid(path, str(exc)) from None
        except TypeError:
            raise _Invalid(path, 'value %s cannot be checked against %s'
                           % (_show(value), constraint.kind)) from None
    return value


def _contains_none(value):
    if value is None:
        return True
    if isinstance(value, list):
        return any(_contains_none(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_none(v) for v in value.values())
    return False


def convert_entries(schemas, data, path=(), partial=False):
    """Check and convert a map of values against ``{key: Schema}`` (unknown keys rejected)."""
    unknown = sorted(str(k) for k in data if k not in schemas)
    if unknown:
        raise _Invalid(path + (unknown[0],), 'unknown property; valid properties: %s'
                       % ', '.join(sorted(schemas)))
    out = {}
    for key, sub in schemas.items():
        value = convert(sub, data.get(key), path + (key,), partial)
        if value is not None or key in data:
            out[key] = value
    return out


class Properties(Mapping):
    """Resolved property values checked against a schema, read as converted values.

    ``schema`` is ``{name: Schema}``, or None for a type that accepts any properties.
    Reading a key gives its converted value (or its default); an invalid value raises
    InvalidProperties when it is read or when ``validate()`` runs.
    """

    def __init__(self, schema, data, resource_name=None):
        self.schema = schema
        self.data = dict(data or {})
        self.resource_name = resource_name
        self._converted = None

    def validate(self, partial=False):
        """Check every value; ``partial`` skips values still None at validation time."""
        values = self._convert(partial)
        if not partial:
            self._converted = values

    def _convert(self, partial):
        if self.schema is None:
            return dict(self.data)
        try:
            return convert_entries(self.schema, self.data, (), partial)
        except _Invalid as exc:
            raise InvalidProperties(self.resource_name, exc.path, exc.message) from None

    def _values(self):
        if self._converted is None:
            self._converted = self._convert(False)
        return self._converted

    def __getitem__(self, key):
        if self.schema is not None and key not in self.schema:
            raise KeyError(key)
        values = self._values()
        if key in values:
            return values[key]
        if self.schema is None:
            raise KeyError(key)
        return None

    def __iter__(self):
        return iter(self.schema if self.schema is not None else self.data)

    def __len__(self):
        return len(self.schema if self.schema is not None else self.data)

    def diff(self, new):
        """``{name: new value}`` for every property whose converted value differs in ``new``."""
        old_values, new_values = dict(self), dict(new)
        return {k: new_values.get(k) for k in set(old_values) | set(new_values)
                if old_values.get(k) != new_values.get(k)}

    def __repr__(self):
        return 'Properties(%r)' % (self.data,)
