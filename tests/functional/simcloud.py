"""A heat-taskflow-simcloud process for the functional tests, and what they ask it.

``running()`` starts the simulator (tests/simcloud.py) on a free loopback port; it writes a
``clouds.yaml`` (entries ``simcloud`` and ``simcloud-demo``) that heat-taskflow and the
``openstack`` client read, exactly as they would read one for a real cloud. ``SimCloud`` knows
the simulator's address, that file, the ``[cloud]`` section naming it, and the simulator's
own admin endpoints (audit of every creation, faults, calls, drift).

Audit helpers: heat-taskflow's intent tokens are ``htf-<stack id hex>-<random hex>``;
``requested()`` keeps the creations that carry one (the objects a plugin asked for: not the
ones the cloud makes itself, like a router's interface port or a group's default rules).
"""

import os

from tests import simcloud as shared
from tests.functional import cli as cli_mod

TOKEN_PREFIX = 'htf-'


class SimCloud(shared.SimCloud):
    """A running simulator: its URL and clouds.yaml, its admin API, a client."""

    def __init__(self, url, clouds_file):
        super().__init__(url, clouds_file)
        # What the cloud starts with (devstack's external network, default security
        # groups): not the tests' to create or delete.
        self.seeded = {c['seq'] for c in self.audit()['creations']}

    def config(self, cloud='simcloud'):
        """The ``[cloud]`` section of a heat-taskflow configuration naming this cloud."""
        return ('[cloud]\ncloud = %s\nclouds_file = %s\nretry_delay = 0.01\n'
                % (cloud, self.clouds_file))

    def env(self, cloud='simcloud'):
        """Environment variables an ``openstack`` command needs to reach this cloud."""
        return dict(os.environ, OS_CLIENT_CONFIG_FILE=self.clouds_file, OS_CLOUD=cloud)

    def audit(self, kind=None, token_prefix=None):
        """Every creation so far: {'creations': [...oldest first], 'summary': {...}}."""
        query = '&'.join('%s=%s' % (k, v) for k, v in
                         (('kind', kind), ('token_prefix', token_prefix)) if v)
        return self.admin('GET', 'audit' + ('?' + query if query else ''))

    def made(self):
        """The creations since the cloud started (not its seeded objects)."""
        return [c for c in self.audit()['creations'] if c['seq'] not in self.seeded]

    def calls(self):
        """{"OP": number of calls} since the simulator started."""
        return self.admin('GET', 'calls')

    def connection(self, cloud='simcloud'):
        """An openstacksdk Connection to this cloud through its clouds.yaml."""
        import openstack.config
        import openstack.connection

        region = openstack.config.OpenStackConfig(
            config_files=[self.clouds_file]).get_one(cloud)
        return openstack.connection.Connection(config=region)


def stack_prefix(stack_id):
    """The token prefix of one stack's objects (``/admin/audit?token_prefix=``)."""
    return TOKEN_PREFIX + stack_id.replace('-', '')


def token_stack(token):
    """The stack id hex a token names."""
    return token[len(TOKEN_PREFIX):].split('-', 1)[0]


def requested(creations):
    """The creations heat-taskflow asked for: the ones carrying its intent token."""
    return [c for c in creations if (c.get('token') or '').startswith(TOKEN_PREFIX)]


def live(creations):
    return [c for c in creations if c['deleted_at'] is None]


def running(tmp_path, build_time, extra=()):
    """Start heat-taskflow-simcloud (its console script) on a free loopback port, its state
    and clouds.yaml in tmp_path, servers and volumes taking build_time seconds to build;
    a context manager yielding a SimCloud. It must stop cleanly."""
    return shared.running(tmp_path, '--build-time', str(build_time), *extra,
                          command=(cli_mod.script('heat-taskflow-simcloud'),), cls=SimCloud)
