"""Neutron v2.0 of the simulated cloud, under ``/network``: the kinds and their routes.

Networks, subnets, ports, routers (with ``add_router_interface`` and
``remove_router_interface``: a router interface is a port of the router), floating IPs,
security groups and security group rules, with the bodies, filters, tags and errors
(``{"NeutronError": {"type", "message", "detail"}}``) of Neutron, and the checks it makes: a
subnet with allocated addresses cannot be deleted, nor a network with ports, nor a router with
interfaces; a floating IP needs a router from its port's subnet to its external network; an
identical security group rule is refused. Every cloud starts with the external network
``public`` (subnet 203.0.113.0/24) of the admin project, which every project sees.

Objects belong to the requester's project; another project does not see them (except shared
and external networks). A heat-taskflow intent token travels as a tag (``htf-...``) and is
what the audit records for the creation. Lists filtered by tag read the store's tag index.
"""

import hashlib
import ipaddress
import json
import random
import time

from heat_taskflow.simcloud import framework, identity, kinds
from heat_taskflow.simcloud.kinds import KINDS, ApiError, Kind

NETWORK = framework.NETWORK
PUBLIC = {'name': 'public', 'cidr': '203.0.113.0/24'}
TOKEN_PREFIX = 'htf-'
ROUTER_INTERFACE = 'network:router_interface'
# Query parameters of a list that are not attribute filters.
RESERVED = frozenset(('fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse',
                      'tags', 'tags-any', 'not-tags', 'not-tags-any', 'fixed_ips'))
TAG_FILTERS = {'tags': 'all', 'tags-any': 'any', 'not-tags': 'not_all',
               'not-tags-any': 'not_any'}
# Single-valued filters on string fields the store can apply itself.
STORE_FILTERS = frozenset(('network_id', 'device_id', 'security_group_id', 'name'))
EXTENSIONS = (
    ('standard-attr-tag', 'Tag support for resources with standard attribute'),
    ('tag-creation', 'Tag support for resources: tags on create'),
    ('standard-attr-description', 'standard-attr-description'),
    ('standard-attr-revisions', 'Resource revision numbers'),
    ('standard-attr-timestamp', 'Resource timestamps'),
    ('external-net', 'Neutron external network'),
    ('router', 'Neutron L3 Router'),
    ('ext-gw-mode', 'Neutron L3 Configurable external gateway mode'),
    ('security-group', 'security-group'),
    ('port-security', 'Port Security'),
    ('binding', 'Port Binding'),
    ('allowed-address-pairs', 'Allowed Address Pairs'),
    ('project-id', 'project_id field enabled'),
    ('provider', 'Provider Network'),
    ('net-mtu', 'Network MTU'),
    ('dns-integration', 'DNS Integration'),
)


# -- errors ----------------------------------------------------------------------------------


def bad_request(resource, message):
    """Neutron's ``BadRequest``: ``Bad RESOURCE request: MESSAGE.``"""
    return ApiError(400, 'BadRequest', 'Bad %s request: %s.' % (resource, message))


def invalid_input(message):
    return ApiError(400, 'InvalidInput', 'Invalid input for operation: %s.' % message)


def in_use(code, message):
    return ApiError(409, code, message)


# -- helpers ---------------------------------------------------------------------------------


def timestamp(now):
    """Neutron's ``2026-01-31T12:00:00Z``."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))


def intent_token(tags):
    """The heat-taskflow intent token among an object's tags, or None."""
    return next((t for t in tags or () if isinstance(t, str) and
                 t.startswith(TOKEN_PREFIX)), None)


def check_tags(tags):
    """The tags of a request, checked as Neutron does (strings of at most 255 characters)."""
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 255
                                             for t in tags):
        raise invalid_input("Invalid tags %r: a list of strings of 1 to 255 characters"
                            % (tags,))
    return list(dict.fromkeys(tags))


def _mac(rand=random):
    return 'fa:16:3e:%02x:%02x:%02x' % (rand.randrange(256), rand.randrange(256),
                                        rand.randrange(256))


def _int(ip):
    return int(ipaddress.ip_address(ip))


def _copy(value):
    return json.loads(json.dumps(value))


# -- the kinds -------------------------------------------------------------------------------


class NeutronKind(Kind):
    """A Neutron resource: its JSON names, fields, standard attributes and visibility.

    ``create_fields`` maps each field a create may carry to its default; ``update_fields``
    are the ones an update may change. Every object carries Neutron's standard attributes
    (``project_id``/``tenant_id`` of the requester, ``created_at``, ``updated_at``,
    ``revision_number``, ``description`` and, when ``has_tags``, ``tags``).
    """

    member = None          # the JSON key of one object ('network')
    path = None            # the URL segment of the collection ('security-groups')
    has_tags = True
    not_found_message = None  # Neutron's text, when not 'LABEL ID could not be found.'

    def over_quota(self, limit):
        return ApiError(409, 'OverQuota', "Quota exceeded for resources: ['%s']."
                        % self.member)

    def not_found(self, obj_id):
        message = self.not_found_message or '%s %%s could not be found.' % self.label
        return ApiError(404, '%sNotFound' % self.label, message % obj_id)

    def pick(self, spec, fields):
        allowed = set(fields) | {'project_id', 'tenant_id'} | ({'tags'} if self.has_tags else set())
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ApiError(400, 'HTTPBadRequest', 'Unrecognized attribute(s) %s'
                           % ', '.join("'%s'" % u for u in unknown))
        return {key: _copy(spec.get(key, default)) for key, default in fields.items()}

    def create(self, op, spec):
        body = self.pick(spec, self.create_fields)
        if self.has_tags:
            body['tags'] = check_tags(spec.get('tags', []))
        project = spec.get('project_id') or spec.get('tenant_id') or op.project
        now = timestamp(op.now)
        body.update(project_id=project, tenant_id=project, created_at=now, updated_at=now,
                    revision_number=0)
        return body

    def update(self, op, body, patch):
        bad = sorted(set(patch) - set(self.update_fields))
        if bad:
            raise ApiError(400, 'HTTPBadRequest', 'Cannot update read-only attribute(s) %s'
                           % ', '.join("'%s'" % b for b in bad))
        if 'tags' in patch:
            patch = dict(patch, tags=check_tags(patch['tags']))
        body.update(_copy(patch))
        return self.touch(op, body)

    def touch(self, op, body):
        """Mark a body changed: a new revision and ``updated_at``."""
        body['revision_number'] = body.get('revision_number', 0) + 1
        body['updated_at'] = timestamp(op.now)
        return body

    def before_list(self, op):
        """Make what Neutron makes when a project first lists the kind."""

    def visible(self, op, body):
        """Whether the requester sees the object (its own project's; None: everything)."""
        return op.project is None or body.get('project_id') in (None, op.project)

    def get(self, op, obj_id):
        """The stored body the requester may see, or None."""
        body = op.tx.get(self.name, obj_id) if obj_id else None
        return body if body is not None and self.visible(op, body) else None

    def require(self, op, obj_id, write=None):
        """The stored body, or this kind's 404; ``write`` names the policy rule of a change
        ('update_network'), which another project's object (a shared or external network)
        refuses with 403."""
        body = self.get(op, obj_id)
        if body is None:
            raise self.not_found(obj_id)
        if write and not NeutronKind.visible(self, op, body):
            raise ApiError(403, 'PolicyNotAuthorized', '(rule:%s) is disallowed by policy'
                           % write)
        return body


class Networks(NeutronKind):
    name, label, member, path = 'networks', 'Network', 'network', 'networks'
    create_fields = {'name': '', 'description': '', 'admin_state_up': True, 'shared': False,
                     'router:external': False, 'port_security_enabled': True, 'mtu': 1450,
                     'dns_domain': '', 'availability_zone_hints': [], 'qos_policy_id': None,
                     'is_default': False, 'provider:network_type': 'geneve',
                     'provider:physical_network': None, 'provider:segmentation_id': None}
    update_fields = frozenset(create_fields) - {'provider:network_type'} | {'tags'}

    def create(self, op, spec):
        body = super().create(op, spec)
        if body['provider:segmentation_id'] is None:
            body['provider:segmentation_id'] = random.randrange(1, 1 << 16)
        body.update(status='ACTIVE', availability_zones=['nova'], ipv4_address_scope=None,
                    ipv6_address_scope=None, l2_adjacency=True)
        return body

    def visible(self, op, body):
        return body.get('shared') or body.get('router:external') or super().visible(op, body)

    def view(self, op, body):
        out = super().view(op, body)
        out['subnets'] = [s['id'] for s in op.tx.find('subnets', network_id=body['id'])]
        return out

    def delete(self, op, body):
        busy = [p for p in op.tx.find('ports', network_id=body['id'])
                if p.get('device_owner') != 'network:dhcp']
        busy += op.tx.find('floatingips', floating_network_id=body['id'])
        busy += [r for r in op.tx.find('routers')
                 if (r.get('external_gateway_info') or {}).get('network_id') == body['id']]
        if busy:
            raise in_use('NetworkInUse', 'Unable to complete operation on network %s. There '
                         'are one or more ports still in use on the network.' % body['id'])
        for subnet in op.tx.find('subnets', network_id=body['id']):
            op.tx.delete('subnets', subnet['id'])

    def seed(self, op):
        """The external network ``public`` and its subnet, owned by the admin project."""
        if any(n.get('router:external') for n in op.tx.find('networks', name=PUBLIC['name'])):
            return
        seeder = _SeedOp(op, identity.PROJECTS['admin']['id'])
        net = op.tx.insert('networks', self.create(seeder, {
            'name': PUBLIC['name'], 'router:external': True, 'is_default': True,
            'provider:network_type': 'flat', 'provider:physical_network': 'public'}))
        op.tx.insert('subnets', KINDS['subnets'].create(seeder, {
            'name': 'public-subnet', 'network_id': net['id'], 'cidr': PUBLIC['cidr'],
            'enable_dhcp': False}))


class _SeedOp:
    """An Op acting for a project (the objects every cloud starts with)."""

    def __init__(self, op, project):
        self.tx, self.now, self.token = op.tx, op.now, None
        self.project = project


class Subnets(NeutronKind):
    name, label, member, path = 'subnets', 'Subnet', 'subnet', 'subnets'
    create_fields = {'name': '', 'description': '', 'network_id': None, 'cidr': None,
                     'ip_version': 4, 'gateway_ip': None, 'enable_dhcp': True,
                     'dns_nameservers': [], 'allocation_pools': None, 'host_routes': [],
                     'ipv6_address_mode': None, 'ipv6_ra_mode': None, 'segment_id': None,
                     'service_types': [], 'dns_publish_fixed_ip': False,
                     'subnetpool_id': None}
    update_fields = frozenset(('name', 'description', 'gateway_ip', 'enable_dhcp',
                               'dns_nameservers', 'allocation_pools', 'host_routes', 'tags',
                               'service_types', 'dns_publish_fixed_ip'))

    def create(self, op, spec):
        body = super().create(op, spec)
        KINDS['networks'].require(op, body['network_id'])
        try:
            net = ipaddress.ip_network(body['cidr'] or '', strict=False)
        except ValueError:
            raise invalid_input("'%s' is not a valid IP subnet" % body['cidr'])
        if net.version != int(body['ip_version']):
            raise invalid_input('Cidr %s does not match ip_version %s'
                                % (net, body['ip_version']))
        for other in op.tx.find('subnets', network_id=body['network_id']):
            if net.overlaps(ipaddress.ip_network(other['cidr'])):
                raise invalid_input('Requested subnet with cidr: %s for network: %s overlaps '
                                    'with another subnet' % (net, body['network_id']))
        body['cidr'] = str(net)
        first = net.network_address + 1
        if 'gateway_ip' not in spec:
            body['gateway_ip'] = str(first)
        if body['allocation_pools'] is None:
            last = net.broadcast_address - (1 if net.version == 4 else 0)
            start = first + 1 if body['gateway_ip'] == str(first) else first
            body['allocation_pools'] = [{'start': str(start), 'end': str(last)}]
        body['_used'] = []
        return body

    def delete(self, op, body):
        users = [p for p in op.tx.find('ports', network_id=body['network_id'])
                 if p.get('device_owner') != 'network:dhcp' and
                 any(ip['subnet_id'] == body['id'] for ip in p['fixed_ips'])]
        users += [f for f in op.tx.find('floatingips', floating_network_id=body['network_id'])
                  if f['_subnet_id'] == body['id']]
        users += [r for r in op.tx.find('routers') if any(
            ip['subnet_id'] == body['id']
            for ip in (r.get('external_gateway_info') or {}).get('external_fixed_ips', []))]
        if users:
            raise in_use('SubnetInUse', 'Unable to complete operation on subnet %s: One or more '
                         'ports have an IP allocation from this subnet.' % body['id'])

    @staticmethod
    def allocate(op, subnet, wanted=None):
        """An address of the subnet (recorded as used); 409 when none is free."""
        used = set(subnet['_used'])
        net = ipaddress.ip_network(subnet['cidr'])
        if wanted:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise invalid_input("'%s' is not a valid IP address" % wanted)
            if addr not in net:
                raise invalid_input('IP address %s is not a valid IP for the specified subnet.'
                                    % wanted)
            if str(addr) in used:
                raise in_use('IpAddressAlreadyAllocated', 'IP address %s already allocated in '
                             'subnet %s' % (addr, subnet['id']))
            chosen = str(addr)
        else:
            chosen = next(Subnets._free(subnet, used), None)
            if chosen is None:
                raise in_use('IpAddressGenerationFailure', 'No more IP addresses available on '
                             'network %s.' % subnet['network_id'])
        subnet['_used'] = sorted(used | {chosen})
        op.tx.update('subnets', subnet)
        return chosen

    @staticmethod
    def _free(subnet, used):
        for pool in subnet['allocation_pools']:
            for value in range(_int(pool['start']), _int(pool['end']) + 1):
                candidate = str(ipaddress.ip_address(value))
                if candidate not in used and candidate != subnet['gateway_ip']:
                    yield candidate

    @staticmethod
    def release(op, subnet_id, address):
        """Give an address back to its subnet (a subnet already gone is fine)."""
        subnet = op.tx.get('subnets', subnet_id)
        if subnet is not None and address in subnet['_used']:
            subnet['_used'] = [a for a in subnet['_used'] if a != address]
            op.tx.update('subnets', subnet)


def allocate_fixed_ips(op, network_id, requested):
    """Fixed IPs for a port: each request names a subnet and/or an address; none requested
    takes one address of the network's first IPv4 subnet (none when it has no subnet).

    An empty list is taken as none requested (Nova's ports ask so), not as "no address".
    """
    subnets = op.tx.find('subnets', network_id=network_id)
    if not requested:
        first = [s for s in subnets if s['ip_version'] == 4] or subnets
        requested = [{'subnet_id': first[0]['id']}] if first else []
    out = []
    for item in requested:
        subnet_id, address = item.get('subnet_id'), item.get('ip_address')
        if subnet_id is None:
            if address is None:
                raise invalid_input('Exception and IP address or subnet must be specified '
                                    'in a fixed IP')
            subnet = next((s for s in subnets if ipaddress.ip_address(address) in
                           ipaddress.ip_network(s['cidr'])), None)
            if subnet is None:
                raise invalid_input('IP address %s is not a valid IP for any subnet on '
                                    'network %s' % (address, network_id))
        else:
            subnet = op.tx.get('subnets', subnet_id)
            if subnet is None:
                raise KINDS['subnets'].not_found(subnet_id)
            if subnet['network_id'] != network_id:
                raise invalid_input('Failed to create port on network %s, because fixed_ips '
                                    'included invalid subnet %s' % (network_id, subnet_id))
        out.append({'subnet_id': subnet['id'],
                    'ip_address': Subnets.allocate(op, subnet, address)})
    return out


def release_fixed_ips(op, fixed_ips):
    for item in fixed_ips:
        Subnets.release(op, item['subnet_id'], item['ip_address'])


class Ports(NeutronKind):
    name, label, member, path = 'ports', 'Port', 'port', 'ports'
    create_fields = {'name': '', 'description': '', 'network_id': None, 'fixed_ips': None,
                     'mac_address': None, 'admin_state_up': True, 'device_id': '',
                     'device_owner': '', 'security_groups': None,
                     'allowed_address_pairs': [], 'port_security_enabled': None,
                     'binding:vnic_type': 'normal', 'binding:host_id': '',
                     'binding:profile': {}, 'dns_name': '', 'dns_domain': '',
                     'extra_dhcp_opts': [], 'qos_policy_id': None,
                     'propagate_uplink_status': False}
    update_fields = frozenset(create_fields) - {'network_id', 'mac_address'} | {'tags'}

    def create(self, op, spec):
        body = super().create(op, spec)
        net = KINDS['networks'].require(op, body['network_id'])
        if body['mac_address'] is None:
            body['mac_address'] = _mac()
        elif op.tx.find('ports', mac_address=body['mac_address']):
            raise in_use('MacAddressInUse', 'Unable to complete operation for network %s. '
                         'The mac address %s is in use.'
                         % (body['network_id'], body['mac_address']))
        if body['port_security_enabled'] is None:
            body['port_security_enabled'] = net.get('port_security_enabled', True)
        groups = KINDS['security_groups']
        if body['security_groups'] is not None:
            body['security_groups'] = groups.ids_of(op, body['security_groups'])
        elif body['port_security_enabled'] and not body['device_owner'].startswith('network:'):
            body['security_groups'] = [groups.default_of(op)['id']]
        else:
            body['security_groups'] = []
        body['fixed_ips'] = allocate_fixed_ips(op, body['network_id'], body['fixed_ips'])
        return body

    def update(self, op, body, patch):
        patch = dict(patch)
        if 'security_groups' in patch:
            groups = KINDS['security_groups']
            patch['security_groups'] = groups.ids_of(op, patch['security_groups'])
        if 'fixed_ips' in patch:
            patch['fixed_ips'] = self._new_fixed_ips(op, body, patch['fixed_ips'] or [])
        return super().update(op, body, patch)

    @staticmethod
    def _new_fixed_ips(op, body, wanted):
        def same(want, ip):
            return want.get('ip_address') == ip['ip_address'] or (
                want.get('ip_address') is None and want.get('subnet_id') == ip['subnet_id'])
        keep = [ip for ip in body['fixed_ips'] if any(same(w, ip) for w in wanted)]
        release_fixed_ips(op, [ip for ip in body['fixed_ips'] if ip not in keep])
        rest = [w for w in wanted if not any(same(w, ip) for ip in keep)]
        return keep + (allocate_fixed_ips(op, body['network_id'], rest) if rest else [])

    def view(self, op, body):
        out = super().view(op, body)
        bound = bool(body.get('device_id'))
        out.update(status='ACTIVE' if bound else 'DOWN',
                   **{'binding:vif_type': 'ovs' if bound else 'unbound',
                      'binding:vif_details': {}})
        out['dns_assignment'] = [{'ip_address': ip['ip_address'], 'hostname': 'host-%s'
                                  % ip['ip_address'].replace('.', '-').replace(':', '-'),
                                  'fqdn': ''} for ip in body['fixed_ips']]
        return out

    def delete(self, op, body):
        # Neutron refuses while the router exists; a port its router left behind can go.
        if (body.get('device_owner') == ROUTER_INTERFACE
                and op.tx.get('routers', body.get('device_id') or '') is not None):
            raise in_use('ServicePortInUse', 'Port %s cannot be deleted directly via the port '
                         'API: has device owner %s.' % (body['id'], ROUTER_INTERFACE))
        for fip in op.tx.find('floatingips', port_id=body['id']):
            KINDS['floatingips'].disassociate(op, fip)
            op.tx.update('floatingips', fip)
        release_fixed_ips(op, body['fixed_ips'])


class Routers(NeutronKind):
    name, label, member, path = 'routers', 'Router', 'router', 'routers'
    create_fields = {'name': '', 'description': '', 'admin_state_up': True,
                     'external_gateway_info': None, 'distributed': False, 'ha': False,
                     'availability_zone_hints': [], 'flavor_id': None, 'routes': []}
    update_fields = frozenset(('name', 'description', 'admin_state_up',
                               'external_gateway_info', 'routes', 'tags'))

    def create(self, op, spec):
        body = super().create(op, spec)
        body['external_gateway_info'] = self._gateway(op, body, body['external_gateway_info'])
        body.update(status='ACTIVE', availability_zones=['nova'])
        return body

    def _gateway(self, op, router, info, old=None):
        if old:
            release_fixed_ips(op, old.get('external_fixed_ips') or [])
        if not info:
            return None
        net = KINDS['networks'].require(op, info.get('network_id'))
        if not net.get('router:external'):
            raise bad_request('router', 'Network %s is not an external network' % net['id'])
        requested = [{k: v for k, v in ip.items() if k in ('subnet_id', 'ip_address')}
                     for ip in info.get('external_fixed_ips') or []] or None
        return {'network_id': net['id'], 'enable_snat': info.get('enable_snat', True),
                'external_fixed_ips': allocate_fixed_ips(op, net['id'], requested)}

    def update(self, op, body, patch):
        patch = dict(patch)
        if 'external_gateway_info' in patch:
            info = patch['external_gateway_info'] or {}
            old = body.get('external_gateway_info') or {}
            fips = op.tx.find('floatingips', router_id=body['id'])
            if fips and info.get('network_id') != old.get('network_id'):
                raise in_use('RouterExternalGatewayInUseByFloatingIp', 'Gateway %s of router '
                             '%s is used by Floating IP %s.'
                             % (old.get('network_id'), body['id'], fips[0]['id']))
            patch['external_gateway_info'] = self._gateway(op, body, info, old)
        return super().update(op, body, patch)

    def interfaces(self, op, router_id):
        """The router's interface ports."""
        return [p for p in op.tx.find('ports', device_id=router_id)
                if p.get('device_owner') == ROUTER_INTERFACE]

    def delete(self, op, body):
        if self.interfaces(op, body['id']):
            raise in_use('RouterInUse', 'Router %s still has ports' % body['id'])
        gw = body.get('external_gateway_info') or {}
        release_fixed_ips(op, gw.get('external_fixed_ips') or [])

    def add_interface(self, op, router, spec):
        """``add_router_interface``: a new port on the subnet, or the given port."""
        subnet_id, port_id = spec.get('subnet_id'), spec.get('port_id')
        if subnet_id and port_id:
            raise bad_request('router', 'Cannot specify both subnet-id and port-id')
        if not subnet_id and not port_id:
            raise bad_request('router', 'Either subnet_id or port_id must be specified')
        if port_id:
            port = KINDS['ports'].require(op, port_id)
            if port.get('device_id'):
                raise in_use('PortInUse', 'Unable to complete operation on port %s for network '
                             '%s. Port already has an attached device %s.'
                             % (port['id'], port['network_id'], port['device_id']))
            if not port['fixed_ips']:
                raise bad_request('router', 'Router port must have at least one fixed IP')
            subnets = [op.tx.get('subnets', ip['subnet_id']) for ip in port['fixed_ips']]
        else:
            subnets = [KINDS['subnets'].require(op, subnet_id)]
            if not subnets[0].get('gateway_ip'):
                raise bad_request('router', 'Subnet for router interface must have a gateway '
                                  'IP')
        self._check_subnets(op, router, subnets)
        if port_id:
            port.update(device_id=router['id'], device_owner=ROUTER_INTERFACE)
            op.tx.update('ports', KINDS['ports'].touch(op, port))
        else:
            port = self._interface_port(op, router, subnets[0])
        return self.interface_info(router, port)

    def _check_subnets(self, op, router, subnets):
        for port in self.interfaces(op, router['id']):
            for ip in port['fixed_ips']:
                theirs = op.tx.get('subnets', ip['subnet_id'])
                for subnet in subnets:
                    if theirs is None:
                        continue
                    if theirs['id'] == subnet['id']:
                        raise bad_request('router', 'Router already has a port on subnet %s'
                                          % subnet['id'])
                    if ipaddress.ip_network(theirs['cidr']).overlaps(
                            ipaddress.ip_network(subnet['cidr'])):
                        raise bad_request('router', 'Cidr %s of subnet %s overlaps with cidr '
                                          '%s of subnet %s' % (subnet['cidr'], subnet['id'],
                                                               theirs['cidr'], theirs['id']))

    def _interface_port(self, op, router, subnet):
        port = KINDS['ports'].create(op, {
            'network_id': subnet['network_id'], 'device_id': router['id'],
            'device_owner': ROUTER_INTERFACE, 'project_id': router['project_id'],
            'fixed_ips': [{'subnet_id': subnet['id'], 'ip_address': subnet['gateway_ip']}]})
        return op.tx.insert('ports', port, parent=router['id'])

    def remove_interface(self, op, router, spec):
        """``remove_router_interface``: the interface port (by subnet or port) is deleted."""
        subnet_id, port_id = spec.get('subnet_id'), spec.get('port_id')
        if not subnet_id and not port_id:
            raise bad_request('router', 'Either subnet_id or port_id must be specified')
        ports = self.interfaces(op, router['id'])
        if port_id:
            port = next((p for p in ports if p['id'] == port_id), None)
            if port is None:
                raise ApiError(404, 'RouterInterfaceNotFound', 'Router %s does not have an '
                               'interface with id %s' % (router['id'], port_id))
        else:
            port = next((p for p in ports if any(ip['subnet_id'] == subnet_id
                                                 for ip in p['fixed_ips'])), None)
            if port is None:
                raise ApiError(404, 'RouterInterfaceNotFoundForSubnet', 'Router %s has no '
                               'interface on subnet %s' % (router['id'], subnet_id))
        self._check_unused_by_floating_ips(op, router, port)
        release_fixed_ips(op, port['fixed_ips'])
        op.tx.delete('ports', port['id'])
        return self.interface_info(router, port)

    def _check_unused_by_floating_ips(self, op, router, port):
        subnet_ids = {ip['subnet_id'] for ip in port['fixed_ips']}
        for fip in op.tx.find('floatingips', router_id=router['id']):
            inner = op.tx.get('ports', fip.get('port_id') or '')
            if inner and subnet_ids & {ip['subnet_id'] for ip in inner['fixed_ips']}:
                raise in_use('RouterInterfaceInUseByFloatingIP', 'Router interface for subnet '
                             '%s on router %s cannot be deleted, as it is required by one or '
                             'more floating IPs.' % (', '.join(sorted(subnet_ids)),
                                                     router['id']))

    @staticmethod
    def interface_info(router, port):
        """Neutron's answer to add/remove_router_interface."""
        subnet_ids = [ip['subnet_id'] for ip in port['fixed_ips']]
        return {'id': router['id'], 'tenant_id': router['tenant_id'],
                'project_id': router['project_id'], 'port_id': port['id'],
                'network_id': port['network_id'], 'subnet_id': subnet_ids[0],
                'subnet_ids': subnet_ids}


class FloatingIPs(NeutronKind):
    name, label, member, path = 'floatingips', 'FloatingIP', 'floatingip', 'floatingips'
    not_found_message = 'Floating IP %s could not be found'
    create_fields = {'floating_network_id': None, 'port_id': None, 'fixed_ip_address': None,
                     'floating_ip_address': None, 'subnet_id': None, 'dns_name': '',
                     'dns_domain': '', 'description': '', 'qos_policy_id': None}
    update_fields = frozenset(('port_id', 'fixed_ip_address', 'description', 'tags',
                               'qos_policy_id'))

    def create(self, op, spec):
        body = super().create(op, spec)
        net = KINDS['networks'].require(op, body['floating_network_id'])
        if not net.get('router:external'):
            raise bad_request('floatingip', 'Network %s is not a valid external network'
                              % net['id'])
        subnet_id, address = body.pop('subnet_id'), body.pop('floating_ip_address')
        requested = [{k: v for k, v in (('subnet_id', subnet_id), ('ip_address', address))
                      if v}] if subnet_id or address else None
        allocated = allocate_fixed_ips(op, net['id'], requested)
        if not allocated:
            raise bad_request('floatingip', 'Network %s has no subnet' % net['id'])
        allocated = allocated[0]
        body.update(floating_ip_address=allocated['ip_address'],
                    _subnet_id=allocated['subnet_id'], router_id=None, status='DOWN',
                    port_details=None)
        return self._associate(op, body)

    def update(self, op, body, patch):
        body = super().update(op, body, patch)
        if 'port_id' in patch and 'fixed_ip_address' not in patch:
            body['fixed_ip_address'] = None
        return self._associate(op, body)

    def disassociate(self, op, body):
        body.update(port_id=None, fixed_ip_address=None, router_id=None, status='DOWN',
                    port_details=None)
        return self.touch(op, body)

    def _associate(self, op, body):
        if not body.get('port_id'):
            return self.disassociate(op, body)
        port = KINDS['ports'].require(op, body['port_id'])
        fixed = body.get('fixed_ip_address')
        match = [ip for ip in port['fixed_ips'] if fixed in (None, ip['ip_address'])
                 and ipaddress.ip_address(ip['ip_address']).version == 4]
        if not match:
            raise bad_request('floatingip', 'Port %s does not have fixed ip %s'
                              % (port['id'], fixed) if fixed else
                              'No IPv4 addresses found on port %s' % port['id'])
        fixed, subnet_id = match[0]['ip_address'], match[0]['subnet_id']
        for other in op.tx.find('floatingips', port_id=port['id']):
            if other['id'] != body.get('id') and other['fixed_ip_address'] == fixed:
                raise in_use('FloatingIPPortAlreadyAssociated', 'Cannot associate floating IP '
                             '%s (%s) with port %s using fixed IP %s, as that fixed IP already '
                             'has a floating IP on external network %s.'
                             % (body['floating_ip_address'], body.get('id'), port['id'],
                                fixed, other['floating_network_id']))
        router_id = self._router_between(op, body['floating_network_id'], subnet_id)
        if router_id is None:
            raise ApiError(404, 'ExternalGatewayForFloatingIPNotFound', 'External network %s '
                           'is not reachable from subnet %s.  Therefore, cannot associate '
                           'Port %s with a Floating IP.'
                           % (body['floating_network_id'], subnet_id, port['id']))
        body.update(fixed_ip_address=fixed, router_id=router_id, status='ACTIVE',
                    port_details={'name': port['name'], 'network_id': port['network_id'],
                                  'mac_address': port['mac_address'],
                                  'admin_state_up': port['admin_state_up'],
                                  'device_id': port['device_id'],
                                  'device_owner': port['device_owner'], 'status': 'ACTIVE'})
        return body

    @staticmethod
    def _router_between(op, external_network_id, subnet_id):
        """A router with a gateway on the external network and an interface on the subnet."""
        for port in op.tx.find('ports', device_owner=ROUTER_INTERFACE):
            if not any(ip['subnet_id'] == subnet_id for ip in port['fixed_ips']):
                continue
            router = op.tx.get('routers', port['device_id']) or {}
            gw = router.get('external_gateway_info') or {}
            if gw.get('network_id') == external_network_id:
                return router['id']
        return None

    def delete(self, op, body):
        Subnets.release(op, body['_subnet_id'], body['floating_ip_address'])


RULE_FIELDS = {'direction': None, 'ethertype': 'IPv4', 'protocol': None,
               'port_range_min': None, 'port_range_max': None, 'remote_ip_prefix': None,
               'remote_group_id': None, 'remote_address_group_id': None, 'description': ''}
PROTOCOL_NUMBERS = {'icmp': '1', 'tcp': '6', 'udp': '17', 'ipv6-icmp': '58', 'icmpv6': '58'}


def rule_key(rule):
    """What a rule allows, normalised (two rules with one key are duplicates, as in Neutron)."""
    fields = {k: rule.get(k) for k in RULE_FIELDS if k != 'description'}
    protocol = fields['protocol']
    if protocol is not None:
        fields['protocol'] = PROTOCOL_NUMBERS.get(str(protocol).lower(), str(protocol))
    fields['security_group_id'] = rule['security_group_id']
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


class SecurityGroupRules(NeutronKind):
    name, label = 'security_group_rules', 'SecurityGroupRule'
    member, path = 'security_group_rule', 'security-group-rules'
    has_tags = False
    not_found_message = 'Security group rule %s does not exist'
    create_fields = dict(RULE_FIELDS, security_group_id=None)

    def create(self, op, spec):
        body = super().create(op, spec)
        KINDS['security_groups'].require(op, body['security_group_id'])
        self._check(body)
        if body['remote_ip_prefix']:
            body['remote_ip_prefix'] = str(ipaddress.ip_network(body['remote_ip_prefix'],
                                                                strict=False))
        body['normalized_cidr'] = body['remote_ip_prefix']
        key = rule_key(body)
        for other in op.tx.find('security_group_rules',
                                security_group_id=body['security_group_id']):
            if other['_key'] == key:
                raise in_use('SecurityGroupRuleExists', 'Security group rule already exists. '
                             'Rule id is %s.' % other['id'])
        body['_key'] = key
        return body

    @staticmethod
    def _check(body):
        if body['direction'] not in ('ingress', 'egress'):
            raise invalid_input("Invalid input for direction. Reason: %r is not in "
                                "['ingress', 'egress']" % body['direction'])
        if body['ethertype'] not in ('IPv4', 'IPv6'):
            raise ApiError(400, 'SecurityGroupRuleInvalidEtherType', 'Security group rule for '
                           'ethertype %r not supported. Allowed values are IPv4, IPv6.'
                           % body['ethertype'])
        if body['remote_ip_prefix'] and body['remote_group_id']:
            raise ApiError(400, 'SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only '
                           'remote_ip_prefix or remote_group_id may be provided.')
        lo, hi = body['port_range_min'], body['port_range_max']
        if (lo is not None or hi is not None) and body['protocol'] is None:
            raise ApiError(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify '
                           'protocol if port range is given.')
        if str(body['protocol']).lower() in ('tcp', 'udp', '6', '17') and \
                lo is not None and hi is not None and lo > hi:
            raise ApiError(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, '
                           'port_range_min must be <= port_range_max')
        if body['remote_ip_prefix']:
            try:
                ipaddress.ip_network(body['remote_ip_prefix'], strict=False)
            except ValueError:
                raise invalid_input("'%s' is not a valid IP subnet" % body['remote_ip_prefix'])


class SecurityGroups(NeutronKind):
    name, label = 'security_groups', 'SecurityGroup'
    member, path = 'security_group', 'security-groups'
    not_found_message = 'Security group %s does not exist'
    create_fields = {'name': '', 'description': '', 'stateful': True}
    update_fields = frozenset(('name', 'description', 'stateful', 'tags'))

    def create(self, op, spec):
        body = super().create(op, spec)
        body['shared'] = False
        return body

    def after_insert(self, op, body):
        self._add_rules(op, body, [{'direction': 'egress', 'ethertype': e}
                                   for e in ('IPv4', 'IPv6')])

    def _add_rules(self, op, body, rules):
        kind = KINDS['security_group_rules']
        for rule in rules:
            spec = dict(rule, security_group_id=body['id'], project_id=body['project_id'])
            op.tx.insert('security_group_rules', kind.create(op, spec), parent=body['id'])

    def ids_of(self, op, refs):
        """The ids of security groups given by id or by name (Nova's ``security_groups``)."""
        ids = []
        for ref in refs or []:
            ref = ref.get('name') if isinstance(ref, dict) else ref
            if ref == 'default' and op.project is not None:
                ids.append(self.default_of(op)['id'])
                continue
            body = self.get(op, ref)
            if body is None:
                named = [g for g in op.tx.find('security_groups', name=ref)
                         if self.visible(op, g)]
                if len(named) != 1:
                    raise self.not_found(ref)
                body = named[0]
            ids.append(body['id'])
        return ids

    def seed(self, op):
        """Every project's ``default`` group (Neutron makes it on the project's first call)."""
        for project in identity.PROJECTS.values():
            self.default_of(_SeedOp(op, project['id']))

    def before_list(self, op):
        if op.project is not None:
            self.default_of(op)

    def default_of(self, op):
        """The project's ``default`` group, made (as Neutron does) on first need."""
        for group in op.tx.find('security_groups', name='default'):
            if group['project_id'] == op.project:
                return group
        body = op.tx.insert('security_groups', self.create(op, {
            'name': 'default', 'description': 'Default security group'}))
        self.after_insert(op, body)
        self._add_rules(op, body, [{'direction': 'ingress', 'ethertype': e,
                                    'remote_group_id': body['id']} for e in ('IPv4', 'IPv6')])
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
                raise in_use('SecurityGroupInUse', 'Security Group %s in use.' % body['id'])
        for rule in op.tx.find('security_group_rules', security_group_id=body['id']):
            op.tx.delete('security_group_rules', rule['id'])


for _cls in (Networks, Subnets, Ports, Routers, FloatingIPs, SecurityGroups,
             SecurityGroupRules):
    kinds.register(_cls)
NEUTRON_KINDS = [KINDS[name] for name in ('networks', 'subnets', 'ports', 'routers',
                                          'floatingips', 'security_groups',
                                          'security_group_rules')]


# -- lists -----------------------------------------------------------------------------------


def _values(query_all, key):
    """The tags of a tag filter: repeated parameters and comma-separated lists."""
    out = []
    for value in query_all.get(key, ()):
        out.extend(v for v in value.split(',') if v)
    return out


def _matches(value, wanted):
    if isinstance(value, bool):
        return str(value).lower() in {w.lower() for w in wanted}
    if isinstance(value, list):
        return any(str(v) in wanted for v in value)
    return ('' if value is None else str(value)) in wanted


def _fixed_ips_match(body, conditions):
    wanted = {}
    for condition in conditions:
        key, _, value = condition.partition('=')
        wanted.setdefault(key, set()).add(value)
    return any(all(ip.get(key) in values for key, values in wanted.items())
               for ip in body.get('fixed_ips') or [])


def list_objects(op, kind, query_all):
    """The objects of a kind the requester sees that pass Neutron's list filters."""
    tagged = {how: _values(query_all, key) for key, how in TAG_FILTERS.items()
              if _values(query_all, key)}
    pushed = {key: values[0] for key, values in query_all.items()
              if key in STORE_FILTERS and len(values) == 1}
    kind.before_list(op)
    bodies = op.tx.find(kind.name, tagged=tagged, **pushed)
    filters = {key: set(values) for key, values in query_all.items()
               if key not in RESERVED and key not in pushed}
    out = []
    for body in bodies:
        if not kind.visible(op, body):
            continue
        if 'fixed_ips' in query_all and not _fixed_ips_match(body, query_all['fixed_ips']):
            continue
        view = kind.view(op, body)
        if all(key not in view or _matches(view[key], wanted)
               for key, wanted in filters.items()):
            out.append(view)
    return _page(out, query_all)


def _page(views, query_all):
    marker = (query_all.get('marker') or [None])[-1]
    if marker is not None:
        ids = [v['id'] for v in views]
        views = views[ids.index(marker) + 1:] if marker in ids else []
    limit = (query_all.get('limit') or [None])[-1]
    if limit not in (None, '', '0'):
        views = views[:int(limit)]
    return views


def only_fields(view, query_all):
    """A view cut to the ``fields`` asked for (all of it when none are)."""
    fields = query_all.get('fields')
    return {k: v for k, v in view.items() if k in fields} if fields else view


# -- routes ----------------------------------------------------------------------------------


def _tag_action(kind, obj_id, change):
    """An action: apply ``change(tags)`` -> new tags to an object, return the new tags."""
    def action(op):
        body = kind.require(op, obj_id, write='update_' + kind.member)
        tags = change(list(body.get('tags') or []))
        if tags != body.get('tags'):
            body['tags'] = tags
            op.tx.update(kind.name, kind.touch(op, body))
        return tags
    return action


def _route_collection(kind):
    base = '/v2.0/' + kind.path

    @NETWORK.route('GET', base)
    def list_(req):
        views = req.call(kind.name, 'list', lambda op: list_objects(op, kind, req.query_all))
        return 200, {kind.name: [only_fields(v, req.query_all) for v in views]}

    @NETWORK.route('POST', base)
    def create(req):
        spec = req.json_body(kind.member)
        token = intent_token(spec.get('tags')) if kind.has_tags else None

        def action(op):
            return kind.view(op, kinds.create_object(op, kind.name, spec))
        return 201, {kind.member: req.call(kind.name, 'create', action, token=token)}

    @NETWORK.route('GET', base + '/{obj_id}')
    def show(req):
        view = req.call(kind.name, 'get', lambda op: kind.view(
            op, kind.require(op, req.params['obj_id'])))
        return 200, {kind.member: only_fields(view, req.query_all)}

    @NETWORK.route('PUT', base + '/{obj_id}')
    def update(req):
        patch = req.json_body(kind.member)

        def action(op):
            body = kind.require(op, req.params['obj_id'], write='update_' + kind.member)
            body = kind.update(op, body, patch)
            return kind.view(op, op.tx.update(kind.name, body))
        return 200, {kind.member: req.call(kind.name, 'update', action)}

    @NETWORK.route('DELETE', base + '/{obj_id}')
    def delete(req):
        def action(op):
            body = kind.require(op, req.params['obj_id'], write='delete_' + kind.member)
            kind.delete(op, body)
            op.tx.delete(kind.name, body['id'])
        req.call(kind.name, 'delete', action)
        return 204, None

    if kind.has_tags:
        _route_tags(kind, base + '/{obj_id}/tags')


def _route_tags(kind, base):
    @NETWORK.route('GET', base)
    def get_tags(req):
        body = req.call(kind.name, 'get', lambda op: kind.require(op, req.params['obj_id']))
        return 200, {'tags': body.get('tags') or []}

    @NETWORK.route('PUT', base)
    def replace_tags(req):
        tags = check_tags(req.json_body().get('tags'))
        return 200, {'tags': req.call(kind.name, 'update', _tag_action(
            kind, req.params['obj_id'], lambda old: tags))}

    @NETWORK.route('DELETE', base)
    def clear_tags(req):
        req.call(kind.name, 'update', _tag_action(kind, req.params['obj_id'], lambda old: []))
        return 204, None

    @NETWORK.route('GET', base + '/{tag}')
    def check_tag(req):
        body = req.call(kind.name, 'get', lambda op: kind.require(op, req.params['obj_id']))
        if req.params['tag'] not in (body.get('tags') or []):
            raise _tag_not_found(kind, req.params)
        return 204, None

    @NETWORK.route('PUT', base + '/{tag}')
    def add_tag(req):
        tag = check_tags([req.params['tag']])[0]
        req.call(kind.name, 'update', _tag_action(
            kind, req.params['obj_id'], lambda old: old if tag in old else old + [tag]))
        return 201, None

    @NETWORK.route('DELETE', base + '/{tag}')
    def remove_tag(req):
        tag = req.params['tag']

        def remove(old):
            if tag not in old:
                raise _tag_not_found(kind, req.params)
            return [t for t in old if t != tag]
        req.call(kind.name, 'update', _tag_action(kind, req.params['obj_id'], remove))
        return 204, None


def _tag_not_found(kind, params):
    return ApiError(404, 'TagNotFound', 'Tag %s could not be found for %s %s.'
                    % (params['tag'], kind.member, params['obj_id']))


for _kind in NEUTRON_KINDS:
    _route_collection(_kind)


@NETWORK.route('PUT', '/v2.0/routers/{obj_id}/add_router_interface')
def add_router_interface(req):
    spec = req.json_body()
    routers = KINDS['routers']

    def action(op):
        router = routers.require(op, req.params['obj_id'], write='add_router_interface')
        return routers.add_interface(op, router, spec)
    return 200, req.call('routers', 'update', action)


@NETWORK.route('PUT', '/v2.0/routers/{obj_id}/remove_router_interface')
def remove_router_interface(req):
    spec = req.json_body()
    routers = KINDS['routers']

    def action(op):
        router = routers.require(op, req.params['obj_id'], write='remove_router_interface')
        return routers.remove_interface(op, router, spec)
    return 200, req.call('routers', 'update', action)


def _extension(alias, description):
    return {'alias': alias, 'name': description, 'description': description,
            'updated': '2013-01-20T00:00:00-00:00', 'links': []}


@NETWORK.route('GET', '/v2.0/extensions')
def list_extensions(req):
    return 200, {'extensions': [_extension(*e) for e in EXTENSIONS]}


@NETWORK.route('GET', '/v2.0/extensions/{alias}')
def show_extension(req):
    for alias, description in EXTENSIONS:
        if alias == req.params['alias']:
            return 200, {'extension': _extension(alias, description)}
    raise ApiError(404, 'HTTPNotFound', 'Extension with alias %s does not exist'
                   % req.params['alias'])


# Collections the simulator has none of (QoS policies, subnet pools): listed empty, so that
# openstacksdk's find_qos_policy / find_subnet_pool answer "not found" as against a cloud
# that has the extension and no such object.
EMPTY_COLLECTIONS = (('/v2.0/qos/policies', 'policies', 'QosPolicyNotFound',
                      'QoS policy %s could not be found.'),
                     ('/v2.0/subnetpools', 'subnetpools', 'SubnetPoolNotFound',
                      'Subnet pool %s could not be found.'))


def _route_empty(path, key, error, message):
    @NETWORK.route('GET', path)
    def list_none(req):
        return 200, {key: []}

    @NETWORK.route('GET', path + '/{obj_id}')
    def show_none(req):
        raise ApiError(404, error, message % req.params['obj_id'])


for _empty in EMPTY_COLLECTIONS:
    _route_empty(*_empty)
