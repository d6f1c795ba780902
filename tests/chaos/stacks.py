"""The chaos workload's stacks: seeded shapes of the simulated cloud's resources, and the
templates they render to.

A shape is a small dict of knobs; ``render`` turns it into the files of one template version
(the top template, and ``node.yaml`` for a group). Two kinds:

- ``flat``: a network and its subnet, ports, servers (each on a port of its own, or on the
  network when there are fewer ports), volumes attached to the first server;
- ``group``: a network and its subnet, and an OS::Heat::ResourceGroup of nested stacks, each
  a node of ``node.yaml`` (a port, a server on it, a volume attached to it), the TripleO
  example's role scaled down.

``change`` draws an update of a shape: in place (the ``tag`` every object's name or
metadata carries, a volume grown), counts (ports, servers, volumes or group members added
or removed) or a replacement (a server's ``user_data`` generation). A shape with ``broken``
also holds a floating IP on its own network, which is not an external one: the cloud
refuses it (400), so the operation fails for a reason of the workload's, never the
infrastructure's (``WORKLOAD_FAILURE`` is the text the stack's reason then carries).
"""

import yaml

IMAGE = 'cirros-0.6.2-x86_64-disk'
FLAVOR = 'm1.small'
CIDR = '10.20.0.0/24'
VERSION = '2018-08-31'
# What the cloud says about the broken resource; found in the failed stack's status reason.
WORKLOAD_FAILURE = 'not a valid external network'

LIMITS = {'ports': (0, 2), 'servers': (1, 2), 'volumes': (0, 2), 'count': (1, 3)}


def new_shape(rng, broken=False):
    """A shape drawn with rng: flat two times in three, else a group."""
    kind = 'group' if rng.random() < 1 / 3 else 'flat'
    shape = {'kind': kind, 'tag': 't0', 'gen': 0, 'size': 1, 'broken': broken}
    if kind == 'flat':
        for knob in ('ports', 'servers', 'volumes'):
            shape[knob] = rng.randint(*LIMITS[knob])
    else:
        shape['count'] = rng.randint(*LIMITS['count'])
    return shape


def change(rng, shape):
    """(new shape, what changed: in-place | counts | replace) for an update of shape."""
    new = dict(shape, broken=False)
    what = rng.choice(('in-place', 'counts', 'replace'))
    if what == 'in-place':
        new['tag'] = 't%d' % (int(shape['tag'][1:]) + 1)
        if rng.random() < 0.5:
            new['size'] = shape['size'] + 1       # a volume is extended in place
    elif what == 'counts':
        knobs = ['count'] if shape['kind'] == 'group' else ['ports', 'servers', 'volumes']
        knob = rng.choice(knobs)
        low, high = LIMITS[knob]
        choices = [n for n in range(low, high + 1) if n != shape[knob]]
        new[knob] = rng.choice(choices)
    else:
        new['gen'] = shape['gen'] + 1             # user_data: the servers are replaced
    return new, what


def _net(name, shape):
    return {
        'net': {'type': 'OS::Neutron::Net',
                'properties': {'name': '%s-net-%s' % (name, shape['tag'])}},
        'subnet': {'type': 'OS::Neutron::Subnet',
                   'properties': {'network': {'get_resource': 'net'}, 'cidr': CIDR,
                                  'name': '%s-subnet' % name}},
    }


def _server(name, shape, networks):
    return {'type': 'OS::Nova::Server',
            'properties': {'name': name, 'image': IMAGE, 'flavor': FLAVOR,
                           'networks': networks, 'metadata': {'tag': shape['tag']},
                           'user_data_format': 'RAW',
                           'user_data': 'generation %d' % shape['gen']}}


def _broken():
    return {'type': 'OS::Neutron::FloatingIP',
            'properties': {'floating_network': {'get_resource': 'net'}}}


def _flat(name, shape):
    resources = _net(name, shape)
    for i in range(shape['ports']):
        resources['port%d' % i] = {
            'type': 'OS::Neutron::Port',
            'properties': {'name': '%s-port%d-%s' % (name, i, shape['tag']),
                           'network': {'get_resource': 'net'},
                           'fixed_ips': [{'subnet': {'get_resource': 'subnet'}}]}}
    for i in range(shape['servers']):
        if i < shape['ports']:
            networks = [{'port': {'get_resource': 'port%d' % i}}]
        else:
            networks = [{'network': {'get_resource': 'net'}}]
        resources['server%d' % i] = _server('%s-server%d' % (name, i), shape, networks)
    for i in range(shape['volumes']):
        resources['volume%d' % i] = {
            'type': 'OS::Cinder::Volume',
            'properties': {'name': '%s-vol%d-%s' % (name, i, shape['tag']),
                           'size': shape['size']}}
        resources['attach%d' % i] = {
            'type': 'OS::Cinder::VolumeAttachment',
            'properties': {'instance_uuid': {'get_resource': 'server0'},
                           'volume_id': {'get_resource': 'volume%d' % i}}}
    return resources


NODE = {
    'heat_template_version': VERSION,
    'description': 'One node of a chaos group: a port, a server on it, a volume attached.',
    'parameters': {k: {'type': t} for k, t in (
        ('name', 'string'), ('network', 'string'), ('subnet', 'string'), ('tag', 'string'),
        ('gen', 'number'), ('size', 'number'))},
    'resources': {
        'port': {'type': 'OS::Neutron::Port',
                 'properties': {'name': {'list_join': ['-', [{'get_param': 'name'}, 'port']]},
                                'network': {'get_param': 'network'},
                                'fixed_ips': [{'subnet': {'get_param': 'subnet'}}]}},
        'server': {'type': 'OS::Nova::Server',
                   'properties': {'name': {'get_param': 'name'}, 'image': IMAGE,
                                  'flavor': FLAVOR, 'networks': [
                                      {'port': {'get_resource': 'port'}}],
                                  'metadata': {'tag': {'get_param': 'tag'}},
                                  'user_data_format': 'RAW',
                                  'user_data': {'str_replace': {
                                      'template': 'generation GEN',
                                      'params': {'GEN': {'get_param': 'gen'}}}}}},
        'volume': {'type': 'OS::Cinder::Volume',
                   'properties': {'size': {'get_param': 'size'},
                                  'name': {'list_join': ['-', [{'get_param': 'name'}, 'vol',
                                                               {'get_param': 'tag'}]]}}},
        'attach': {'type': 'OS::Cinder::VolumeAttachment',
                   'properties': {'instance_uuid': {'get_resource': 'server'},
                                  'volume_id': {'get_resource': 'volume'}}},
    },
    'outputs': {'server': {'value': {'get_resource': 'server'}}},
}


def _group(name, shape):
    resources = _net(name, shape)
    resources['nodes'] = {
        'type': 'OS::Heat::ResourceGroup',
        'properties': {'count': shape['count'], 'resource_def': {
            'type': 'node.yaml',
            'properties': {'name': '%s-node-%%index%%' % name,
                           'network': {'get_resource': 'net'},
                           'subnet': {'get_resource': 'subnet'},
                           'tag': shape['tag'], 'gen': shape['gen'],
                           'size': shape['size']}}},
        'depends_on': ['subnet']}
    return resources


def render(name, shape):
    """{file name: text} of the shape's template: 'stack.yaml' (the one to give with -t),
    and 'node.yaml' for a group."""
    resources = (_flat if shape['kind'] == 'flat' else _group)(name, shape)
    if shape['broken']:
        resources['broken_ip'] = _broken()
    top = {'heat_template_version': VERSION,
           'description': 'chaos workload stack %s (%s)' % (name, shape['kind']),
           'resources': resources}
    files = {'stack.yaml': yaml.safe_dump(top, sort_keys=False)}
    if shape['kind'] == 'group':
        files['node.yaml'] = yaml.safe_dump(NODE, sort_keys=False)
    return files
