"""The machinery of intrinsic functions: the Function base, parsing and resolving snippets.

Contract: ``parse(snippet, version)`` turns template data into a tree in which every
function call is a ``Function`` instance (taken from the version's table), validating
each call's arguments; ``resolve(tree, ctx)`` turns it back into plain data against a
``ResolutionContext``; ``walk``, ``dependencies``, ``attribute_refs`` and
``select_branches`` read a tree without resolving it.

This module knows no function by name. The families (``functions_ref``,
``functions_data``, ``functions_logic``, ``functions_cfn``) subclass ``Function`` and
import from here; ``versions`` assembles them into one table per template version.
Nothing here imports them.
"""

import abc
import collections.abc

from heat_taskflow.template import limits as limits_mod
from heat_taskflow.template.errors import TemplateError


def human_size(n):
    """A byte count as people read it: '812 bytes', '20.0 KiB', '1.9 GiB'."""
    if n < 1024:
        return '%d bytes' % n
    for unit in ('KiB', 'MiB', 'GiB', 'TiB'):
        n /= 1024.0
        if n < 1024 or unit == 'TiB':
            return ('%d %s' % (n, unit)) if n == int(n) else ('%.1f %s' % (n, unit))
    return None  # pragma: no cover - the loop always returns


# What size_of counts for a value that is not a string: a number, a boolean, None,
# and the brackets, quotes and separators around items (roughly their JSON text).
SCALAR_SIZE = 8
ITEM_OVERHEAD = 2


def size_of(value, cap=None):
    """Roughly the bytes of ``value`` as JSON, counting shared parts every time they occur.

    Counting stops once the size passes ``cap`` (the answer is then above ``cap``), so
    measuring never costs more than the budget it is compared with.
    """
    if isinstance(value, str):      # the common case, without the walk
        return len(value) + ITEM_OVERHEAD
    total = 0
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += len(item) + ITEM_OVERHEAD
        elif isinstance(item, collections.abc.Mapping):
            total += ITEM_OVERHEAD
            for k, v in item.items():
                todo.append(k)
                todo.append(v)
        elif isinstance(item, (list, tuple)):
            total += ITEM_OVERHEAD
            todo.extend(item)
        else:
            total += SCALAR_SIZE
        if cap is not None and total > cap:
            break
    return total


class Budget:
    """The bytes one resolution (a resource's properties, an output, ...) may still build.

    Every function that builds data asks ``check`` with the size it is about to produce,
    before producing it, then ``charge``s what it built; past the limit it raises a
    TemplateError at the function's path.
    """

    def __init__(self, limit):
        self.limit = limit
        self.used = 0

    @property
    def remaining(self):
        """Bytes still allowed (never negative)."""
        return max(self.limit - self.used, 0)

    def check(self, fn, size, measured=True):
        """Raise when building ``size`` more bytes would pass the limit.

        ``measured=False``: ``size`` is where measuring stopped (size_of's cap), so the
        message says "more than".
        """
        if size > self.remaining:
            raise fn.error('would build %s%s; the limit of one resolution is %s '
                           '([DEFAULT] max_resolved_size)'
                           % ('' if measured else 'more than ', human_size(size + self.used),
                              human_size(self.limit)))

    def charge(self, fn, size, measured=True):
        """check(), then count ``size`` bytes as built."""
        self.check(fn, size, measured)
        self.used += size


class ResolutionContext(abc.ABC):
    """What a function may ask of the stack while it resolves.

    The template package implements it over stored resource state; a validation context
    answers ``None`` for anything a resource has not produced yet.
    """

    stack_name = None
    stack_id = None
    project_id = None
    # The byte budget of the resolution under way; contexts that do not set one get the
    # default limit (the first time it is asked for).
    _budget = None

    @property
    def budget(self):
        """The Budget of this resolution."""
        if self._budget is None:
            self._budget = Budget(limits_mod.DEFAULT.max_resolved_size)
        return self._budget

    @budget.setter
    def budget(self, budget):
        self._budget = budget

    @abc.abstractmethod
    def parameter(self, name):
        """The value of a parameter (user value, environment, or default)."""

    @abc.abstractmethod
    def resource_reference(self, name):
        """What get_resource returns for a resource (its reference id), or None."""

    @abc.abstractmethod
    def resource_attribute(self, name, attribute):
        """A stored attribute value of a resource, or None when not available."""

    def resource_attribute_path(self, name, attribute, path):
        """A stored attribute value followed down ``path``; None when not available.

        A resource's stored values may answer paths themselves (a ``get_path(attribute,
        path)`` method: a ResourceGroup's member attributes); otherwise the path selects
        keys and indexes in the stored value.
        """
        value = self.resource_attribute(name, attribute)
        if value is None or any(p is None for p in path):
            return None
        return traverse(value, path, None)

    @abc.abstractmethod
    def resource_attributes(self, name):
        """All stored attribute values of a resource, as a dict."""

    @abc.abstractmethod
    def condition(self, name):
        """The boolean value of a named condition."""

    @abc.abstractmethod
    def facade(self, kind):
        """resource_facade: 'metadata', 'deletion_policy' or 'update_policy' of the parent."""

    @abc.abstractmethod
    def file(self, key):
        """Content of an entry in the files map, or None when absent."""

    def availability_zones(self):
        """Fn::GetAZs (HOT 2013-05-23): the zone names; Heat's answer without a cloud."""
        return ['nova']


class Function:
    """One intrinsic function call at ``path`` inside a template.

    ``args`` is already parsed: it may hold further Function instances. Subclasses
    override ``validate`` (argument shape, raising TemplateError at ``self.path``) and
    ``result``; functions that refer to resources override ``resource_refs``.
    """

    # True when the argument may name a parameter instead of a resource (CFN's Ref):
    # dependencies() then drops the template's parameter names from resource_refs().
    may_be_parameter = False

    def __init__(self, fn_name, args, path, version):
        self.fn_name = fn_name
        self.args = args
        self.path = tuple(path)
        self.version = version

    def error(self, message, subpath=()):
        """A TemplateError at this function (or below it)."""
        return TemplateError('%s: %s' % (self.fn_name, message), self.path + tuple(subpath))

    def charge(self, ctx, size, measured=True):
        """Count ``size`` bytes this call is about to build against the resolution's budget."""
        ctx.budget.charge(self, size, measured)

    def check_size(self, ctx, size):
        """Raise when ``size`` bytes would not fit in what the resolution may still build."""
        ctx.budget.check(self, size)

    def validate(self):
        """Check the shape of the arguments; raise TemplateError when wrong."""

    def result(self, ctx):
        """Resolve the call against a ResolutionContext."""
        raise NotImplementedError(self.fn_name)

    def resource_refs(self):
        """Names of resources this call itself refers to (not counting its arguments)."""
        return ()

    def attribute_refs(self):
        """(resource, attribute-or-None) pairs this call itself reads; None means all."""
        return ()

    @classmethod
    def parse_args(cls, value, version, table, path):
        """Parse this function's raw arguments; ``if`` overrides it to parse its condition."""
        return parse_snippet(value, version, table, path)

    def select_branches(self, ctx):
        """This call with every ``if`` in its arguments replaced by the branch chosen."""
        pruned = select_branches(self.args, ctx)
        if pruned is self.args:
            return self
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.args = pruned
        return clone

    def __repr__(self):
        return '{%s: %r}' % (self.fn_name, self.args)


def parse(data, version, path=()):
    """Turn a template snippet into a tree where function calls are Function instances.

    ``version`` is a ``versions.VersionSpec``; a single-key map whose key is a function
    known to some version but not this one is an error naming both.
    """
    return parse_snippet(data, version, version.functions, tuple(path))


def parse_condition(data, version, path=()):
    """Like parse(), with the functions allowed in the conditions section."""
    return parse_snippet(data, version, version.condition_functions, tuple(path))


def parse_snippet(data, version, table, path):
    """parse() with an explicit function table (``{name: Function subclass}``) and path.

    For a function whose arguments mix tables (``if``: a condition, then values).
    """
    if isinstance(data, dict):
        if len(data) == 1:
            (key, value), = data.items()
            if isinstance(key, str):
                cls = table.get(key)
                if cls is not None:
                    fn = cls(key, cls.parse_args(value, version, table, path + (key,)),
                             path, version)
                    fn.validate()
                    return fn
                if key in version.functions:
                    # allowed in resources and outputs, but not in the conditions section
                    raise TemplateError(
                        'function "%s" is not allowed in the conditions section of '
                        'heat_template_version %s' % (key, version.name), path)
                if key in version.all_function_names:
                    raise TemplateError(
                        'function "%s" is not available in heat_template_version %s'
                        % (key, version.name), path)
        return {k: parse_snippet(v, version, table, path + (k,))
                for k, v in data.items()}
    if isinstance(data, list):
        return [parse_snippet(v, version, table, path + (i,)) for i, v in enumerate(data)]
    return data


class _Omitted:
    """The value of an ``if`` without a false branch whose condition is false."""

    def __repr__(self):
        return 'OMITTED'


# Heat (2021-04-16): the enclosing list item or map entry is dropped, as if the
# template had not mentioned it; anywhere else it reads as None.
OMITTED = _Omitted()


# What a function's result() may raise on argument values of a shape it did not expect.
_BARE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def resolve(snippet, ctx):
    """Resolve every function in a parsed snippet, returning plain data."""
    value = resolve_nullable(snippet, ctx)
    return None if value is OMITTED else value


def resolve_nullable(snippet, ctx):
    """Like resolve(), but a bare omitted value is returned as OMITTED, not None."""
    if isinstance(snippet, Function):
        try:
            return snippet.result(ctx)
        except RecursionError:
            raise snippet.error('the data nests too deeply to resolve') from None
        except _BARE_ERRORS as exc:
            # A function met a value it does not check for: still the template's fault,
            # so a TemplateError at the call rather than a bare Python error.
            raise snippet.error('cannot resolve with these arguments (%s: %s)'
                                % (type(exc).__name__, exc)) from exc
    if isinstance(snippet, dict):
        out = {}
        for k, v in snippet.items():
            value = resolve_nullable(v, ctx)
            if value is not OMITTED:
                out[k] = value
        return out
    if isinstance(snippet, list):
        values = (resolve_nullable(v, ctx) for v in snippet)
        return [v for v in values if v is not OMITTED]
    return snippet


def resolve_each(args, ctx):
    """Resolve positional arguments one by one (an omitted one reads None, never shifts)."""
    return [resolve(a, ctx) for a in args]


def walk(snippet):
    """Yield every Function in a parsed snippet, outermost first."""
    if isinstance(snippet, Function):
        yield snippet
        yield from walk(snippet.args)
    elif isinstance(snippet, dict):
        for v in snippet.values():
            yield from walk(v)
    elif isinstance(snippet, list):
        for v in snippet:
            yield from walk(v)


def dependencies(snippet, parameters=()):
    """Names of every resource a parsed snippet refers to.

    ``parameters``: the template's parameter names; a CFN ``Ref`` (HOT 2013-05-23)
    to one of them is a parameter reference, not a dependency.
    """
    deps = set()
    for fn in walk(snippet):
        refs = fn.resource_refs()
        if fn.may_be_parameter:
            refs = [r for r in refs if r not in parameters]
        deps.update(refs)
    return deps


def attribute_refs(snippet):
    """Every (resource, attribute-or-None) pair a parsed snippet reads."""
    refs = set()
    for fn in walk(snippet):
        refs.update(fn.attribute_refs())
    return refs


# ---------------------------------------------------------------------------
# Shared helpers for the function classes.
#
# Convention for unknown values: a validation context answers None for what a
# resource has not produced yet.  A function whose input is None (where a value
# is needed to compute the result) returns None instead of failing, so that
# validation can walk a whole template; a wrongly shaped *known* value raises.
# ---------------------------------------------------------------------------


def is_list(value):
    """True for a list or tuple (strings are not lists here)."""
    return isinstance(value, (list, tuple))


def is_static(value):
    """True when a parsed snippet holds no function calls."""
    return next(walk(value), None) is None


def traverse(value, path, missing):
    """Follow keys/indexes ``path`` into ``value``; ``missing`` when a step fails.

    Like Heat, a string key indexing a list is read as an integer.
    """
    for key in path:
        if not isinstance(value, (collections.abc.Mapping, collections.abc.Sequence)):
            return missing
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return missing
        if isinstance(value, collections.abc.Sequence) and isinstance(key, str):
            try:
                key = int(key)
            except ValueError:
                return missing
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return missing
    return value


def select_branches(snippet, ctx):
    """The snippet with every ``if`` replaced by the branch its condition chooses.

    The dependency graph uses it so that a resource referenced only from a branch
    not taken is not a dependency; ``ctx`` answers the conditions. Each Function
    decides through its ``select_branches`` method (``if`` returns its branch).
    """
    if isinstance(snippet, Function):
        return snippet.select_branches(ctx)
    if isinstance(snippet, dict):
        return {k: select_branches(v, ctx) for k, v in snippet.items()}
    if isinstance(snippet, list):
        return [select_branches(v, ctx) for v in snippet]
    return snippet
