"""Value constraints for parameters and properties, and the one custom-constraint registry.

Contract: one set of classes (length, range, modulo, allowed_values, allowed_pattern,
custom_constraint) serves template parameters (``template/parameters.py``) and resource
properties (``resources/properties.py``). A constraint is data: built from its template
form with ``from_definition`` or in code (``Range(min=1)``), shown with ``to_dict()``.
It decides once whether a value (already converted to its type) breaks it, and reports
that in its caller's words, which differ:

- ``parameter_error(value, param_type)``: a parameter's message, or None;
- ``check(value)``: raises ValueError with a property's message (or the constraint's
  description, when it has one).

Custom constraints (``custom_constraint: NAME``) all come from one registry: the public
``register_custom_constraint`` (``heat_taskflow.template.register_custom_constraint``)
and the stevedore entry points of the ``heat_taskflow.constraints`` group, loaded on
first use; an explicit registration wins over an entry point of the same name. A check
is a callable ``fn(value)`` that returns False or raises ValueError to reject a value.
A name nobody registered is not checked.
"""

import re
import threading

# re's parser (private, but stable since 3.11): Heat checks patterns with re, so a pattern
# is parsed with it first, which is fast and compiles nothing.
from re import _constants as _sre_constants
from re import _parser as _sre_parser

import regex

from heat_taskflow.template.limits import DEFAULT as DEFAULT_LIMITS

_REPEATS = (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT,
            _sre_constants.POSSESSIVE_REPEAT)

ENTRY_POINT_GROUP = 'heat_taskflow.constraints'

# Parameter types; ``Constraint.types`` names those a constraint fits.
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
    """Base: ``kind`` is the key in the template, ``types`` the parameter types it fits.

    A subclass implements ``_violation`` (None, or the facts its messages need) and the
    two wordings ``_parameter_message`` and ``_property_message``.
    """

    kind = None
    types = ()

    def __init__(self, description=None):
        self.description = description

    def parameter_error(self, value, param_type, limits=None):
        """A parameter's message when ``value`` breaks the constraint, else None.

        ``limits`` (a Limits; the defaults when None) bounds the work of the check; past
        it, PatternTimeout (a ValueError) is raised.
        """
        facts = self._violation(value, param_type, limits or DEFAULT_LIMITS)
        return None if facts is None else self._parameter_message(value, **facts)

    def check(self, value, limits=None):
        """Raise ValueError (a property's message, or the description) when ``value`` breaks it."""
        facts = self._violation(value, None, limits or DEFAULT_LIMITS)
        if facts is not None:
            raise ValueError(self.description or self._property_message(value, **facts))

    def applies_to_default(self):
        """Whether a parameter's default is checked against this constraint."""
        return True

    def to_dict(self):
        """The constraint in its template form, e.g. ``{'range': {'min': 1}}``."""
        out = {self.kind: self._args()}
        if self.description:
            out['description'] = self.description
        return out

    def _violation(self, value, param_type, limits):
        """None when ``value`` fits; else a dict of keyword arguments for the messages.

        ``param_type`` is the parameter type for a parameter, None for a property;
        ``limits`` the Limits the check runs under.
        """
        raise NotImplementedError

    def _parameter_message(self, value, **facts):
        raise NotImplementedError

    def _property_message(self, value, **facts):
        raise NotImplementedError

    def _args(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(self.to_dict()))

    def __repr__(self):
        return '%s(%r)' % (type(self).__name__, self._args())


class _Bounds(Constraint):
    """Shared shape of length and range: optional min and max, at least one."""

    def __init__(self, min=None, max=None, description=None):
        super().__init__(description)
        if min is None and max is None:
            raise ValueError('%s constraint needs min or max' % self.kind)
        self.min = None if min is None else to_number(min)
        self.max = None if max is None else to_number(max)

    def _describe(self):
        if self.min is not None and self.max is not None:
            return 'between %s and %s' % (self.min, self.max)
        if self.min is not None:
            return 'at least %s' % self.min
        return 'at most %s' % self.max

    def _within(self, number):
        return ((self.min is None or number >= self.min)
                and (self.max is None or number <= self.max))

    def _args(self):
        return {k: v for k, v in (('min', self.min), ('max', self.max)) if v is not None}


class Length(_Bounds):
    """The length of a string, list or map lies within [min, max]."""

    kind = 'length'
    types = (STRING, LIST, JSON)

    def _violation(self, value, param_type, limits):
        return None if self._within(len(value)) else {}

    def _parameter_message(self, value):
        return 'length %d is not %s' % (len(value), self._describe())

    def _property_message(self, value):
        return 'length (%d) is out of range (min: %s, max: %s)' % (len(value), self.min,
                                                                   self.max)


class Range(_Bounds):
    """A number lies within [min, max]."""

    kind = 'range'
    types = (NUMBER,)

    def _violation(self, value, param_type, limits):
        return None if self._within(value) else {}

    def _parameter_message(self, value):
        return 'value %s is not %s' % (value, self._describe())

    def _property_message(self, value):
        return '%s is out of range (min: %s, max: %s)' % (value, self.min, self.max)


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

    def _violation(self, value, param_type, limits):
        return None if value % self.step == self.offset else {}

    def _parameter_message(self, value):
        return 'value %s is not a multiple of %s with an offset of %s' % (
            value, self.step, self.offset)

    def _property_message(self, value):
        return '%s is not a multiple of %s with an offset of %s' % (
            value, self.step, self.offset)

    def _args(self):
        return {'step': self.step, 'offset': self.offset}


class AllowedValues(Constraint):
    """The value (each item, for a list) is one of the allowed values."""

    kind = 'allowed_values'
    types = (STRING, NUMBER, BOOLEAN, LIST)

    def __init__(self, values, description=None):
        super().__init__(description)
        if not isinstance(values, (list, tuple)):
            raise ValueError('allowed_values must be a list')
        self.values = list(values)

    def _allowed(self, param_type):
        # Compare in the parameter's type, so '1' allows 1 for a number parameter;
        # a property's values are compared as declared.
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

    def _violation(self, value, param_type, limits):
        allowed = self._allowed(param_type)
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in allowed]
        return {'bad': bad} if bad else None

    def _parameter_message(self, value, bad):
        if isinstance(value, list):
            return '%s not in allowed values %s' % (', '.join(repr(b) for b in bad),
                                                   self.values)
        return '%r is not one of the allowed values %s' % (value, self.values)

    def _property_message(self, value, bad):
        return '"%s" is not an allowed value [%s]' % (
            bad[0], ', '.join(str(a) for a in self.values))

    def _args(self):
        return list(self.values)


class AllowedPattern(Constraint):
    """A string matches a regular expression in full.

    The pattern is Python's ``re`` syntax, as in Heat; it is matched by the ``regex``
    library (its re-compatible VERSION0), which can stop a match after
    ``Limits.regex_timeout`` seconds: a backtracking pattern such as ``(a|aa)+$``
    otherwise takes exponential time in the length of the value. Compiling is bounded
    too: a pattern of more than MAX_PATTERN_WEIGHT characters, counting each counted
    repeat's body as many times as it may repeat, is refused before it is compiled
    (``regex`` unrolls ``x{1000000}``, which takes seconds).
    """

    kind = 'allowed_pattern'
    types = (STRING,)

    MAX_PATTERN_WEIGHT = 100_000

    def __init__(self, pattern, description=None):
        super().__init__(description)
        if not isinstance(pattern, str):
            raise ValueError('allowed_pattern must be a string')
        self.regex = _compile_pattern(pattern, self.MAX_PATTERN_WEIGHT)
        self.pattern = pattern

    def _violation(self, value, param_type, limits):
        try:
            match = self.regex.fullmatch(value, timeout=limits.regex_timeout)
        except TimeoutError:
            raise PatternTimeout('allowed_pattern took longer than %g s ([DEFAULT] '
                                 'regex_timeout)' % limits.regex_timeout)
        return None if match is not None else {}

    def _parameter_message(self, value):
        return '%r does not match pattern "%s"' % (value, self.pattern)

    def _property_message(self, value):
        return '"%s" does not match pattern "%s"' % (value, self.pattern)

    def _args(self):
        return self.pattern


class PatternTimeout(ValueError):
    """A regular expression ran past its time budget (the message says which)."""


def _compile_pattern(pattern, max_weight):
    """``pattern`` compiled by ``regex``; ValueError when invalid or too large to compile."""
    def invalid(reason):
        return ValueError('allowed_pattern "%s" is not a valid regular expression: %s'
                          % (_clip(pattern), reason))

    try:
        # re's own parser: the syntax Heat accepts, parsed fast without compiling.
        tree = _sre_parser.parse(pattern)
    except re.error as exc:
        raise invalid(exc)
    except RecursionError:
        raise invalid('it nests too deeply')
    weight = _pattern_weight(tree, max_weight)
    if weight > max_weight:
        raise ValueError('allowed_pattern "%s" is too large: more than %d characters once '
                         'its counted repeats are expanded' % (_clip(pattern), max_weight))
    try:
        return regex.compile(pattern, flags=regex.VERSION0)
    except (regex.error, ValueError, OverflowError) as exc:
        raise invalid(exc)
    except RecursionError:
        raise invalid('it nests too deeply')


def _pattern_weight(tree, limit):
    """The size of a parsed pattern with counted repeats multiplied out (stops past limit)."""
    total = 0
    for op, arg in tree:
        if op in _REPEATS:
            low, high, sub = arg
            count = high if high != _sre_parser.MAXREPEAT else max(low, 1)
            total += _pattern_weight(sub, limit) * max(count, 1)
        elif op is _sre_constants.SUBPATTERN:
            total += _pattern_weight(arg[-1], limit)
        elif op is _sre_constants.BRANCH:
            total += sum(_pattern_weight(branch, limit) for branch in arg[1])
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            total += _pattern_weight(arg[1], limit)
        elif op is _sre_constants.GROUPREF_EXISTS:
            total += sum(_pattern_weight(branch, limit) for branch in arg[1:] if branch)
        elif op is _sre_constants.ATOMIC_GROUP:
            total += _pattern_weight(arg, limit)
        else:
            total += 1
        if total > limit:
            break
    return total


def _clip(text, limit=60):
    return text if len(text) <= limit else text[:limit - 3] + '...'


class CustomConstraint(Constraint):
    """A named check from the registry, e.g. ``nova.flavor``.

    An unknown name is not an error: such checks usually need a cloud, which the
    template library does not have, and an unchecked value is still caught by the real
    call; ``known`` tells whether it was checked.
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
        """Heat does not run custom constraints on a template's own parameter defaults."""
        return False

    def _violation(self, value, param_type, limits):
        fn = get_custom_constraint(self.name)
        if fn is None:
            return None
        try:
            ok = fn(value)
        except ValueError as exc:
            return {'reason': exc}
        return {'reason': None} if ok is False else None

    def _parameter_message(self, value, reason):
        if reason is None:
            return '%r is not valid for %s' % (value, self.name)
        return '%r is not valid for %s: %s' % (value, self.name, reason)

    def _property_message(self, value, reason):
        if reason is None:
            return '"%s" does not validate %s' % (value, self.name)
        return '"%s" does not validate %s: %s' % (value, self.name, reason)

    def _args(self):
        return self.name


_KINDS = {cls.kind: cls for cls in (Length, Range, Modulo, AllowedValues, AllowedPattern,
                                    CustomConstraint)}


def from_definition(definition, version_name=None):
    """Build a Constraint from its template form, e.g. ``{'range': {'min': 1}}``.

    ``version_name`` (a parameter's heat_template_version) rejects what that version
    does not know; None accepts every kind. Raises ValueError with a message; the caller
    adds the parameter or property and its path.
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
    if kind == 'modulo' and version_name is not None and version_name < '2017-02-24':
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
