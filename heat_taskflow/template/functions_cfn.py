"""CloudFormation-style functions that HOT 2013-05-23 accepts (Fn::Select until 2015-04-30).

Heat keeps them in HOT's first version for templates converted from CFN; from
2014-10-16 on they are gone (Fn::Select from 2015-10-15), and using one is an
error naming the function and the version.
"""

import collections.abc
import json
import re

from heat_taskflow.template import functions_data, functions_ref
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.functions_base import Function, is_list, resolve, resolve_each
from heat_taskflow.template.functions_ref import PSEUDO_PARAMETERS

_MEMBER = re.compile(r'\.member\.([0-9]+)\.(.*)')


class GetAZs(Function):
    """Fn::GetAZs: the availability zones (the region argument is ignored, as in Heat)."""

    def result(self, ctx):
        """What the context reports as availability zones."""
        return ctx.availability_zones()


class Ref(Function):
    """Ref: a parameter's value, or else a resource's reference id."""

    # The name may be a parameter; functions_base.dependencies() drops it then.
    may_be_parameter = True

    def validate(self):
        """The argument is a name (a string)."""
        if not isinstance(self.args, str):
            raise self.error('argument must be a parameter or resource name (a string)')

    def resource_refs(self):
        """The name, unless it is a pseudo parameter."""
        return () if self.args in PSEUDO_PARAMETERS else (self.args,)

    def result(self, ctx):
        """The parameter value if there is such a parameter, else the resource reference."""
        if self.args in PSEUDO_PARAMETERS:
            return getattr(ctx, PSEUDO_PARAMETERS[self.args])
        try:
            return ctx.parameter(self.args)
        except (KeyError, TemplateError):
            return ctx.resource_reference(self.args)


class Select(Function):
    """Fn::Select: [index, list-or-map] picks one item; '' when there is none."""

    def validate(self):
        """Two arguments."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [index, collection]')

    def result(self, ctx):
        """The selected item, or '' when the index or key is missing (as in Heat)."""
        index, collection = resolve_each(self.args, ctx)
        if collection is None or collection == '':
            return ''
        if isinstance(collection, str):
            try:           # it may be serialized JSON
                collection = json.loads(collection)
            except ValueError as exc:
                raise self.error('collection is not a list, a map or JSON: %s' % exc)
        if isinstance(collection, collections.abc.Mapping):
            if not isinstance(index, str):
                raise self.error('index into a map must be a string')
            return collection.get(index, '')
        if not is_list(collection):
            raise self.error('collection must be a list or a map, not %r' % (collection,))
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise self.error('index into a list must be an integer, not %r' % (index,))
        if not 0 <= index < len(collection):
            return ''
        return collection[index]


class Join(functions_data.ListJoin):
    """Fn::Join: [delimiter, [string, ...]]."""


class Split(Function):
    """Fn::Split: [delimiter, string] gives a list."""

    def validate(self):
        """Two arguments; the delimiter is a literal string."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [delimiter, string]')
        if not isinstance(self.args[0], str) or not self.args[0]:
            raise self.error('delimiter must be a non-empty string', (0,))

    def result(self, ctx):
        """The pieces."""
        text = resolve(self.args[1], ctx)
        if text is None:
            return None
        if not isinstance(text, str):
            raise self.error('the value to split must be a string, not %r' % (text,))
        return text.split(self.args[0])


class Replace(functions_data.StrReplace):
    """Fn::Replace: [{placeholder: value, ...}, template]."""

    def validate(self):
        """Two arguments: the params map and the template."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [{"$var": "value"}, "template"]')
        self._check_static()

    def _template_and_params(self):
        return self.args[1], self.args[0]

    def _subpaths(self):
        return (1,), (0,)


class Base64(Function):
    """Fn::Base64: returns its string unchanged (Heat accepts user data as plain text)."""

    def validate(self):
        """The argument is a string or a function."""
        if not isinstance(self.args, (str, Function)):
            raise self.error('argument must be a string')

    def result(self, ctx):
        """The string itself."""
        value = resolve(self.args, ctx)
        if value is not None and not isinstance(value, str):
            raise self.error('argument must be a string, not %r' % (value,))
        return value


class MemberListToMap(Function):
    """Fn::MemberListToMap: [key_name, value_name, ['.member.0.Name=k', ...]] to a map."""

    def validate(self):
        """Key name, value name (literal strings) and the member list."""
        if not is_list(self.args) or len(self.args) != 3:
            raise self.error("arguments must be of the form ['Name', 'Value', "
                             "['.member.0.Name=key', '.member.0.Value=value']]")
        for i in (0, 1):
            if not isinstance(self.args[i], str):
                raise self.error('key and value names must be strings', (i,))

    def result(self, ctx):
        """The map built from the numbered members."""
        members = resolve(self.args[2], ctx)
        if members is None:
            return None
        if not is_list(members):
            raise self.error('member list must be a list', (2,))
        key_name, value_name = self.args[0], self.args[1]
        members_by_index = {}
        for item in members:
            if not isinstance(item, str):
                raise self.error('member list items must be strings, not %r' % (item,), (2,))
            name, _, value = item.partition('=')
            # ".member.<n>.<field>": the index groups a key with its value
            match = _MEMBER.match(name)
            if match:
                members_by_index.setdefault(int(match.group(1)), {})[match.group(2)] = value
        return {m[key_name]: m[value_name] for _, m in sorted(members_by_index.items())
                if key_name in m and value_name in m}


class ResourceFacade(functions_ref.ResourceFacade):
    """Fn::ResourceFacade: Metadata, DeletionPolicy or UpdatePolicy of the parent."""

    kinds = ('Metadata', 'DeletionPolicy', 'UpdatePolicy')
    _hot_kind = {'Metadata': 'metadata', 'DeletionPolicy': 'deletion_policy',
                 'UpdatePolicy': 'update_policy'}

    def result(self, ctx):
        """The parent's value for that part."""
        return ctx.facade(self._hot_kind[self.args])
