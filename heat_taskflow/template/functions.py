"""Intrinsic functions: the base class, parsing a snippet into a function tree, resolving it.

Each intrinsic function is a small class with ``validate()`` and ``result(ctx)``; which
classes a template version allows is a table in ``versions.py``.
"""

import abc
import collections.abc

from heat_taskflow.template.errors import TemplateError


class ResolutionContext(abc.ABC):
    """What a function may ask of the stack while it resolves.

    The template package implements it over stored resource state; a validation context
    answers ``None`` for anything a resource has not produced yet.
    """

    stack_name = None
    stack_id = None
    project_id = None

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
        return _traverse(value, path, None)

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

    def __init__(self, fn_name, args, path, version):
        self.fn_name = fn_name
        self.args = args
        self.path = tuple(path)
        self.version = version

    def error(self, message, subpath=()):
        """A TemplateError at this function (or below it)."""
        return TemplateError('%s: %s' % (self.fn_name, message), self.path + tuple(subpath))

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
        return _parse(value, version, table, path)

    def __repr__(self):
        return '{%s: %r}' % (self.fn_name, self.args)


def parse(data, version, path=()):
    """Turn a template snippet into a tree where function calls are Function instances.

    ``version`` is a ``versions.VersionSpec``; a single-key map whose key is a function
    known to some version but not this one is an error naming both.
    """
    return _parse(data, version, version.functions, tuple(path))


def parse_condition(data, version, path=()):
    """Like parse(), with the functions allowed in the conditions section."""
    return _parse(data, version, version.condition_functions, tuple(path))


def _parse(data, version, table, path):
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
        return {k: _parse(v, version, table, path + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [_parse(v, version, table, path + (i,)) for i, v in enumerate(data)]
    return data


class _Omitted:
    """The value of an ``if`` without a false branch whose condition is false."""

    def __repr__(self):
        return 'OMITTED'


# Heat (2021-04-16): the enclosing list item or map entry is dropped, as if the
# template had not mentioned it; anywhere else it reads as None.
OMITTED = _Omitted()


def resolve(snippet, ctx):
    """Resolve every function in a parsed snippet, returning plain data."""
    value = resolve_nullable(snippet, ctx)
    return None if value is OMITTED else value


def resolve_nullable(snippet, ctx):
    """Like resolve(), but a bare omitted value is returned as OMITTED, not None."""
    if isinstance(snippet, Function):
        return snippet.result(ctx)
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
        if getattr(fn, 'may_be_parameter', False):
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


def _traverse(value, path, missing):
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


# ---------------------------------------------------------------------------
# References: parameters, resources, attributes, files, the parent's facade.
# ---------------------------------------------------------------------------

# Pseudo parameters every stack has, answered from the context's identity.
PSEUDO_PARAMETERS = {
    'OS::stack_name': 'stack_name',
    'OS::stack_id': 'stack_id',
    'OS::project_id': 'project_id',
}


class GetParam(Function):
    """get_param: a parameter value, optionally followed by keys/indexes into it."""

    def validate(self):
        """Accept a name, or a list [name, key-or-index, ...]."""
        if isinstance(self.args, (str, Function)):
            return
        if not is_list(self.args) or not self.args:
            raise self.error('argument must be a parameter name or a list '
                             '[name, key-or-index, ...]')
        if not isinstance(self.args[0], (str, Function)):
            raise self.error('parameter name must be a string', (0,))
        for i, key in enumerate(self.args[1:], 1):
            if not isinstance(key, (str, int, Function)) or isinstance(key, bool):
                raise self.error('path components must be strings or integers', (i,))

    def result(self, ctx):
        """The parameter value, or '' when the path leads nowhere (as in Heat)."""
        args = resolve_each(self.args, ctx) if is_list(self.args) else resolve(self.args, ctx)
        if is_list(args):
            name, path = args[0], list(args[1:])
        else:
            name, path = args, []
        if name is None:
            return None
        if not isinstance(name, str):
            raise self.error('parameter name must be a string, not %r' % (name,))
        if name in PSEUDO_PARAMETERS:
            value = getattr(ctx, PSEUDO_PARAMETERS[name])
        else:
            try:
                value = ctx.parameter(name)
            except KeyError:
                raise self.error('parameter "%s" is not defined' % name)
        if value is None or any(p is None for p in path):
            return None if path else value
        return _traverse(value, path, '')


class GetResource(Function):
    """get_resource: the reference id of a resource in this stack."""

    def validate(self):
        """The argument is a resource name (a plain string, so dependencies are static)."""
        if not isinstance(self.args, str):
            raise self.error('argument must be a resource name (a string)')

    def resource_refs(self):
        """The named resource."""
        return (self.args,)

    def result(self, ctx):
        """The resource's reference id (None while unknown)."""
        return ctx.resource_reference(self.args)


class GetAttr(Function):
    """get_attr: [resource, attribute, key-or-index, ...] reads a resource attribute."""

    # 2015-10-15 and later also accept [resource] alone for all attributes.
    min_args = 2

    def validate(self):
        """Check the resource name is static and the attribute path well formed."""
        if not is_list(self.args):
            raise self.error('argument must be a list [resource_name, attribute, ...]')
        if len(self.args) < self.min_args:
            shape = ('[resource_name, attribute, (path), ...]' if self.min_args == 2
                     else '[resource_name] or [resource_name, attribute, (path), ...]')
            raise self.error('arguments must be of the form %s' % shape)
        if not isinstance(self.args[0], str):
            raise self.error('resource name must be a string', (0,))
        for i, part in enumerate(self.args[1:], 1):
            if not isinstance(part, (str, int, Function)) or isinstance(part, bool):
                raise self.error('attribute name and path must be strings or integers', (i,))

    @property
    def resource_name(self):
        """The resource read."""
        return self.args[0]

    def resource_refs(self):
        """The resource read."""
        return (self.resource_name,)

    def attribute_refs(self):
        """(resource, attribute), or (resource, None) when all or a computed name."""
        if len(self.args) < 2 or not isinstance(self.args[1], str):
            return ((self.resource_name, None),)
        return ((self.resource_name, self.args[1]),)

    def result(self, ctx):
        """The attribute value followed along the path; None when unknown or missing."""
        if len(self.args) == 1:
            return ctx.resource_attributes(self.resource_name)
        attribute = resolve(self.args[1], ctx)
        if attribute is None:
            return None
        if not isinstance(attribute, str):
            raise self.error('attribute name must be a string, not %r' % (attribute,), (1,))
        path = resolve_each(self.args[2:], ctx)
        return ctx.resource_attribute_path(self.resource_name, attribute, path)


class GetAttrAll(GetAttr):
    """get_attr from 2015-10-15: [resource] alone returns every attribute as a map."""

    min_args = 1


class GetFile(Function):
    """get_file: the content of an entry in the files map."""

    def validate(self):
        """The argument is a file key (a string)."""
        if not isinstance(self.args, str):
            raise self.error('argument must be a file name or URL (a string)')

    def result(self, ctx):
        """The file content; a key absent from the files map is an error."""
        content = ctx.file(self.args)
        if content is None:
            raise self.error('no content found in the files map for "%s"' % self.args)
        return content


class ResourceFacade(Function):
    """resource_facade: metadata, deletion_policy or update_policy of the parent resource."""

    kinds = ('metadata', 'deletion_policy', 'update_policy')

    def validate(self):
        """The argument names one of the facade's parts."""
        if self.args not in self.kinds:
            raise self.error('argument must be one of %s' % ', '.join(self.kinds))

    def result(self, ctx):
        """The parent's value for that part."""
        return ctx.facade(self.args)


# The other function families live in their own modules; they are re-exported
# here so that functions.py stays the one entry point.  Imported last because
# they subclass Function.
from heat_taskflow.template.functions_data import *  # noqa: E402,F401,F403
from heat_taskflow.template.functions_logic import *  # noqa: E402,F401,F403
from heat_taskflow.template.functions_logic import If as _If  # noqa: E402


def select_branches(snippet, ctx):
    """The snippet with every ``if`` replaced by the branch its condition chooses.

    The dependency graph uses it so that a resource referenced only from a branch
    not taken is not a dependency; ``ctx`` answers the conditions.
    """
    if isinstance(snippet, _If):
        return select_branches(snippet.branch(ctx), ctx)
    if isinstance(snippet, Function):
        pruned = select_branches(snippet.args, ctx)
        if pruned is snippet.args:
            return snippet
        clone = object.__new__(type(snippet))
        clone.__dict__.update(snippet.__dict__)
        clone.args = pruned
        return clone
    if isinstance(snippet, dict):
        return {k: select_branches(v, ctx) for k, v in snippet.items()}
    if isinstance(snippet, list):
        return [select_branches(v, ctx) for v in snippet]
    return snippet
