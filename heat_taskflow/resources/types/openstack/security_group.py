"""OS::Neutron::SecurityGroup: a security group and its rules.

Heat's properties: name, description, rules (each: direction, ethertype, port_range_min,
port_range_max, protocol, remote_mode, remote_ip_prefix, remote_group_id; a
remote_group_id rule without an id refers to the group itself). All update in place.

As Heat: the group is created, then its rules one by one (a rule Neutron already has, 409,
is fine). Neutron gives a new group two rules allowing all egress (IPv4 and IPv6); when the
rules include an egress rule those defaults are removed, otherwise they stay. An update
makes the group's rules exactly the new list plus, without an egress rule, the defaults
(Heat deletes every rule, restores the defaults and creates the new ones; converging on the
difference gives the same group without a window where it has no rules).

Intent token: a tag in the create body; a re-run finds the group with
``GET /v2.0/security-groups?tags=TOKEN`` and converges its rules.
Check: the group exists and its rules are exactly those the properties give.
"""

import ipaddress

from openstack import resource
from openstack.network.v2 import security_group as sdk_security_group

from heat_taskflow.resources import base, cloud
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import neutron
from heat_taskflow.template import constraints as constr

RULE_KEYS = ('direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
             'remote_ip_prefix', 'remote_group_id')
DEFAULT_EGRESS = ({'direction': 'egress', 'ethertype': 'IPv4'},
                  {'direction': 'egress', 'ethertype': 'IPv6'})

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


def _prefix(value):
    """A CIDR as Neutron stores it; an all-addresses prefix is the same as none."""
    if value is None:
        return None
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return value
    return None if net.prefixlen == 0 else str(net)


def rule_key(rule):
    """What makes two rules the same rule for Neutron (its 409 on a duplicate)."""
    if isinstance(rule, resource.Resource):     # a dict too, but of openstacksdk's names
        rule = neutron.heat_fields(rule)
    out = []
    for key in RULE_KEYS:
        value = rule.get(key)
        if key == 'remote_ip_prefix':
            value = _prefix(value)
        elif key == 'protocol' and value is not None:
            value = str(value).lower()
        elif key.startswith('port_range') and value is not None:
            value = int(value)
        out.append(value)
    return tuple(out)


def existing_rules(conn, group_id):
    """The rules of the group as Neutron lists them."""
    return list(conn.network.security_group_rules(security_group_id=group_id))


def add_rule(conn, group_id, rule):
    """Create a rule in the group; Neutron's 409 (it has the rule already) is success."""
    body = {k: v for k, v in zip(RULE_KEYS, rule_key(rule), strict=True) if v is not None}
    body['security_group_id'] = group_id
    if rule.get('description') is not None:
        body['description'] = rule['description']
    try:
        return cloud.call(conn.network.create_security_group_rule, **body)
    except cloud.Conflict:
        return None


class SecurityGroup(neutron.NeutronResource):
    """A resource for managing Neutron security groups."""

    type_name = 'OS::Neutron::SecurityGroup'
    kind = 'security group'
    sdk_class = sdk_security_group.SecurityGroup

    properties_schema = {
        'name': Schema(Schema.STRING, 'A string specifying a symbolic name for the security '
                       'group, which is not required to be unique.', update_allowed=True),
        'description': Schema(Schema.STRING, 'Description of the security group.',
                              update_allowed=True),
        'rules': Schema(Schema.LIST, 'List of security group rules.', default=[],
                        update_allowed=True, schema=Schema(Schema.MAP, schema=RULE_SCHEMA)),
    }

    def validate(self, partial=False):
        """Neutron's own group is called default: a template cannot make another."""
        super().validate(partial)
        if self.properties.data.get('name') == 'default':
            raise self.invalid('name', 'security groups cannot be assigned the name '
                               '"default"')

    def wanted_rules(self, group_id, action=base.CREATE):
        """The rules the group must have: the properties', with this group's id where a
        rule names no remote group, and Neutron's default egress rules unless one of the
        properties' rules is an egress rule."""
        out = []
        for rule in self.properties['rules'] or []:
            item = {k: rule.get(k) for k in RULE_KEYS}
            if rule.get('remote_mode') == 'remote_group_id':
                item['remote_ip_prefix'] = None
                item['remote_group_id'] = (
                    self.lookup('security_group', rule['remote_group_id'], action).id
                    if rule.get('remote_group_id') else group_id)
            else:
                item['remote_group_id'] = None
            out.append(item)
        if not any(r['direction'] == 'egress' for r in out):
            out.extend(dict(r) for r in DEFAULT_EGRESS)
        return out

    def converge_rules(self, group_id, action):
        """Delete the group's rules not wanted, then add the wanted ones it lacks."""
        wanted = self.wanted_rules(group_id, action)
        keys = {rule_key(r) for r in wanted}
        have = set()
        for rule in existing_rules(self.conn, group_id):
            if rule_key(rule) in keys:
                have.add(rule_key(rule))
                continue
            try:
                cloud.call(self.conn.network.delete_security_group_rule, rule.id)
            except cloud.NotFound:
                pass
        for rule in wanted:
            if rule_key(rule) not in have:
                add_rule(self.conn, group_id, rule)
                have.add(rule_key(rule))

    def create_object(self, token):
        p = self.properties
        return self.create_tagged({'name': p['name'] or self.physical_resource_name(),
                                   'description': p['description'] or ''}, token)

    def handle_create(self):
        """Create (or adopt) the group, then converge its rules."""
        cookie = super().handle_create()
        self.call(base.CREATE, self.converge_rules, self.physical_id, base.CREATE)
        self._obj = None
        return cookie

    def update_object(self, prop_diff):
        body = {}
        if 'name' in prop_diff:
            body['name'] = self.properties['name'] or self.physical_resource_name()
        if 'description' in prop_diff:
            body['description'] = self.properties['description'] or ''
        self.update_fields(body)
        if 'rules' in prop_diff:
            self.converge_rules(self.physical_id, base.UPDATE)

    def drift(self, obj):
        out = []
        p = self.properties
        if p['name'] is not None and obj.name != p['name']:
            out.append('name is %r, expected %r' % (obj.name, p['name']))
        actual = sorted(map(repr, map(rule_key, obj.security_group_rules or [])))
        wanted = sorted({repr(rule_key(r)) for r in self.wanted_rules(obj.id, base.CHECK)})
        if actual != wanted:
            out.append('rules are %d rule(s) that differ from the %d in the properties'
                       % (len(actual), len(wanted)))
        return out
