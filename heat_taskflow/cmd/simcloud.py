"""heat-taskflow-simcloud: serve an emulated OpenStack cloud on loopback (see simcloud).

A test tool: Keystone, Nova, Glance, Neutron and Cinder APIs good enough for openstacksdk and
the ``openstack`` CLI, with fault injection, drift and an audit of every creation; not a cloud.
Prints ``simcloud ready at http://HOST:PORT (db PATH)`` on stdout once it accepts requests;
``--clouds-yaml PATH`` writes a clouds.yaml with the entries ``simcloud`` (user admin) and
``simcloud-demo`` (user demo) first. SIGTERM or SIGINT stops it cleanly (exit 0). The state
lives in the SQLite file ``--db`` and survives restarts.
"""

import argparse
import logging
import os
import signal
import sys
import threading

import yaml

from heat_taskflow.conf import opts

DEFAULT_PORT = 8786


def default_db():
    """The SQLite file used when --db is not given: simcloud.sqlite in the state directory."""
    return os.path.join(opts.default_state_dir(), 'simcloud.sqlite')


def _non_negative(value):
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError('%s is negative' % value)
    return number


def _rate(value):
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError('%s is not between 0 and 1' % value)
    return number


def build_parser():
    parser = argparse.ArgumentParser(
        prog='heat-taskflow-simcloud',
        description='A test tool: serve an emulated OpenStack cloud (Keystone v3, Nova, '
                    'Glance, Neutron and Cinder APIs: servers, key pairs, server groups, '
                    'images, networks, subnets, ports, routers, floating IPs, security '
                    'groups, volumes) on one port, with fault injection and an audit of '
                    'every creation (/admin). For tests and offline runs; not a cloud: no '
                    'real authentication (users admin and demo, password "password").')
    parser.add_argument('--host', default='127.0.0.1',
                        help='Address to listen on (default: %(default)s)')
    parser.add_argument('--port', type=int, default=DEFAULT_PORT,
                        help='Port to listen on; 0 picks a free one (default: %(default)s)')
    parser.add_argument('--clouds-yaml', metavar='PATH', default=None,
                        help='Write a clouds.yaml with the entries simcloud (admin) and '
                             'simcloud-demo (demo) for this server to PATH')
    parser.add_argument('--db', metavar='PATH', default=None,
                        help='SQLite file holding the cloud state (default: '
                             'simcloud.sqlite in the heat-taskflow state directory)')
    parser.add_argument('--latency', type=_non_negative, default=0.0, metavar='SECONDS',
                        help='Default latency of every operation')
    parser.add_argument('--failure-rate', type=_rate, default=0.0, metavar='RATE',
                        help='Default fraction (0..1) of calls that fail')
    parser.add_argument('--failure-status', type=int, default=503, metavar='STATUS',
                        help='HTTP status of an injected failure (default: %(default)s)')
    parser.add_argument('--failure-mode', choices=('before', 'after'), default='before',
                        help='Whether an injected failure happens before acting or after '
                             '(a lost response) (default: %(default)s)')
    parser.add_argument('--build-time', type=_non_negative, default=0.0, metavar='SECONDS',
                        help='Seconds servers and volumes stay in BUILD/creating')
    parser.add_argument('--seed', type=int, default=None,
                        help='Seed of the random failure injection')
    parser.add_argument('-v', '--verbose', action='store_true', help='Log every request')
    return parser


def clouds_yaml(url):
    """The clouds.yaml document of a server at ``url``: entries simcloud and simcloud-demo."""
    def entry(user):
        return {'auth': {'auth_url': url + '/identity', 'username': user,
                         'password': 'password', 'project_name': user,
                         'user_domain_name': 'Default', 'project_domain_name': 'Default'},
                'region_name': 'RegionOne', 'identity_api_version': 3,
                'interface': 'public'}
    return {'clouds': {'simcloud': entry('admin'), 'simcloud-demo': entry('demo')}}


def write_clouds_yaml(path, url):
    """Write ``clouds_yaml(url)`` to ``path`` (replacing it atomically), mode 0600 whatever
    the umask: the file holds the users' passwords."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + '.tmp'
    try:
        os.unlink(tmp)      # a stale one may have another mode, or be a symbolic link
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0),
                 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, 'w') as out:
        yaml.safe_dump(clouds_yaml(url), out, default_flow_style=False)
    os.replace(tmp, path)


def main(argv=None, stdout=None, stop_event=None):
    """Run the server until SIGTERM/SIGINT (or ``stop_event``); returns the exit code."""
    from heat_taskflow.simcloud import server as server_mod

    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(message)s')
    db_path = os.path.abspath(args.db or default_db())
    os.makedirs(os.path.dirname(db_path), mode=0o700, exist_ok=True)
    defaults = {'latency': args.latency, 'failure_rate': args.failure_rate,
                'failure_status': args.failure_status, 'failure_mode': args.failure_mode,
                'build_time': args.build_time}
    try:
        server = server_mod.SimCloudServer(args.host, args.port, db_path, defaults=defaults,
                                           seed=args.seed)
    except OSError as exc:
        sys.stderr.write('heat-taskflow-simcloud: cannot listen on %s:%s: %s\n'
                         % (args.host, args.port, exc))
        return 1
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    if args.clouds_yaml:
        write_clouds_yaml(args.clouds_yaml, server.url)
    server.start()
    stdout.write('simcloud ready at %s (db %s)\n' % (server.url, db_path))
    stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        stdout.write('simcloud stopped\n')
        stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
