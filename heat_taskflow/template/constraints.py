"""Parameter constraints: length, range, modulo, allowed_values, allowed_pattern, custom.

A constraint checks an already type-converted value and returns an error message (or
None). Custom constraints come from ``register_custom_constraint`` or from stevedore
entry points in the ``heat_taskflow.constraints`` group, loaded on first use; an entry
point names a callable ``fn(value)`` that returns False or raises ValueError when the
value is invalid.
"""

import re
import threading

ENTRY_POINT_GROUP = 'heat_taskflow.constraints'

STRING, NUMBER, JSON, LIST, BOOLEAN = (
    'string', 'number', 'json', 'comma_delimited_list', 'boolean')


def to_number(value):
    """A number from a number or its text: int when exact, else float (as Heat does)."""
    if isinstance(value, bool):
        raise ValueError('%r is not a number' % (value,))
    if isinstance(value, (int, float)):
        return value
    if not isinstance(value, str):
        raise ValueError('%r is not a number' % (value,))
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise ValueError('"%s" is not a number' % value)


class Constraint:
    """Base: ``kind`` is the key in the template, ``types`` the parameter types it fits."""

    kind = None
    types = ()

    def __init__(self, description=None):
        self.description = description

    def check(self, value, param_type):
        """An error message when ``value`` breaks the constraint, else None."""
        raise NotImplementedError

    def applies_to_default(self):
        """Whether a parameter's default is checked against this constraint."""
        return True


class _Bounds(Constraint):
    """Shared shape of length and range: optional min and max, at least one."""

    def __init__(self, minimum=None, maximum=None, description=None):
        super().__init__(description)
        if minimum is None and maximum is None:
            raise ValueError('%s constraint needs min or max' % self.kind)
        self.min = None if minimum is None else to_number(minimum)
        self.max = None if maximum is None else to_number(maximum)

    def _describe(self):
        if self.min is not None and self.max is not None:
            return 'between %s and %s' % (self.min, self.max)
        if self.min is not None:
            return 'at least %s' % self.min
        return 'at most %s' % self.max

    def _within(self, number):
        return ((self.min is None or number >= self.min)
                and (self.max is None or number <= self.max))


class Length(_Bounds):
    """The length of a string, list or map lies within [min, max]."""

    kind = 'length'
    types = (STRING, LIST, JSON)

    def check(self, value, param_type):
        """Compare len(value) with the bounds."""
        if not self._within(len(value)):
            return 'length %d is not %s' % (len(value), self._describe())
        return None


class Range(_Bounds):
    """A number lies within [min, max]."""

    kind = 'range'
    types = (NUMBER,)

    def check(self, value, param_type):
        """Compare the number with the bounds."""
        if not self._within(value):
            return 'value %s is not %s' % (value, self._describe())
        return None


class Modulo(Constraint):
    """A number is ``offset`` more than a multiple of ``step`` (2017-02-24 and later)."""

    kind = 'modulo'
    types = (NUMBER,)

    def __init__(self, step=None, offset=None, description=None):
        super().__init__(description)
        if step is None or offset is None:
            raise ValueError('modulo constraint needs both step and offset')
        self.step = to_number(step)
        self.offset = to_number(offset)
        if self.step == 0:
            raise ValueError('modulo step cannot be 0')
        if abs(self.offset) >= abs(self.step):
            raise ValueError('modulo offset must be smaller (in absolute value) than step')
        if self.offset and (self.step > 0) != (self.offset > 0):
            raise ValueError('modulo step and offset must have the same sign')

    def check(self, value, param_type):
        """Check value % step == offset."""
        if value % self.step != self.offset:
            return 'value %s is not a multiple of %s with an offset of %s' % (
                value, self.step, self.offset)
        return None


class AllowedValues(Constraint):
    """The value (each item, for a list) is one of the allowed values."""

    kind = 'allowed_values'
    types = (STRING, NUMBER, BOOLEAN, LIST)

    def __init__(self, values, description=None):
        super().__init__(description)
        if not isinstance(values, list):
            raise ValueError('allowed_values must be a list')
        self.values = values

    def _allowed(self, param_type):
        # Compare in the parameter's type, so '1' allows 1 for a number parameter.
        out = []
        for v in self.values:
            try:
                if param_type == NUMBER:
                    out.append(to_number(v))
                elif param_type == BOOLEAN:
                    out.append(_to_bool(v))
                elif param_type in (STRING, LIST):
                    out.append(v if isinstance(v, str) else str(v))
                else:
                    out.append(v)
            except ValueError:
                continue
        return out

    def check(self, value, param_type):
        """Membership of the value, or of every list item."""
        allowed = self._allowed(param_type)
        if isinstance(value, list):
            bad = [v for v in value if v not in allowed]
            if bad:
                return '%s not in allowed values %s' % (
                    ', '.join(repr(b) for b in bad), self.values)
            return None
        if value not in allowed:
            return '%r is not one of the allowed values %s' % (value, self.values)
        return None


class AllowedPattern(Constraint):
    """A string matches a regular expression in full."""

    kind = 'allowed_pattern'
    types = (STRING,)

    def __init__(self, pattern, description=None):
        super().__init__(description)
        if not isinstance(pattern, str):
            raise ValueError('allowed_pattern must be a string')
        try:
            self.regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError('allowed_pattern "%s" is not a valid regular expression: %s'
                             % (pattern, exc))
        self.pattern = pattern

    def check(self, value, param_type):
        """Full match of the pattern."""
        if self.regex.fullmatch(value) is None:
            return '%r does not match pattern "%s"' % (value, self.pattern)
        return None


class CustomConstraint(Constraint):
    """A named check registered by a plugin, e.g. ``nova.flavor``.

    An unknown name is not an error here: such checks usually need a cloud, which this
    pure library does not have; ``known`` tells whether it was checked.
    """

    kind = 'custom_constraint'
    types = (STRING, NUMBER, BOOLEAN, LIST, JSON)

    def __init__(self, name, description=None):
        super().__init__(description)
        if not isinstance(name, str):
            raise ValueError('custom_constraint must be a name')
        self.name = name

    @property
    def known(self):
        """Whether a check is registered under this name."""
        return get_custom_constraint(self.name) is not None

    def applies_to_default(self):
        """Heat does not run custom constraints on defaults."""
        return False

    def check(self, value, param_type):
        """Run the registered check, if any."""
        fn = get_custom_constraint(self.name)
        if fn is None:
            return None
        try:
            ok = fn(value)
        except ValueError as exc:
            return '%r is not valid for %s: %s' % (value, self.name, exc)
        if ok is False:
            return '%r is not valid for %s' % (value, self.name)
        return None


_KINDS = {cls.kind: cls for cls in (Length, Range, Modulo, AllowedValues, AllowedPattern,
                                    CustomConstraint)}


def from_definition(definition, version_name):
    """Build a Constraint from its template form, e.g. ``{'range': {'min': 1}}``.

    Raises ValueError with a message; the caller adds the parameter and path.
    """
    if not isinstance(definition, dict):
        raise ValueError('each constraint must be a map')
    kinds = [k for k in definition if k != 'description']
    unknown = [k for k in kinds if k not in _KINDS]
    if unknown:
        raise ValueError('unknown constraint "%s"; known: %s'
                         % (unknown[0], ', '.join(sorted(_KINDS))))
    if len(kinds) != 1:
        raise ValueError('a constraint must name exactly one kind (found %d)' % len(kinds))
    kind = kinds[0]
    if kind == 'modulo' and version_name < '2017-02-24':
        raise ValueError('the modulo constraint needs heat_template_version 2017-02-24 '
                         'or later')
    desc = definition.get('description')
    arg = definition[kind]
    if kind in ('length', 'range'):
        _check_keys(arg, ('min', 'max'), kind)
        return _KINDS[kind](arg.get('min'), arg.get('max'), desc)
    if kind == 'modulo':
        _check_keys(arg, ('step', 'offset'), kind)
        return Modulo(arg.get('step'), arg.get('offset'), desc)
    return _KINDS[kind](arg, desc)


def _check_keys(arg, allowed, kind):
    if not isinstance(arg, dict):
        raise ValueError('%s constraint must be a map with keys %s' % (kind, ', '.join(allowed)))
    for key in arg:
        if key not in allowed:
            raise ValueError('invalid key "%s" in %s constraint' % (key, kind))


def _to_bool(value):
    from oslo_utils import strutils
    return strutils.bool_from_string(str(value), strict=True)


# --- the custom constraint registry -------------------------------------------------

_registry = {}
_lock = threading.Lock()
_entry_points_loaded = False


def register_custom_constraint(name, fn):
    """Register ``fn(value)`` as the custom constraint ``name`` (replacing any other)."""
    if not callable(fn):
        raise TypeError('custom constraint %s must be callable' % name)
    with _lock:
        _registry[name] = fn


def unregister_custom_constraint(name):
    """Remove a registered custom constraint, if present."""
    with _lock:
        _registry.pop(name, None)


def get_custom_constraint(name):
    """The check registered as ``name`` (explicitly or via entry points), or None."""
    _load_entry_points()
    return _registry.get(name)


def _load_entry_points():
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        try:
            from stevedore import extension
            mgr = extension.ExtensionManager(ENTRY_POINT_GROUP, invoke_on_load=False,
                                             on_load_failure_callback=_ignore_failure)
        except Exception:  # noqa: BLE001 - a broken plugin must not break templates
            return
        for ext in mgr:
            # explicit registrations win over entry points
            _registry.setdefault(ext.name, ext.plugin)


def _ignore_failure(manager, entrypoint, exception):
    pass
