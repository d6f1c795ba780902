"""Property value constraints: length, range, allowed_values, allowed_pattern, modulo, custom.

A constraint is data (``to_dict()`` gives the HOT form); ``check(value)`` raises ValueError
with a message when the value does not fit. Custom constraints name a check registered at
run time with ``register_custom_constraint``, so an engine can plug in look-ups (an image
exists, a flavor exists) that this package knows nothing about.
"""

import re

_CUSTOM = {}


def register_custom_constraint(name, check):
    """Register ``check(value)`` for ``custom_constraint: NAME``; it raises ValueError to reject."""
    _CUSTOM[name] = check


def unregister_custom_constraint(name):
    """Forget a custom constraint check (no error when it was never registered)."""
    _CUSTOM.pop(name, None)


class Constraint:
    """Base class: ``description`` replaces the default message when set (as in HOT)."""

    key = None

    def __init__(self, description=None):
        self.description = description

    def check(self, value):
        """Raise ValueError when ``value`` (already of the property's type) is rejected."""
        message = self._error(value)
        if message is not None:
            raise ValueError(self.description or message)

    def _error(self, value):
        raise NotImplementedError

    def to_dict(self):
        """The constraint in HOT form, e.g. ``{'range': {'min': 1}}``."""
        out = {self.key: self._args()}
        if self.description:
            out['description'] = self.description
        return out

    def _args(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(self.to_dict()))

    def __repr__(self):
        return '%s(%r)' % (type(self).__name__, self._args())


class Range(Constraint):
    """min <= value <= max for numbers; either bound may be omitted."""

    key = 'range'

    def __init__(self, min=None, max=None, description=None):
        super().__init__(description)
        if min is None and max is None:
            raise ValueError('range needs a min or a max')
        self.min = min
        self.max = max

    def _error(self, value):
        if (self.min is not None and value < self.min) or \
                (self.max is not None and value > self.max):
            return '%s is out of range (min: %s, max: %s)' % (value, self.min, self.max)
        return None

    def _args(self):
        return {k: v for k, v in (('min', self.min), ('max', self.max)) if v is not None}


class Length(Range):
    """min <= len(value) <= max for strings, lists and maps."""

    key = 'length'

    def _error(self, value):
        n = len(value)
        if (self.min is not None and n < self.min) or (self.max is not None and n > self.max):
            return 'length (%d) is out of range (min: %s, max: %s)' % (n, self.min, self.max)
        return None


class Modulo(Constraint):
    """value % step == offset (HOT's modulo constraint)."""

    key = 'modulo'

    def __init__(self, step, offset, description=None):
        super().__init__(description)
        if not step:
            raise ValueError('modulo step must be a non-zero number')
        if abs(offset) >= abs(step):
            raise ValueError('modulo offset must be smaller than its step')
        self.step = step
        self.offset = offset

    def _error(self, value):
        if value % self.step != self.offset:
            return '%s is not a multiple of %s with an offset of %s' % (
                value, self.step, self.offset)
        return None

    def _args(self):
        return {'step': self.step, 'offset': self.offset}


class AllowedValues(Constraint):
    """value is one of a fixed list (for a list property: every item is)."""

    key = 'allowed_values'

    def __init__(self, allowed, description=None):
        super().__init__(description)
        self.allowed = list(allowed)

    def _error(self, value):
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in self.allowed:
                return '"%s" is not an allowed value %s' % (
                    v, '[%s]' % ', '.join(str(a) for a in self.allowed))
        return None

    def _args(self):
        return list(self.allowed)


class AllowedPattern(Constraint):
    """The whole string matches a regular expression."""

    key = 'allowed_pattern'

    def __init__(self, pattern, description=None):
        super().__init__(description)
        self.pattern = pattern
        self._regex = re.compile(pattern)

    def _error(self, value):
        if self._regex.fullmatch(value) is None:
            return '"%s" does not match pattern "%s"' % (value, self.pattern)
        return None

    def _args(self):
        return self.pattern


class CustomConstraint(Constraint):
    """A named check registered with register_custom_constraint.

    A name nobody registered passes: such checks look at services (images, flavors) that
    the engine may not talk to, and an unchecked value is still caught by the real call.
    """

    key = 'custom_constraint'

    def __init__(self, name, description=None):
        super().__init__(description)
        self.name = name

    def _error(self, value):
        check = _CUSTOM.get(self.name)
        if check is None:
            return None
        try:
            check(value)
        except ValueError as exc:
            return '"%s" does not validate %s: %s' % (value, self.name, exc)
        return None

    def _args(self):
        return self.name


_BY_KEY = {cls.key: cls for cls in (Range, Length, Modulo, AllowedValues, AllowedPattern,
                                    CustomConstraint)}


def from_dict(data):
    """Build a Constraint from its HOT form (``{'length': {'min': 3}, 'description': ...}``)."""
    if not isinstance(data, dict):
        raise ValueError('a constraint must be a map, not %r' % (data,))
    description = data.get('description')
    keys = [k for k in data if k != 'description']
    if len(keys) != 1 or keys[0] not in _BY_KEY:
        raise ValueError('a constraint needs exactly one of %s, got %s'
                         % (', '.join(sorted(_BY_KEY)), ', '.join(map(str, keys)) or 'none'))
    key = keys[0]
    cls, args = _BY_KEY[key], data[key]
    if cls in (Range, Length, Modulo):
        if not isinstance(args, dict):
            raise ValueError('%s needs a map of arguments' % key)
        return cls(description=description, **args)
    return cls(args, description=description)
