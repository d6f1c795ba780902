"""The chaos monkey's faults (docs/chaos.md), each one function, and a seeded schedule of them.

A fault is ``fault(cluster, rng, log)``: it deals one fault to a tests.chaos.cluster.Cluster,
drawing what it must choose (the victim, a down time) from ``rng`` (a random.Random), and
returns a short description for the run's log (``log`` is for what it has to say on the
way). The faults with a down time (ZooKeeper and cloud restarts) return at once: the
cluster stops the service and brings it back in a background thread
(``Cluster.wait_faults()`` waits for them), so the schedule's next faults land on time,
kills in particular while ZooKeeper is away. A restart asked while the previous one of the
same service is still under way (a start-up can take seconds on a loaded machine) is
skipped, never queued; a kill asked during ``zk_outage_no_kills`` (until OUTAGE_QUIET_AFTER s
after ZooKeeper is back, however late) is skipped too. Their descriptions say so.

``FAULTS`` maps each name to ``(function, weight)``; ``schedule(rng, minutes)`` draws a
storm from a seed: a fault every 1.5 to 3.5 s, chosen by weight (so about one kill every
3.5 s), never two down times at once, and no fault at all around a ``zk_outage_no_kills``
(the outage the engine must ride out on its own, kills paused).

The command line killed while it posts and ``stack resume`` of FAILED stacks are the
workload's (tests/chaos/workload.py): they act on its operations.
"""

ZK_SHORT_DOWN = 1.0            # seconds: far shorter than a session
ZK_LONG_EXTRA = 4.0            # a long restart is down session_timeout + this
ZK_OUTAGE_DOWN = 6.0           # the outage with kills paused
OUTAGE_QUIET_AFTER = 4.0       # seconds without any fault after that outage ends
CLOUD_DOWN = (1.0, 2.0)        # seconds the cloud is down, drawn between these
GAP = (1.5, 3.5)               # seconds between two scheduled faults
FIRST = 3.0                    # seconds before the first fault: the workload gets going
SESSION_TIMEOUT = 5.0          # the Cluster's default, for down times in a schedule
START_UP = 3.0                 # seconds a schedule allows a restarted service to come back


def _started(thread, what):
    return what if thread is not None else 'skipped (%s): the last one is still under way' % what


def kill_conductor(cluster, rng, log):
    """kill -9 of a random conductor; its replacement starts at once."""
    if cluster.kills_paused():
        return 'kill -9 skipped: kills are paused (zookeeper outage)'
    pid = cluster.kill_conductor(rng)
    if pid is None:
        return 'kill -9: no conductor alive'
    return 'kill -9 conductor pid %d' % pid


def zk_restart_short(cluster, rng, log):
    """ZooKeeper restarted, down for a second (sessions survive)."""
    thread = cluster.restart_zookeeper(ZK_SHORT_DOWN, wait=False)
    return _started(thread, 'zookeeper restart, down %.1f s' % ZK_SHORT_DOWN)


def zk_restart_long(cluster, rng, log):
    """ZooKeeper restarted, down longer than the session timeout."""
    down = cluster.session_timeout + ZK_LONG_EXTRA
    thread = cluster.restart_zookeeper(down, wait=False)
    return _started(thread, 'zookeeper restart, down %.1f s (session timeout %.1f s)'
                    % (down, cluster.session_timeout))


def zk_outage_no_kills(cluster, rng, log):
    """ZooKeeper unreachable for some seconds while nothing else happens (the schedule
    leaves a gap around it)."""
    thread = cluster.restart_zookeeper(ZK_OUTAGE_DOWN, wait=False,
                                       pause_kills=OUTAGE_QUIET_AFTER)
    return _started(thread, 'zookeeper outage, down %.1f s, no kills' % ZK_OUTAGE_DOWN)


def cloud_restart(cluster, rng, log):
    """The cloud restarted (same port, same database), down 1 to 2 s."""
    down = round(rng.uniform(*CLOUD_DOWN), 2)
    thread = cluster.restart_cloud(down, wait=False)
    return _started(thread, 'cloud restart, down %.2f s' % down)


FAULTS = {
    'kill_conductor': (kill_conductor, 10),
    'zk_restart_short': (zk_restart_short, 1),
    'zk_restart_long': (zk_restart_long, 1),
    'zk_outage_no_kills': (zk_outage_no_kills, 1),
    'cloud_restart': (cloud_restart, 1),
}


def down_time(name, session_timeout=SESSION_TIMEOUT):
    """Seconds the fault keeps a service down (its longest, start-up not counted), 0 for a
    kill."""
    return {'zk_restart_short': ZK_SHORT_DOWN,
            'zk_restart_long': session_timeout + ZK_LONG_EXTRA,
            'zk_outage_no_kills': ZK_OUTAGE_DOWN,
            'cloud_restart': CLOUD_DOWN[1]}.get(name, 0.0)


def schedule(rng, minutes, session_timeout=SESSION_TIMEOUT, weights=None):
    """``[(at_seconds, name), ...]`` in time order over ``minutes``, drawn from ``rng`` only.

    A fault every GAP seconds, chosen by weight (``weights`` {name: weight} overrides
    FAULTS'); while a service is down (a restart in its down time and START_UP s more)
    only kills are drawn; after a ``zk_outage_no_kills`` no fault comes until
    OUTAGE_QUIET_AFTER s after ZooKeeper should be back (before it, the last fault is at
    least GAP[0] s earlier).
    """
    weights = dict({name: weight for name, (_, weight) in FAULTS.items()}, **(weights or {}))
    unknown = set(weights) - set(FAULTS)
    if unknown:
        raise ValueError('unknown faults: %s' % ', '.join(sorted(unknown)))
    names = sorted(name for name, weight in weights.items() if weight > 0)
    end = minutes * 60.0
    plan = []
    busy_until = 0.0        # the end of the current down time
    t = FIRST
    while t < end:
        allowed = names if t >= busy_until else [n for n in names if not down_time(n)]
        if allowed:
            name = rng.choices(allowed, weights=[weights[n] for n in allowed])[0]
            if name == 'zk_outage_no_kills':
                plan.append((round(t, 2), name))
                busy_until = t + ZK_OUTAGE_DOWN + START_UP + OUTAGE_QUIET_AFTER
                t = busy_until
                continue
            plan.append((round(t, 2), name))
            if down_time(name):
                busy_until = t + down_time(name, session_timeout) + START_UP
        t += rng.uniform(*GAP)
    return plan
