"""The chaos cluster itself: it starts, runs a distributed stack, takes a conductor kill and a
ZooKeeper restart, runs another, and leaves no process behind; and the fault schedule is a
function of its seed.

The smoke test is a check of the harness, not of the engine's resilience (that is
test_chaos.py's): one kill and one short restart, each followed by a stack that must finish.
"""

import os
import random

import pytest
import yaml

from tests.chaos import cluster as cluster_mod
from tests.chaos import faults

TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'resources': {
        'net': {'type': 'OS::Neutron::Net', 'properties': {'name': 'chaos-net'}},
        'port_a': {'type': 'OS::Neutron::Port',
                   'properties': {'network': {'get_resource': 'net'}}},
        'port_b': {'type': 'OS::Neutron::Port',
                   'properties': {'network': {'get_resource': 'net'}}},
    },
}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is no longer running: only its parent's wait() is missing.
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def _create(cluster, name, template):
    result = cluster.cli('stack', 'create', name, '-t', template, '--wait',
                         '-f', 'value', '-c', 'stack_status', timeout=120)
    assert result.returncode == 0, '%s\n%s\n%s' % (result.stdout, result.stderr,
                                                   cluster.logs_tail(30))
    assert result.stdout.strip() == 'CREATE_COMPLETE', result
    shown = cluster.cli('stack', 'show', name, '-f', 'value', '-c', 'stack_status')
    assert shown.stdout.strip() == 'CREATE_COMPLETE', shown


def _start_or_skip(cluster):
    try:
        cluster.start()
    except cluster_mod.ServiceUnavailable as exc:
        cluster.stop()
        pytest.skip(str(exc))
    except BaseException:
        cluster.stop()
        raise


@pytest.mark.functional
def test_cluster_runs_stacks_through_a_kill_and_a_zookeeper_restart(tmp_path):
    reason = cluster_mod.Cluster.missing()
    if reason:
        pytest.skip(reason)
    template = tmp_path / 'ports.yaml'
    template.write_text(yaml.safe_dump(TEMPLATE))
    lines = []
    # Lost answers are on (the run's default rate): whether one falls on this test's few
    # creates is chance, so they are checked on the cloud's settings.
    cluster = cluster_mod.Cluster(tmp_path / 'run', conductors=2, session_timeout=4.0,
                                  cloud_lost_rate=0.02, log=lines.append)
    _start_or_skip(cluster)
    with cluster:
        first = cluster.pids()
        assert len(cluster.conductors) == 2 and len(first) == 4   # + cloud, ZooKeeper
        settings = cluster.cloud.admin('GET', 'faults')['operations']
        assert settings['ports.create'] == {'failure_rate': 0.02, 'failure_mode': 'after'}
        assert 'ports.get' not in settings
        with open(cluster.config_file) as conf:
            text = conf.read()
        assert 'convergence_engine = True' in text
        assert 'zookeeper://%s/' % cluster.zk.address in text

        _create(cluster, 'before', template)

        rng = random.Random(7)
        victim = cluster.kill_conductor(rng)
        assert not _alive(victim)
        assert len(cluster.conductors) == 2 and victim not in cluster.pids()
        port = cluster.zk.port
        # The fault returns at once; one asked while it is under way is skipped.
        assert faults.zk_restart_short(cluster, rng, print).startswith('zookeeper restart')
        assert faults.zk_restart_short(cluster, rng, print).startswith('skipped')
        assert cluster.wait_faults(60)
        assert cluster.zk.port == port and cluster.zk.is_serving()
        assert cluster.restart_cloud(0.5) >= 0.5
        assert cluster.cloud.audit()['summary']['creations'] > 0    # its state survived
        counts = cluster.counts()
        assert {k: counts[k] for k in ('kills', 'zk_restarts', 'cloud_restarts',
                                       'replacements', 'crashes')} == {
            'kills': 1, 'zk_restarts': 1, 'cloud_restarts': 1, 'replacements': 1,
            'crashes': 0}
        assert counts['zk_down_seconds'] >= 1.0

        _create(cluster, 'after', template)
        made = cluster.cloud.made()
        assert len([c for c in made if c['kind'] == 'ports']) >= 4
        every = cluster.pids()
    assert every and not [pid for pid in every | first if _alive(pid)]
    assert any('kill -9 conductor' in line for line in lines)


@pytest.mark.functional
def test_postgresql_cluster_has_a_database_of_its_own_dropped_at_stop(tmp_path):
    reason = cluster_mod.Cluster.missing() or cluster_mod.Cluster.postgresql_missing()
    if reason:
        pytest.skip(reason)
    import sqlalchemy as sa

    cluster = cluster_mod.Cluster(tmp_path / 'run', db='postgresql', conductors=1,
                                  log=lambda line: None)
    _start_or_skip(cluster)
    with cluster:
        name = sa.engine.make_url(cluster.db_url).database
        assert name.startswith('chaos_')
        listed = cluster.cli('stack', 'list', '-f', 'value')
        assert listed.returncode == 0 and listed.stdout == '', listed
        assert '%s' % name in open(cluster.config_file).read()
    engine = cluster_mod._admin_engine(cluster_mod.POSTGRESQL_URL)
    try:
        with engine.connect() as connection:
            left = connection.exec_driver_sql(
                'SELECT count(*) FROM pg_database WHERE datname = %(name)s',
                {'name': name}).scalar()
    finally:
        engine.dispose()
    assert left == 0


def test_schedule_is_a_function_of_the_seed():
    one = faults.schedule(random.Random(42), 2)
    assert one == faults.schedule(random.Random(42), 2)
    assert one != faults.schedule(random.Random(43), 2)
    times = [at for at, _ in one]
    assert times == sorted(times) and times[-1] < 120
    assert {name for _, name in one} <= set(faults.FAULTS)


def test_schedule_paces_kills_and_never_overlaps_down_times():
    plan = faults.schedule(random.Random(3), 30, session_timeout=5.0)
    kills = [at for at, name in plan if name == 'kill_conductor']
    assert 2.0 <= 30 * 60 / len(kills) <= 5.0          # a kill every 2 to 5 s on average
    down = [(at, at + faults.down_time(name, 5.0) + faults.START_UP, name)
            for at, name in plan if faults.down_time(name)]
    assert {name for _, _, name in down} == set(faults.FAULTS) - {'kill_conductor'}
    for (_, end, _), (start, _, _) in zip(down, down[1:], strict=False):
        assert start >= end
    for start, end, name in down:
        if name == 'zk_outage_no_kills':
            quiet = [at for at, _ in plan
                     if start < at < end + faults.OUTAGE_QUIET_AFTER - 0.01]    # (rounding)
            assert not quiet and not [at for at, _ in plan if start - 1.0 < at < start]


def test_schedule_weights_override():
    plan = faults.schedule(random.Random(1), 1, weights={'kill_conductor': 0,
                                                         'cloud_restart': 0})
    assert plan and {name for _, name in plan} <= {'zk_restart_short', 'zk_restart_long',
                                                    'zk_outage_no_kills'}
    with pytest.raises(ValueError):
        faults.schedule(random.Random(1), 1, weights={'unplug_the_rack': 1})
