"""OS::Nova::ServerGroup: a Nova server group (affinity policies), through openstacksdk.

Heat's properties: name, policies (one of affinity, anti-affinity, soft-affinity,
soft-anti-affinity; Nova takes one since microversion 2.64 and openstacksdk sends the first
as ``policy``). Nothing is updated in place: a change replaces the group. No attributes
besides show.

Nova keeps neither tags nor metadata on server groups, so the token is the group's physical
name (the name property, else a generated unique one), recorded before the create; a re-run
lists the groups and adopts the one of that name and policy. With a generated name that is
exact; with a name given in the template it is ambiguous when another group of the same name
and policy exists in the project (a replacement, or another stack): the first one listed is
adopted. Give no name, or unique ones, where that matters.
"""

from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

POLICIES = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']


def policies_of(group):
    """A group's policies, whichever microversion answered (``policies`` or ``policy``)."""
    return list(group.policies or ([group.policy] if group.policy else []))


class ServerGroup(common.CloudResource):
    """A resource for managing a Nova server group."""

    type_name = 'OS::Nova::ServerGroup'
    kind = 'server group'

    properties_schema = {
        'name': Schema(Schema.STRING, 'Server Group name.'),
        'policies': Schema(Schema.LIST, 'A list of string policies to apply. Defaults to '
                           'anti-affinity.', default=['anti-affinity'],
                           constraints=[constr.AllowedValues(POLICIES)],
                           schema=Schema(Schema.STRING)),
    }

    def physical_resource_name(self):
        return self.properties['name'] or super().physical_resource_name()

    def intent_token(self):
        """The group's physical name is its token."""
        token = self.data_get(common.TOKEN_KEY)
        if token is not None:
            return token, False
        token = self.physical_resource_name()
        self.data_set(common.TOKEN_KEY, token)
        return token, True

    def create_object(self, token):
        return self.conn.compute.create_server_group(name=token,
                                                     policies=self.properties['policies'])

    def find_by_token(self, token):
        wanted = self.properties['policies'][:1]
        for group in self.conn.compute.server_groups():
            if group.name == token and policies_of(group)[:1] == wanted:
                return group
        return None

    def get_object(self, physical_id):
        return self.conn.compute.get_server_group(physical_id)

    def delete_object(self, physical_id):
        self.conn.compute.delete_server_group(physical_id)

    def drift(self, obj):
        if policies_of(obj)[:1] != self.properties['policies'][:1]:
            return ['policies are %r, expected %r' % (policies_of(obj),
                                                      self.properties['policies'])]
        return []
