"""OS::Heat::ResourceGroup: ``count`` copies of one resource definition, as a nested stack.

Members are named "0", "1", ...; a name listed in removal_policies is removed and never used
again (the list of removed names is recorded with data_set before the child stack changes).
The child template has an output ``refs_map`` (name -> reference id) and, for each member
N, an output ``member.N`` holding all of that member's attributes, which is where the
group's attributes come from.
"""

import copy
import itertools

from heat_taskflow.resources import attributes
from heat_taskflow.resources.exceptions import ResourceError
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.nested import NestedStackResource
from heat_taskflow.template import constraints as constr

TEMPLATE_VERSION = '2016-10-14'
MEMBER_OUTPUT = 'member.%s'
REMOVAL_MODES = (APPEND, UPDATE) = ('append', 'update')


class ResourceGroup(NestedStackResource):
    """Creates one or more identically configured nested resources."""

    type_name = 'OS::Heat::ResourceGroup'

    properties_schema = {
        'count': Schema(Schema.INTEGER, 'The number of resources to create.', default=1,
                        update_allowed=True, constraints=[constr.Range(min=0)]),
        'index_var': Schema(Schema.STRING, 'A variable replaced by the index of each '
                            'resource in the group, in its properties.', default='%index%',
                            constraints=[constr.Length(min=3)]),
        'resource_def': Schema(
            Schema.MAP, 'Resource definition for the resources in the group, as if it had '
            'been declared in the template itself.', required=True, update_allowed=True,
            schema={
                'type': Schema(Schema.STRING, 'The type of the resources in the group.',
                               required=True),
                'properties': Schema(Schema.MAP, 'Property values for the resources in the '
                                     'group.'),
                'metadata': Schema(Schema.MAP, 'Supplied metadata for the resources in the '
                                   'group.'),
            }),
        'removal_policies': Schema(
            Schema.LIST, 'Policies for removal of resources on update.', default=[],
            update_allowed=True,
            schema=Schema(Schema.MAP, 'A policy naming resources to remove.', schema={
                'resource_list': Schema(Schema.LIST, 'Names or reference ids of resources to '
                                        'remove; a removed name is never reused.',
                                        default=[]),
            })),
        'removal_policies_mode': Schema(
            Schema.STRING, 'How changes to removal_policies apply on update: "append" adds '
            'to the recorded list, "update" replaces it.', default=APPEND,
            update_allowed=True, constraints=[constr.AllowedValues(REMOVAL_MODES)]),
    }

    attributes_schema = {
        'refs': attributes.Schema('A list of resource IDs for the resources in the group.',
                                  attributes.Schema.LIST),
        'refs_map': attributes.Schema('A map of resource names to IDs for the resources in '
                                      'the group.', attributes.Schema.MAP),
        'attributes': attributes.Schema('A map of resource names to the specified attribute '
                                        'of each individual resource.', attributes.Schema.MAP),
        'removed_rsrc_list': attributes.Schema('A list of removed resource names.',
                                               attributes.Schema.LIST),
    }

    @classmethod
    def has_attribute(cls, name):
        """Any name: besides its own, a group mirrors its members' attributes."""
        return True

    # -- names -----------------------------------------------------------------------------

    def removed_names(self):
        """Names removed by removal_policies so far (recorded), sorted."""
        return sorted(self.data_get('name_blacklist') or [])

    def member_names(self, count=None):
        """The names of the members for ``count`` (default: the count property)."""
        removed = set(self.removed_names())
        count = self.properties['count'] if count is None else count
        candidates = (str(i) for i in itertools.count())
        return list(itertools.islice((n for n in candidates if n not in removed), count))

    def prepare_child(self):
        """Record the names removal_policies remove before the child stack changes."""
        current = set(self.removed_names())
        keep = set() if self.properties['removal_policies_mode'] == UPDATE else current
        refs = self.member_ids()
        names_by_ref = {str(ref): name for name, ref in refs.items()}
        removed = set()
        for policy in self.properties['removal_policies'] or []:
            for entry in policy.get('resource_list') or []:
                entry = str(entry)
                if entry in current or self.physical_id is None or entry in refs:
                    removed.add(entry)
                elif entry in names_by_ref:
                    removed.add(names_by_ref[entry])
        blacklist = keep | removed
        if blacklist != current:
            self.data_set('name_blacklist', sorted(blacklist))

    # -- the child template ----------------------------------------------------------------

    def member_definition(self, name):
        """The definition of member ``name``: resource_def with index_var replaced."""
        res_def = self.properties['resource_def']
        out = {'type': res_def['type']}
        props = {k: v for k, v in (res_def.get('properties') or {}).items() if v is not None}
        out['properties'] = self._replace_index(copy.deepcopy(props), name)
        if res_def.get('metadata') is not None:
            out['metadata'] = copy.deepcopy(res_def['metadata'])
        return out

    def _replace_index(self, value, name):
        index_var = self.properties['index_var']
        if isinstance(value, str):
            return value.replace(index_var, name)
        if isinstance(value, dict):
            return {k: self._replace_index(v, name) for k, v in value.items()}
        if isinstance(value, list):
            return [self._replace_index(v, name) for v in value]
        return value

    def known_count(self):
        """The count when it is known (given as a number, or resolved), else None."""
        value = self.properties.data.get('count')
        if value is None or isinstance(value, bool):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def check_count(self, limit):
        """Refuse a count of more members than one stack may hold, before building them."""
        count = self.properties['count']
        if limit is not None and limit >= 0 and count > limit:
            raise ResourceError(self.name, 'count %d is more than the %d resources one stack '
                                'may hold ([DEFAULT] max_resources_per_stack)'
                                % (count, limit))

    def child_template(self):
        """A template of the members, with outputs for their ids and attributes."""
        self.check_count(self.limits.max_resources_per_stack)
        names = self.member_names()
        outputs = {'refs_map': {'value': {n: {'get_resource': n} for n in names}}}
        for n in names:
            outputs[MEMBER_OUTPUT % n] = {'value': {'get_attr': [n]}}
        return {'heat_template_version': TEMPLATE_VERSION,
                'resources': {n: self.member_definition(n) for n in names},
                'outputs': outputs}

    # -- attributes ------------------------------------------------------------------------

    def get_attribute(self, name, *path):
        """refs, refs_map, attributes (path: attribute name), removed_rsrc_list,
        resource.N, resource.N.ATTR, or any member attribute as a list over the members."""
        if name == 'removed_rsrc_list':
            return attributes.select(self.removed_names(), path)
        if name == attributes.SHOW:
            return super().get_attribute(name, *path)
        outputs = self.outputs()
        names = self.member_names()
        refs = outputs.get('refs_map') or {}
        members = {n: outputs.get(MEMBER_OUTPUT % n) for n in names}
        return resolve(name, path, names, {n: refs.get(n) for n in names}, members)

    def show(self):
        """The group's id, its members' reference ids and the removed names."""
        return {'id': self.physical_id, 'name': self.name,
                'attributes': {'refs_map': self.get_attribute('refs_map'),
                               'removed_rsrc_list': self.removed_names()}}


def resolve(name, path, names, refs, members, removed=()):
    """A group attribute followed down ``path``, as Heat answers get_attr on a group, from
    plain data: member ``names`` in order, ``refs`` {name: reference id} and ``members``
    {name: {attribute: value}} (each member's attributes). Path steps after a member
    attribute name select inside each member's value, not inside the list of them."""
    path = list(path)

    def member_attr(member, attr, sub_path=()):
        values = members.get(member) or {}
        return attributes.select(values.get(attr), sub_path)

    if name == 'removed_rsrc_list':
        return attributes.select(list(removed), path)
    if name == 'refs':
        return attributes.select([refs.get(n) for n in names], path)
    if name == 'refs_map':
        return attributes.select({n: refs.get(n) for n in names}, path)
    if name == 'attributes':
        if not path:
            return {n: members.get(n) for n in names}
        return {n: member_attr(n, str(path[0]), path[1:]) for n in names}
    if name.startswith('resource.'):
        parts = name.split('.', 2)
        if len(parts) == 3:
            return member_attr(parts[1], parts[2], path)
        if not path:
            return refs.get(parts[1])
        return member_attr(parts[1], str(path[0]), path[1:])
    return [member_attr(n, name, path) for n in names]


STORED_MEMBERS = 'attributes'


class StoredAttributes(dict):
    """A group's stored attribute values, answering every get_attr path the way the plugin
    does (templates read it through ``get_path``) from what was stored when the group last
    changed: the ``attributes`` (every member's attributes), ``refs_map`` and
    ``removed_rsrc_list`` values; no plugin and no nested stack is asked."""

    def get_path(self, name, path):
        refs = self.get('refs_map') or {}
        members = self.get(STORED_MEMBERS) or {}
        names = sorted(set(refs) | set(members), key=_member_order)
        return resolve(name, path, names, refs, members, self.get('removed_rsrc_list') or ())


def _member_order(name):
    return (0, int(name), '') if str(name).isdigit() else (1, 0, str(name))


def stored_attributes(type_name, values):
    """The stored attribute values of a resource, as templates should read them: a group's
    answer member paths (StoredAttributes), anything else is a plain dict."""
    if type_name == ResourceGroup.type_name:
        return StoredAttributes(values or {})
    return dict(values or {})
