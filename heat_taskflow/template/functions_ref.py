"""Intrinsic functions that read the stack: parameters, resources, attributes, files, facade.

get_param (with the pseudo parameters every stack has), get_resource, get_attr, get_file
and resource_facade.

Contract: each class reads what it needs through the ``ResolutionContext`` it is handed
and declares the resources it refers to (``resource_refs``, ``attribute_refs``), from
which the dependency graph is built.
"""

from heat_taskflow.template.functions_base import (
    Function,
    is_list,
    resolve,
    resolve_each,
    size_of,
    traverse,
)


def _charged(fn, ctx, value):
    """``value``, counted against the resolution's budget (it becomes part of the result)."""
    if value is not None:
        cap = ctx.budget.remaining
        size = size_of(value, cap)
        fn.charge(ctx, size, measured=size <= cap)
    return value

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
            if not args:
                raise self.error('argument must be a parameter name or a list '
                                 '[name, key-or-index, ...], not an empty list')
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
            return None if path else _charged(self, ctx, value)
        return _charged(self, ctx, traverse(value, path, ''))


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
            return _charged(self, ctx, ctx.resource_attributes(self.resource_name))
        attribute = resolve(self.args[1], ctx)
        if attribute is None:
            return None
        if not isinstance(attribute, str):
            raise self.error('attribute name must be a string, not %r' % (attribute,), (1,))
        path = resolve_each(self.args[2:], ctx)
        return _charged(self, ctx,
                        ctx.resource_attribute_path(self.resource_name, attribute, path))


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
        return _charged(self, ctx, content)


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
