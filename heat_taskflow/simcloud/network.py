"""The Neutron kinds of the simulated cloud: networks, subnets, ports, routers, floating IPs,
security groups and their rules, with the checks Neutron makes (a port needs its network; a
network with ports cannot be deleted; a floating IP needs a router to the external network).
"""

import hashlib
import ipaddress
import json
import random

from heat_taskflow.simcloud import kinds
from heat_taskflow.simcloud.kinds import KINDS, ApiError, Kind, bad_request, conflict


def _mac(rand=random):
    return 'fa:16:3e:%02x:%02x:%02x' % (rand.randrange(256), rand.randrange(256),
                                        rand.randrange(256))



class Networks(Kind):
    name, label = 'networks', 'Network'
    create_fields = {'name': '', 'admin_state_up': True, 'shared': False,
                     'router:external': False, 'port_security_enabled': True, 'mtu': 1500,
                     'dns_domain': '', 'tags': [], 'provider:network_type': 'vxlan',
                     'provider:physical_network': None, 'provider:segmentation_id': None}
    update_fields = frozenset(create_fields) - {'provider:network_type'}

    def create(self, op, spec):
        body = super().create(op, spec)
        body.update(status='ACTIVE', tenant_id=op.project, project_id=op.project)
        return body

    def view(self, op, body):
        out = super().view(op, body)
        out['subnets'] = [s['id'] for s in op.tx.find('subnets', network_id=body['id'])]
        return out

    def delete(self, op, body):
        for kind in ('ports', 'subnets'):
            users = op.tx.find(kind, network_id=body['id'])
            users = [u for u in users if u.get('device_owner') != 'network:dhcp']
            if users:
                raise conflict('NetworkInUse', 'Unable to complete operation on network %s. '
                               'There are one or more %s in use on the network.'
                               % (body['id'], kind))


def _int(ip):
    return int(ipaddress.ip_address(ip))


class Subnets(Kind):
    name, label = 'subnets', 'Subnet'
    create_fields = {'name': '', 'network_id': None, 'cidr': None, 'ip_version': 4,
                     'gateway_ip': '', 'enable_dhcp': True, 'dns_nameservers': [],
                     'allocation_pools': None, 'host_routes': [], 'tags': [],
                     'ipv6_address_mode': None, 'ipv6_ra_mode': None}
    update_fields = frozenset(('name', 'gateway_ip', 'enable_dhcp', 'dns_nameservers',
                               'allocation_pools', 'host_routes', 'tags'))

    def create(self, op, spec):
        body = super().create(op, spec)
        op.require('networks', body['network_id'], status=400)
        try:
            net = ipaddress.ip_network(body['cidr'] or '', strict=False)
        except ValueError:
            raise bad_request('Invalid input for cidr: %r is not a valid CIDR' % body['cidr'])
        if net.version != int(body['ip_version']):
            raise bad_request('cidr %s is not an IPv%s network' % (net, body['ip_version']))
        if net.num_addresses < 4:
            raise bad_request('cidr %s is too small' % net)
        for other in op.tx.find('subnets', network_id=body['network_id']):
            if net.overlaps(ipaddress.ip_network(other['cidr'])):
                raise bad_request('Invalid input for operation: Requested subnet with cidr: '
                                  '%s for network: %s overlaps with another subnet.'
                                  % (net, body['network_id']))
        body['cidr'] = str(net)
        first = net.network_address + 1
        if body['gateway_ip'] == '':
            body['gateway_ip'] = str(first)
        if body['allocation_pools'] is None:
            last = net.broadcast_address - (1 if net.version == 4 else 0)
            start = first + 1 if body['gateway_ip'] == str(first) else first
            body['allocation_pools'] = [{'start': str(start), 'end': str(last)}]
        body['_used'] = []
        body.update(tenant_id=op.project, project_id=op.project, subnetpool_id=None)
        return body

    def delete(self, op, body):
        for port in op.tx.find('ports', network_id=body['network_id']):
            if any(ip['subnet_id'] == body['id'] for ip in port['fixed_ips']):
                raise conflict('SubnetInUse', 'Unable to complete operation on subnet %s: '
                               'One or more ports have an IP allocation from this subnet.'
                               % body['id'])
        for router in op.tx.find('routers'):
            gw = router.get('external_gateway_info') or {}
            if any(ip['subnet_id'] == body['id'] for ip in gw.get('external_fixed_ips', [])):
                raise conflict('SubnetInUse', 'Subnet %s is used by the gateway of router %s'
                               % (body['id'], router['id']))
        for fip in op.tx.find('floatingips', floating_network_id=body['network_id']):
            if fip['_subnet_id'] == body['id']:
                raise conflict('SubnetInUse', 'Subnet %s has floating IP %s allocated'
                               % (body['id'], fip['id']))

    @staticmethod
    def allocate(op, subnet, wanted=None):
        """An address of the subnet for a port (recorded as used); 409 when none is free."""
        used = set(subnet['_used'])
        net = ipaddress.ip_network(subnet['cidr'])
        if wanted:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise bad_request('Invalid IP address %r' % wanted)
            if addr not in net:
                raise bad_request('IP address %s is not a valid IP for the specified subnet'
                                  % wanted)
            if str(addr) in used or str(addr) == subnet['gateway_ip']:
                raise conflict('IpAddressAlreadyAllocated', 'IP address %s already allocated '
                               'in subnet %s' % (addr, subnet['id']))
            chosen = str(addr)
        else:
            chosen = None
            for pool in subnet['allocation_pools']:
                for value in range(_int(pool['start']), _int(pool['end']) + 1):
                    candidate = str(ipaddress.ip_address(value))
                    if candidate not in used and candidate != subnet['gateway_ip']:
                        chosen = candidate
                        break
                if chosen:
                    break
            if chosen is None:
                raise conflict('IpAddressGenerationFailure', 'No more IP addresses available '
                               'on network %s.' % subnet['network_id'])
        subnet['_used'] = sorted(used | {chosen})
        op.tx.update('subnets', subnet)
        return chosen

    @staticmethod
    def release(op, subnet_id, address):
        """Give an address back to its subnet (a subnet already gone is fine)."""
        subnet = op.tx.get('subnets', subnet_id)
        if subnet is not None and address in subnet['_used']:
            subnet['_used'] = [a for a in subnet['_used'] if a != address]
            op.tx.update('subnets', subnet)



def _allocate_fixed_ips(op, network_id, requested):
    """Fixed IPs for a port: each request names a subnet and/or an address."""
    subnets = op.tx.find('subnets', network_id=network_id)
    if not requested:
        requested = [{'subnet_id': subnets[0]['id']}] if subnets else []
    out = []
    for item in requested:
        subnet_id = item.get('subnet_id')
        address = item.get('ip_address')
        if subnet_id is None:
            if address is None:
                raise bad_request('a fixed IP needs a subnet_id or an ip_address')
            matches = [s for s in subnets
                       if ipaddress.ip_address(address) in ipaddress.ip_network(s['cidr'])]
            if not matches:
                raise bad_request('IP address %s is not in any subnet of network %s'
                                  % (address, network_id))
            subnet = matches[0]
        else:
            subnet = op.require('subnets', subnet_id, status=400)
            if subnet['network_id'] != network_id:
                raise bad_request('Subnet %s is not on network %s' % (subnet_id, network_id))
        out.append({'subnet_id': subnet['id'],
                    'ip_address': Subnets.allocate(op, subnet, address)})
    return out


def _release_fixed_ips(op, fixed_ips):
    for item in fixed_ips:
        Subnets.release(op, item['subnet_id'], item['ip_address'])


def security_group_ids(op, refs):
    ids = []
    for ref in refs or []:
        body = op.tx.get('security_groups', ref)
        if body is None:
            named = op.tx.find('security_groups', name=ref)
            if len(named) != 1:
                raise ApiError(404, 'SecurityGroupNotFound',
                               'Security group %s does not exist' % ref)
            body = named[0]
        ids.append(body['id'])
    return ids


class Ports(Kind):
    name, label = 'ports', 'Port'
    create_fields = {'name': '', 'network_id': None, 'fixed_ips': None, 'mac_address': None,
                     'admin_state_up': True, 'device_id': '', 'device_owner': '',
                     'security_groups': None, 'allowed_address_pairs': [],
                     'port_security_enabled': True, 'binding:vnic_type': 'normal',
                     'dns_name': '', 'tags': []}
    update_fields = frozenset(create_fields) - {'network_id', 'mac_address'}

    def create(self, op, spec):
        body = super().create(op, spec)
        op.require('networks', body['network_id'], status=400)
        if body['mac_address'] is None:
            body['mac_address'] = _mac()
        elif op.tx.find('ports', mac_address=body['mac_address']):
            raise conflict('MacAddressInUse', 'Unable to complete operation for network %s. '
                           'The mac address %s is in use.'
                           % (body['network_id'], body['mac_address']))
        body['security_groups'] = security_group_ids(op, body['security_groups'])
        body['fixed_ips'] = _allocate_fixed_ips(op, body['network_id'], body['fixed_ips'])
        body.update(tenant_id=op.project, project_id=op.project)
        return body

    def update(self, op, body, patch):
        patch = dict(patch)
        if 'security_groups' in patch:
            patch['security_groups'] = security_group_ids(op, patch['security_groups'])
        if 'fixed_ips' in patch:
            old = body['fixed_ips']
            wanted = patch['fixed_ips'] or []
            keep = [ip for ip in old if any(
                w.get('ip_address') == ip['ip_address'] or
                (w.get('ip_address') is None and w.get('subnet_id') == ip['subnet_id'])
                for w in wanted)]
            _release_fixed_ips(op, [ip for ip in old if ip not in keep])
            rest = [w for w in wanted if not any(
                w.get('ip_address') == ip['ip_address'] or
                (w.get('ip_address') is None and w.get('subnet_id') == ip['subnet_id'])
                for ip in keep)]
            patch['fixed_ips'] = keep + (_allocate_fixed_ips(op, body['network_id'], rest)
                                         if rest else [])
        return super().update(op, body, patch)

    def view(self, op, body):
        out = super().view(op, body)
        out['status'] = 'ACTIVE' if body.get('device_id') else 'DOWN'
        return out

    def delete(self, op, body):
        if body.get('device_owner') == 'network:router_interface':
            raise conflict('PortInUse', 'Port %s cannot be deleted directly via the port API: '
                           'has device owner network:router_interface.' % body['id'])
        for fip in op.tx.find('floatingips', port_id=body['id']):
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status='DOWN')
            op.tx.update('floatingips', fip)
        _release_fixed_ips(op, body['fixed_ips'])


class Routers(Kind):
    name, label = 'routers', 'Router'
    create_fields = {'name': '', 'admin_state_up': True, 'external_gateway_info': None,
                     'distributed': False, 'ha': False, 'tags': []}
    update_fields = frozenset(('name', 'admin_state_up', 'external_gateway_info', 'tags'))

    def _gateway(self, op, info, old=None):
        if old:
            _release_fixed_ips(op, old.get('external_fixed_ips') or [])
        if not info:
            return None
        net = op.require('networks', info.get('network_id'), status=400)
        if not net.get('router:external'):
            raise bad_request('Network %s is not an external network' % net['id'])
        requested = [{k: v for k, v in ip.items() if k in ('subnet_id', 'ip_address')}
                     for ip in info.get('external_fixed_ips') or []]
        return {'network_id': net['id'], 'enable_snat': info.get('enable_snat', True),
                'external_fixed_ips': _allocate_fixed_ips(op, net['id'], requested)}

    def create(self, op, spec):
        body = super().create(op, spec)
        body['external_gateway_info'] = self._gateway(op, body['external_gateway_info'])
        body.update(status='ACTIVE', tenant_id=op.project, project_id=op.project)
        return body

    def update(self, op, body, patch):
        patch = dict(patch)
        if 'external_gateway_info' in patch:
            if op.tx.find('floatingips', router_id=body['id']):
                raise conflict('RouterExternalGatewayInUseByFloatingIp',
                               'Gateway of router %s is used by floating IPs' % body['id'])
            patch['external_gateway_info'] = self._gateway(
                op, patch['external_gateway_info'], body.get('external_gateway_info'))
        return super().update(op, body, patch)

    def delete(self, op, body):
        if op.tx.find('router_interfaces', router_id=body['id']):
            raise conflict('RouterInUse', 'Router %s still has ports' % body['id'])
        if op.tx.find('floatingips', router_id=body['id']):
            raise conflict('RouterInUse', 'Router %s is used by floating IPs' % body['id'])
        gw = body.get('external_gateway_info') or {}
        _release_fixed_ips(op, gw.get('external_fixed_ips') or [])


class RouterInterfaces(Kind):
    name, label = 'router_interfaces', 'RouterInterface'
    create_fields = {'router_id': None, 'subnet_id': None, 'port_id': None}

    def create(self, op, spec):
        body = super().create(op, spec)
        router = op.require('routers', body['router_id'], status=400)
        if bool(body['subnet_id']) == bool(body['port_id']):
            raise bad_request('Either subnet_id or port_id must be specified, not both')
        if body['subnet_id']:
            subnet = op.require('subnets', body['subnet_id'], status=400)
            for iface in op.tx.find('router_interfaces', router_id=router['id']):
                port = op.tx.get('ports', iface['port_id']) or {'fixed_ips': []}
                if any(ip['subnet_id'] == subnet['id'] for ip in port['fixed_ips']):
                    raise bad_request('Router already has a port on subnet %s' % subnet['id'])
            if not subnet.get('gateway_ip'):
                raise bad_request('Subnet %s has no gateway IP' % subnet['id'])
            port = op.tx.insert('ports', {
                'name': '', 'network_id': subnet['network_id'], 'mac_address': _mac(),
                'admin_state_up': True, 'device_id': router['id'],
                'device_owner': 'network:router_interface', 'security_groups': [],
                'fixed_ips': [{'subnet_id': subnet['id'], 'ip_address': subnet['gateway_ip']}],
                'allowed_address_pairs': [], 'port_security_enabled': False,
                'binding:vnic_type': 'normal', 'dns_name': '', 'tags': [],
                'tenant_id': op.project, 'project_id': op.project},
                token=op.sub_token('port'), parent=router['id'])
            body['port_id'] = port['id']
            body['_owns_port'] = True
        else:
            port = op.require('ports', body['port_id'], status=400)
            if port.get('device_id'):
                raise conflict('PortInUse', 'Port %s is in use by %s'
                               % (port['id'], port['device_id']))
            if not port['fixed_ips']:
                raise bad_request('Port %s has no fixed IP' % port['id'])
            port.update(device_id=router['id'], device_owner='network:router_interface')
            op.tx.update('ports', port)
            body['subnet_id'] = port['fixed_ips'][0]['subnet_id']
            body['_owns_port'] = False
        body.update(tenant_id=op.project, project_id=op.project)
        return body

    def delete(self, op, body):
        port = op.tx.get('ports', body['port_id'])
        if port is None:
            return
        subnet_ids = {ip['subnet_id'] for ip in port['fixed_ips']}
        for fip in op.tx.find('floatingips', router_id=body['router_id']):
            inner = op.tx.get('ports', fip.get('port_id') or '')
            if inner and subnet_ids & {ip['subnet_id'] for ip in inner['fixed_ips']}:
                raise conflict('RouterInterfaceInUseByFloatingIP',
                               'Router interface for subnet %s on router %s cannot be deleted, '
                               'as it is required by one or more floating IPs.'
                               % (', '.join(sorted(subnet_ids)), body['router_id']))
        if body.get('_owns_port'):
            op.tx.delete('ports', port['id'])
        else:
            port.update(device_id='', device_owner='')
            op.tx.update('ports', port)


class FloatingIPs(Kind):
    name, label = 'floatingips', 'FloatingIP'
    create_fields = {'floating_network_id': None, 'port_id': None, 'fixed_ip_address': None,
                     'floating_ip_address': None, 'dns_name': '', 'dns_domain': '',
                     'description': ''}
    update_fields = frozenset(('port_id', 'fixed_ip_address', 'description'))

    def _associate(self, op, body):
        if not body.get('port_id'):
            body.update(port_id=None, fixed_ip_address=None, router_id=None, status='DOWN')
            return body
        port = op.require('ports', body['port_id'], status=400)
        if not port['fixed_ips']:
            raise bad_request('Port %s has no fixed IP' % port['id'])
        fixed = body.get('fixed_ip_address') or port['fixed_ips'][0]['ip_address']
        match = [ip for ip in port['fixed_ips'] if ip['ip_address'] == fixed]
        if not match:
            raise bad_request('Port %s does not have fixed IP %s' % (port['id'], fixed))
        router_id = None
        for router in op.tx.find('routers'):
            gw = router.get('external_gateway_info') or {}
            if gw.get('network_id') != body['floating_network_id']:
                continue
            for iface in op.tx.find('router_interfaces', router_id=router['id']):
                if iface['subnet_id'] == match[0]['subnet_id']:
                    router_id = router['id']
        if router_id is None:
            raise ApiError(404, 'ExternalGatewayForFloatingIPNotFound',
                           'External network %s is not reachable from subnet %s.'
                           % (body['floating_network_id'], match[0]['subnet_id']))
        body.update(fixed_ip_address=fixed, router_id=router_id, status='ACTIVE')
        return body

    def create(self, op, spec):
        body = super().create(op, spec)
        net = op.require('networks', body['floating_network_id'], status=400)
        if not net.get('router:external'):
            raise bad_request('Network %s is not a valid external network' % net['id'])
        subnets = op.tx.find('subnets', network_id=net['id'])
        if not subnets:
            raise bad_request('External network %s has no subnet' % net['id'])
        requested = [{'ip_address': body['floating_ip_address']}] \
            if body['floating_ip_address'] else [{'subnet_id': subnets[0]['id']}]
        allocated = _allocate_fixed_ips(op, net['id'], requested)[0]
        body['floating_ip_address'] = allocated['ip_address']
        body['_subnet_id'] = allocated['subnet_id']
        body.update(tenant_id=op.project, project_id=op.project)
        return self._associate(op, body)

    def update(self, op, body, patch):
        body = super().update(op, body, patch)
        if 'port_id' in patch and 'fixed_ip_address' not in patch:
            body['fixed_ip_address'] = None
        return self._associate(op, body)

    def delete(self, op, body):
        Subnets.release(op, body['_subnet_id'], body['floating_ip_address'])


RULE_FIELDS = {'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': None,
               'port_range_min': None, 'port_range_max': None, 'remote_ip_prefix': None,
               'remote_group_id': None, 'description': ''}


def rule_key(rule):
    """A stable key of what a rule allows (two rules with one key are duplicates)."""
    fields = {k: rule.get(k, RULE_FIELDS[k]) for k in RULE_FIELDS if k != 'description'}
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


class SecurityGroupRules(Kind):
    name, label = 'security_group_rules', 'SecurityGroupRule'
    create_fields = dict(RULE_FIELDS, security_group_id=None)

    def create(self, op, spec):
        body = super().create(op, spec)
        op.require('security_groups', body['security_group_id'], status=400)
        if body['direction'] not in ('ingress', 'egress'):
            raise bad_request('Invalid direction %r' % body['direction'])
        if body['ethertype'] not in ('IPv4', 'IPv6'):
            raise bad_request('Invalid ethertype %r' % body['ethertype'])
        lo, hi = body['port_range_min'], body['port_range_max']
        if lo is not None and hi is not None and lo > hi:
            raise bad_request('port_range_min %s is greater than port_range_max %s' % (lo, hi))
        key = rule_key(body)
        for other in op.tx.find('security_group_rules',
                                security_group_id=body['security_group_id']):
            if other['_key'] == key:
                raise conflict('SecurityGroupRuleExists',
                               'Security group rule already exists. Rule id is %s.'
                               % other['id'])
        body['_key'] = key
        body.update(tenant_id=op.project, project_id=op.project)
        return body


class SecurityGroups(Kind):
    """Security groups; ``rules`` on create or update sets the whole rule list at once."""

    name, label = 'security_groups', 'SecurityGroup'
    create_fields = {'name': '', 'description': '', 'rules': [], 'tags': []}
    update_fields = frozenset(('name', 'description', 'rules', 'tags'))

    def create(self, op, spec):
        body = super().create(op, spec)
        rules = body.pop('rules')
        body.update(tenant_id=op.project, project_id=op.project)
        body['_pending_rules'] = rules
        return body

    def after_insert(self, op, body):
        rules = body.pop('_pending_rules', [])
        op.tx.update('security_groups', body)
        self.set_rules(op, body, rules)

    def set_rules(self, op, body, rules):
        """Make the group's rules exactly ``rules`` (by key): delete the rest, add missing."""
        wanted = {}
        for rule in rules:
            unknown = sorted(set(rule) - set(RULE_FIELDS))
            if unknown:
                raise bad_request('unrecognised rule attribute(s) %s' % ', '.join(unknown))
            wanted.setdefault(rule_key(rule), rule)
        existing = {r['_key']: r for r in op.tx.find('security_group_rules',
                                                      security_group_id=body['id'])}
        for key, rule in existing.items():
            if key not in wanted:
                op.tx.delete('security_group_rules', rule['id'])
        kind = KINDS['security_group_rules']
        parent_token = op.tx.token_of('security_groups', body['id'])
        for key, rule in wanted.items():
            if key in existing:
                continue
            new = kind.create(op, dict(rule, security_group_id=body['id']))
            op.tx.insert('security_group_rules', new,
                         token=None if parent_token is None else '%s#rule-%s'
                         % (parent_token, key), parent=body['id'])

    def update(self, op, body, patch):
        patch = dict(patch)
        rules = patch.pop('rules', None)
        body = super().update(op, body, patch)
        if rules is not None:
            self.set_rules(op, body, rules)
        return body

    def view(self, op, body):
        out = super().view(op, body)
        kind = KINDS['security_group_rules']
        out['security_group_rules'] = [kind.view(op, r) for r in op.tx.find(
            'security_group_rules', security_group_id=body['id'])]
        return out

    def delete(self, op, body):
        for port in op.tx.find('ports'):
            if body['id'] in (port.get('security_groups') or []):
                raise conflict('SecurityGroupInUse', 'Security Group %s in use.' % body['id'])
        for rule in op.tx.find('security_group_rules', security_group_id=body['id']):
            op.tx.delete('security_group_rules', rule['id'])


kinds.register(Networks, Subnets, Ports, Routers, RouterInterfaces, FloatingIPs, SecurityGroups,
               SecurityGroupRules)
