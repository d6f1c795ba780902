"""The TripleO-like example (examples/tripleo) in the functional tests: what the cloud must
hold for it, read from the simulator's audit and the engine's database.

A node (an OS::Heat::Stack of role.yaml) is a port, a server, a volume and an attachment,
and a floating IP on controllers; the overcloud adds 7 networking resources. Each cloud
resource's object carries the intent token ``htf-<its stack id hex>-<hex>``, so an object
in the audit is tied to the template resource whose physical id it is.
"""

import collections
import json

from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as database_mod
from tests.functional import cli as cli_mod
from tests.functional import simcloud as simcloud_mod

EXAMPLE = cli_mod.EXAMPLES / 'tripleo'
TEMPLATE = EXAMPLE / 'overcloud.yaml'
# The resource types whose objects carry a token, and the audit's kind for each.
TOKENED = {'OS::Neutron::Net': 'networks', 'OS::Neutron::Subnet': 'subnets',
           'OS::Neutron::Router': 'routers', 'OS::Neutron::SecurityGroup': 'security_groups',
           'OS::Neutron::Port': 'ports', 'OS::Neutron::FloatingIP': 'floatingips',
           'OS::Nova::Server': 'servers', 'OS::Cinder::Volume': 'volumes'}
NETWORKING = ('PublicNetwork', 'PublicSubnet', 'CtlplaneNetwork', 'CtlplaneSubnet', 'Router',
              'OvercloudSecurityGroup')
NODE_RESOURCES = ('Port', 'Server', 'DataVolume')


def environment(path, controllers, computes, ceph, **parameters):
    """Write an environment of the example with these node counts; returns its path."""
    values = dict(ControllerCount=controllers, ComputeCount=computes,
                  CephStorageCount=ceph, **parameters)
    path.write_text('parameter_defaults:\n' + ''.join(
        '  %s: %s\n' % (k, json.dumps(v)) for k, v in values.items()))
    return path


def expected(controllers, computes, ceph):
    """{template resource name: objects} for these node counts (tokened objects only)."""
    nodes = controllers + computes + ceph
    names = dict({n: 1 for n in NETWORKING}, **{n: nodes for n in NODE_RESOURCES})
    if controllers:
        names['PublicIP'] = controllers
    return names


def stack_tree(db_url, name):
    """{stack id: (stack row, [current resource rows])} of a live stack and its nested
    stacks, read from the engine's database."""
    database = database_mod.Database(db_url)
    try:
        top = db.stack_get_by_name(database, name, 'default')
        tree, todo = {}, [top]
        while todo:
            stack = todo.pop()
            tree[stack.id] = (stack, db.resource_list(database, stack.id, current_only=True))
            todo.extend(db.stack_list(database, None, owner_id=stack.id))
        return tree
    finally:
        database.engine.dispose()


def assert_converged(cloud, db_url, name, names):
    """The cloud holds exactly one live object per cloud resource of the stack's tree, each
    the physical resource of its template resource, and no token was used twice. ``names``
    is {template resource name: count} (expected()). Returns the requested creations."""
    audit = cloud.audit()
    made = simcloud_mod.requested(audit['creations'])
    tokens = collections.Counter(c['token'] for c in made)
    assert [t for t, n in tokens.items() if n > 1] == [], tokens
    assert audit['summary']['duplicate_tokens'] == {}

    physical = {}
    for stack_id, (_, rows) in stack_tree(db_url, name).items():
        for row in rows:
            if row.type in TOKENED:
                physical[(stack_id.replace('-', ''), row.physical_resource_id)] = row
    alive = {(simcloud_mod.token_stack(c['token']), c['id']): c
             for c in simcloud_mod.live(made)}
    orphans = [c for key, c in alive.items() if key not in physical]
    assert orphans == [], orphans
    missing = [(r.name, r.physical_resource_id) for key, r in physical.items()
               if key not in alive]
    assert missing == [], missing
    assert all(alive[key]['kind'] == TOKENED[r.type] for key, r in physical.items())
    assert collections.Counter(r.name for r in physical.values()) == names
    return made


def assert_created_once(cloud, db_url, name, names):
    """assert_converged, and nothing was ever created beyond those objects."""
    made = assert_converged(cloud, db_url, name, names)
    assert len(made) == sum(names.values()), collections.Counter(c['kind'] for c in made)
    return made


def assert_nothing_left(cloud):
    """Every object created since the cloud started is deleted (the cloud's own ones too,
    such as a router's interface ports), and no token was used twice."""
    assert simcloud_mod.live(cloud.made()) == []
    assert cloud.audit()['summary']['duplicate_tokens'] == {}


def heat(tmp_path, cloud, path='legacy', extra=''):
    """(Cli, database URL) of heat-taskflow on one path against the cloud: ``legacy``, or
    ``distributed`` on the in-process zake job board (the command line runs a conductor
    itself). ``extra`` is appended to [DEFAULT]."""
    state = tmp_path / 'state'
    state.mkdir(exist_ok=True)
    url = 'sqlite:///%s' % (tmp_path / 'heat.sqlite')
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nconvergence_engine = %s\n%s\n'
                      '[database]\nconnection = %s\n\n%s'
                      % (state, path == 'distributed', extra, url, cloud.config()))
    cli = cli_mod.Cli(config, state)
    cli.manage('db', 'sync')
    return cli, url
