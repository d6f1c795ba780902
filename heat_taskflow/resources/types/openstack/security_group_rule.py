"""OS::Neutron::SecurityGroupRule: one rule of a security group.

Heat's properties: security_group (required; name or id), description, direction,
ethertype, port_range_min, port_range_max, protocol (default tcp), remote_group (name or
id), remote_ip_prefix. Every change replaces the rule (Neutron cannot change one).

Intent token: none is carried; Neutron refuses a second identical rule in a group (409
``SecurityGroupRuleExists``). On that 409, and on a re-run, the rule is the identical one
among the group's rules (``GET /v2.0/security-group-rules?security_group_id=GROUP``), which
is adopted. Delete of a rule or group already gone succeeds.
"""

from openstack.network.v2 import security_group_rule as sdk_rule

from heat_taskflow.resources import cloud
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack import common, neutron, security_group
from heat_taskflow.template import constraints as constr

PROTOCOLS = ('ah', 'dccp', 'egp', 'esp', 'gre', 'icmp', 'icmpv6', 'igmp', 'ipip',
             'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route',
             'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp')
ICMP = ('icmp', 'icmpv6', 'ipv6-icmp')


class SecurityGroupRule(common.CloudResource):
    """A resource for managing Neutron security group rules."""

    type_name = 'OS::Neutron::SecurityGroupRule'
    kind = 'security group rule'

    properties_schema = {
        'security_group': Schema(Schema.STRING, 'Security group name or ID to add rule.',
                                 required=True),
        'description': Schema(Schema.STRING, 'Description of the security group rule.'),
        'direction': Schema(Schema.STRING, 'The direction in which the security group rule '
                            'is applied.', default='ingress',
                            constraints=[constr.AllowedValues(['ingress', 'egress'])]),
        'ethertype': Schema(Schema.STRING, 'Ethertype of the traffic.', default='IPv4',
                            constraints=[constr.AllowedValues(['IPv4', 'IPv6'])]),
        'port_range_min': Schema(Schema.INTEGER, 'The minimum port number in the range (the '
                                 'ICMP type for ICMP).', constraints=[constr.Range(0, 65535)]),
        'port_range_max': Schema(Schema.INTEGER, 'The maximum port number in the range (the '
                                 'ICMP code for ICMP).', constraints=[constr.Range(0, 65535)]),
        'protocol': Schema(Schema.STRING, 'The protocol that is matched by the security '
                           'group rule: a name or a number from 0 to 255.', default='tcp',
                           constraints=[constr.AllowedValues(
                               list(PROTOCOLS) + [str(n) for n in range(256)])]),
        'remote_group': Schema(Schema.STRING, 'The remote group name or ID to be associated '
                               'with this security group rule.'),
        'remote_ip_prefix': Schema(Schema.STRING, 'The remote IP prefix (CIDR) to be '
                                   'associated with this security group rule.'),
    }

    def validate(self, partial=False):
        """Not both remotes; a port range not upside down (but for ICMP type and code)."""
        super().validate(partial)
        p = self.properties.data
        if p.get('remote_group') is not None and p.get('remote_ip_prefix') is not None:
            raise self.invalid('remote_group', 'remote_group and remote_ip_prefix cannot '
                               'both be given')
        low, high = p.get('port_range_min'), p.get('port_range_max')
        if (isinstance(low, int) and isinstance(high, int) and high < low and
                p.get('protocol', 'tcp') not in ICMP):
            raise self.invalid('port_range_min', 'the minimum port number must be less than '
                               'or equal to the maximum port number')

    def _group_id(self):
        return common.lookup(self.conn, 'security_group', self.properties['security_group']).id

    def _rule(self):
        """The rule as security_group.rule_key and add_rule take it."""
        p = self.properties
        rule = {k: p[k] for k in ('direction', 'ethertype', 'protocol', 'port_range_min',
                                  'port_range_max', 'remote_ip_prefix', 'description')}
        rule['remote_group_id'] = (common.lookup(self.conn, 'security_group',
                                                 p['remote_group']).id
                                   if p['remote_group'] is not None else None)
        return rule

    def create_object(self, token):
        group = self._group_id()
        created = security_group.add_rule(self.conn, group, self._rule())
        if created is None:
            created = self._identical(group)
        if created is None:
            raise cloud.Conflict('Neutron refused the rule as a duplicate, but security group '
                                 '%s has no such rule' % group, 409, 'Conflict')
        return created

    def _identical(self, group):
        key = security_group.rule_key(self._rule())
        for rule in security_group.existing_rules(self.conn, group):
            if security_group.rule_key(rule) == key:
                return rule
        return None

    def find_by_token(self, token):
        try:
            return self._identical(self._group_id())
        except cloud.NotFound:
            return None

    def get_object(self, physical_id):
        return sdk_rule.SecurityGroupRule.new(id=physical_id).fetch(self.conn.network)

    def delete_object(self, physical_id):
        self.conn.network.delete_security_group_rule(physical_id)

    def show(self):
        return neutron.heat_fields(self.current())
