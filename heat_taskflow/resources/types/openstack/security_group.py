"""OS::Neutron::SecurityGroup: a security group and its rules.

Supported subset of Heat's type — properties: name, description, rules (each: direction,
ethertype, port_range_min, port_range_max, protocol, remote_mode, remote_ip_prefix,
remote_group_id; a remote_group_id rule without an id refers to the group itself). All
update in place: an update makes the group's rules exactly the new list. No default egress
rules are added (simcloud does not make Neutron's defaults). No attributes besides show.
Check: the group exists and its rules are exactly the properties' rules.
"""

from heat_taskflow.resources import base
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common
from heat_taskflow.template import constraints as constr

RULE_KEYS = ('direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
             'remote_ip_prefix', 'remote_group_id')

RULE_SCHEMA = {
    'direction': Schema(Schema.STRING, 'The direction in which the security group rule is '
                        'applied.', default='ingress',
                        constraints=[constr.AllowedValues(['ingress', 'egress'])]),
    'ethertype': Schema(Schema.STRING, 'Ethertype of the traffic.', default='IPv4',
                        constraints=[constr.AllowedValues(['IPv4', 'IPv6'])]),
    'port_range_min': Schema(Schema.INTEGER, 'The minimum port number in the range.',
                             constraints=[constr.Range(0, 65535)]),
    'port_range_max': Schema(Schema.INTEGER, 'The maximum port number in the range.',
                             constraints=[constr.Range(0, 65535)]),
    'protocol': Schema(Schema.STRING, 'The protocol that is matched by the security group '
                       'rule (tcp, udp, icmp or a number).'),
    'remote_mode': Schema(Schema.STRING, 'Whether to specify a remote group or a remote IP '
                          'prefix.', default='remote_ip_prefix',
                          constraints=[constr.AllowedValues(['remote_ip_prefix',
                                                             'remote_group_id'])]),
    'remote_group_id': Schema(Schema.STRING, 'The remote group ID to be associated with this '
                              'security group rule; none means this group.'),
    'remote_ip_prefix': Schema(Schema.STRING, 'The remote IP prefix (CIDR) to be associated '
                               'with this security group rule.'),
}


class SecurityGroup(common.CloudResource):
    """A resource for managing Neutron security groups."""

    type_name = 'OS::Neutron::SecurityGroup'
    kind = 'security_groups'

    properties_schema = {
        'name': Schema(Schema.STRING, 'A string specifying a symbolic name for the security '
                       'group, which is not required to be unique.', update_allowed=True),
        'description': Schema(Schema.STRING, 'Description of the security group.',
                              update_allowed=True),
        'rules': Schema(Schema.LIST, 'List of security group rules.', default=[],
                        update_allowed=True, schema=Schema(Schema.MAP, schema=RULE_SCHEMA)),
    }

    def rules(self, group_id=None, action=base.CREATE):
        """The rules as the cloud takes them; rules on this group itself need its id."""
        out = []
        for rule in self.properties['rules'] or []:
            item = {k: rule.get(k) for k in RULE_KEYS if k != 'remote_group_id'}
            item['remote_group_id'] = None
            if rule.get('remote_mode') == 'remote_group_id':
                item['remote_ip_prefix'] = None
                if rule.get('remote_group_id'):
                    item['remote_group_id'] = self.resolve('security_groups',
                                                           rule['remote_group_id'], action)
                elif group_id is None:
                    continue
                else:
                    item['remote_group_id'] = group_id
            if item['protocol'] is not None:
                item['protocol'] = str(item['protocol']).lower()
            out.append(item)
        return out

    def _needs_self(self):
        return any(r.get('remote_mode') == 'remote_group_id' and not r.get('remote_group_id')
                   for r in self.properties['rules'] or [])

    def create_body(self):
        p = self.properties
        return {'name': p['name'] or self.physical_resource_name(),
                'description': p['description'] or '', 'rules': self.rules()}

    def handle_create(self):
        """Create with the rules that need no id of the group, then set them all."""
        cookie = super().handle_create()
        if self._needs_self():
            self._obj = self.call(base.CREATE, self.client.update, self.kind,
                                  self.physical_id, {'rules': self.rules(self.physical_id)})
        return cookie

    def update_body(self, prop_diff):
        body = {}
        if 'name' in prop_diff:
            body['name'] = self.properties['name'] or self.physical_resource_name()
        if 'description' in prop_diff:
            body['description'] = self.properties['description'] or ''
        if 'rules' in prop_diff:
            body['rules'] = self.rules(self.physical_id, base.UPDATE)
        return body

    def drift(self, obj):
        out = []
        p = self.properties
        if p['name'] is not None and obj.get('name') != p['name']:
            out.append('name is %r, expected %r' % (obj.get('name'), p['name']))
        key = lambda r: tuple(str(r.get(k)) for k in RULE_KEYS)  # noqa: E731
        actual = sorted(key(r) for r in obj.get('security_group_rules') or [])
        wanted = sorted({key(r) for r in self.rules(self.physical_id, base.CHECK)})
        if actual != wanted:
            out.append('rules are %d rule(s) that differ from the %d in the properties'
                       % (len(actual), len(wanted)))
        return out
