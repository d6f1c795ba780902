"""Benchmark the Heat API service (heat-taskflow-api): read throughput and create overhead.

    python -m bench.api [--n 1000] [--clients 10] [--requests 300] [--rounds 1]
                        [--workers W] [--threads T] [--out bench/results]
    tox -e bench-api -- [same options]

One ``heat-taskflow-api`` service (noauth, the legacy path, a fresh SQLite file database, the
service's default workers and threads unless --workers/--threads) on a free loopback port;
what it measures:

- ``startup``: seconds from starting the service until ``GET /`` answers.
- ``create``: the same template (bench/shapes.py ``dag``, N ``OS::Heat::TestResource``)
  created (1) through the API with python-heatclient, from the POST until the time of the
  stack's own CREATE_COMPLETE event (the client polls every second meanwhile, as the clients
  do, every 1-5 s: a tight poll would take the worker's CPU from the operation it runs; the
  time the poll saw it is recorded too), and (2) with ``heat-taskflow stack create --wait`` on
  the same database. Both figures include their client (the command line's
  interpreter start and its own engine); ``ratio`` is API / command line, and again without
  the command line's fixed cost (the best of three ``heat-taskflow stack list``).
- reads with ``--clients`` concurrent clients, each a thread with one keep-alive HTTP
  connection (stdlib http.client: the client side costs as little as possible, as the
  clients share the two cores with the server), ``--requests`` requests per client, on the
  stack of N resources: ``stack show`` (the canonical URL, outputs resolved), ``stack show by
  name`` (the 302 lookup every client call makes first: the redirect alone), ``event list``
  (every event of the stack, as ``openstack stack event list`` asks) and the ``--wait`` poll
  (``events?sort_dir=asc&marker=LAST``: nothing new). Requests per second over the wall
  time of the case, p50/p99 latency; every answer must be the expected status, or it is
  counted as an error.

Writes ``api.json`` (and prints a table) in --out. Not a test: it asserts nothing but counts
errors.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from bench import shapes

BIN = os.path.dirname(sys.executable)
API = os.path.join(BIN, 'heat-taskflow-api')
CLI = os.path.join(BIN, 'heat-taskflow')
MANAGE = os.path.join(BIN, 'heat-taskflow-manage')
PROJECT = 'bench'
BOUND = 1800.0        # seconds: a guard against a hung operation


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Service:
    """heat-taskflow-api on a configuration file of its own under workdir."""

    def __init__(self, workdir, workers=None, threads=None):
        self.dir = workdir
        self.port = free_port()
        self.state = os.path.join(workdir, 'state')
        os.makedirs(self.state, exist_ok=True)
        self.db_url = 'sqlite:///%s' % os.path.join(workdir, 'heat-taskflow.sqlite')
        self.config = os.path.join(workdir, 'heat-taskflow.conf')
        with open(self.config, 'w') as f:
            f.write('[DEFAULT]\nstate_dir = %s\nproject_id = %s\nmax_template_size = %d\n\n'
                    '[database]\nconnection = %s\n\n'
                    '[api]\nbind_host = 127.0.0.1\nbind_port = %d\nauth_strategy = noauth\n'
                    % (self.state, PROJECT, 64 * 2 ** 20, self.db_url, self.port))
            for key, value in (('workers', workers), ('threads', threads)):
                if value is not None:
                    f.write('%s = %d\n' % (key, value))
        self.env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=self.state, PYTHONUNBUFFERED='1')
        self.log_path = os.path.join(workdir, 'heat-taskflow-api.log')
        self.process = None

    @property
    def base(self):
        return 'http://127.0.0.1:%d' % self.port

    @property
    def endpoint(self):
        return '%s/v1/%s' % (self.base, PROJECT)

    def start(self):
        subprocess.run([MANAGE, '--config-file', self.config, 'db', 'sync'], env=self.env,
                       check=True, capture_output=True)
        log = open(self.log_path, 'ab')
        t0 = time.perf_counter()
        self.process = subprocess.Popen([API, '--config-file', self.config], env=self.env,
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError('heat-taskflow-api exited %d:\n%s'
                                   % (self.process.returncode, self.log_tail()))
            try:
                urllib.request.urlopen(self.base + '/', timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError('heat-taskflow-api never answered:\n%s'
                                       % self.log_tail()) from None
                time.sleep(0.02)
        return time.perf_counter() - t0

    def log_tail(self, lines=30):
        with open(self.log_path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


def create_through_api(service, text, name, poll=1.0):
    """Seconds of a create through the API with python-heatclient: (until the stack's own
    CREATE_COMPLETE event, until a poll every ``poll`` s saw it, of the POST alone, id).

    The first figure is the engine's time, read from the event's time (same host, same
    clock); polling often would steal the worker's CPU from the legacy operation it runs.
    """
    import datetime

    from heatclient import client as heat_client
    from heatclient.common import template_format

    hc = heat_client.Client('1', endpoint=service.endpoint, token='bench')
    template = template_format.parse(text)      # as the OpenStack client sends it
    wall0 = time.time()
    t0 = time.perf_counter()
    body = hc.stacks.create(stack_name=name, template=template)
    posted = time.perf_counter() - t0
    deadline = t0 + BOUND
    while True:
        stack = hc.stacks.get(body['stack']['id'], resolve_outputs=False)
        if not stack.stack_status.endswith('IN_PROGRESS'):
            break
        if time.perf_counter() > deadline:
            raise RuntimeError('the API create never ended')
        time.sleep(poll)
    observed = time.perf_counter() - t0
    if stack.stack_status != 'CREATE_COMPLETE':
        raise RuntimeError('API create ended %s: %s' % (stack.stack_status,
                                                         stack.stack_status_reason))
    last = hc.events.list(body['stack']['id'], sort_dir='desc', limit=1)[0]
    if (last.resource_name, last.resource_status) != (name, 'CREATE_COMPLETE'):
        raise RuntimeError('the last event is not the stack\'s CREATE_COMPLETE: %s' % last)
    when = datetime.datetime.fromisoformat(last.event_time.rstrip('Z'))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp() - wall0, observed, posted, body['stack']['id']


def create_with_cli(service, template_path, name):
    t0 = time.perf_counter()
    proc = subprocess.run([CLI, '--config-file', service.config, 'stack', 'create', '-t',
                           template_path, '--wait', name], env=service.env,
                          capture_output=True, text=True, timeout=BOUND)
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError('heat-taskflow stack create exited %d: %s'
                           % (proc.returncode, proc.stderr[-2000:]))
    return total


def cli_fixed_cost(service, times=3):
    """Best seconds of ``heat-taskflow stack list`` on the same database: what every command
    line call pays (interpreter, imports, configuration, database) before any stack work."""
    best = None
    for _ in range(times):
        t0 = time.perf_counter()
        subprocess.run([CLI, '--config-file', service.config, 'stack', 'list'],
                       env=service.env, capture_output=True, check=True, timeout=BOUND)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best


def delete_through_api(service, name):
    from heatclient import client as heat_client
    from heatclient import exc

    hc = heat_client.Client('1', endpoint=service.endpoint, token='bench')
    t0 = time.perf_counter()
    hc.stacks.delete(name)
    while True:
        try:
            hc.stacks.get(name, resolve_outputs=False)
        except exc.HTTPNotFound:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > BOUND:
            raise RuntimeError('the API delete never ended')
        time.sleep(0.1)


def load(service, path, clients, requests, expect=200):
    """``clients`` threads each sending ``requests`` GETs of path on one keep-alive
    connection; figures of the case."""
    latencies = [[] for _ in range(clients)]
    errors = []
    sizes = []
    gate = threading.Barrier(clients + 1)

    def worker(i):
        conn = http.client.HTTPConnection('127.0.0.1', service.port, timeout=120)
        gate.wait()
        for _ in range(requests):
            t0 = time.perf_counter()
            try:
                conn.request('GET', path, headers={'X-Auth-Token': 'bench',
                                                   'Accept': 'application/json'})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as err:
                errors.append(repr(err))
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', service.port, timeout=120)
                continue
            latencies[i].append(time.perf_counter() - t0)
            if response.status != expect:
                errors.append('%d %s' % (response.status, body[:200]))
            elif i == 0 and len(sizes) < 1:
                sizes.append(len(body))
            if response.getheader('Connection', '').lower() == 'close':
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', service.port, timeout=120)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    gate.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    every = sorted(x for per in latencies for x in per)
    return {
        'path': path.replace(service.endpoint.replace(service.base, ''), '/v1/P'),
        'clients': clients, 'requests': len(every) + len(errors), 'errors': len(errors),
        'first_errors': errors[:3], 'wall_s': round(wall, 3),
        'rps': round(len(every) / wall, 1) if wall else None,
        'p50_ms': round(1000 * percentile(every, 0.50), 2) if every else None,
        'p99_ms': round(1000 * percentile(every, 0.99), 2) if every else None,
        'mean_ms': round(1000 * statistics.fmean(every), 2) if every else None,
        'body_bytes': sizes[0] if sizes else None,
    }


def machine():
    import platform
    return {'cores': os.cpu_count(), 'python': platform.python_version(),
            'platform': platform.platform(),
            'load_average': [round(x, 2) for x in os.getloadavg()]}


def run(args):
    results = {'when': time.strftime('%Y-%m-%d %H:%M:%S %Z'), 'machine': machine(),
               'n': args.n, 'shape': 'dag', 'width': shapes.WIDTH, 'argv': sys.argv[1:]}
    with tempfile.TemporaryDirectory(prefix='bench-api-') as workdir:
        service = Service(workdir, args.workers, args.threads)
        results['server'] = {'workers': args.workers or 'default', 'threads':
                             args.threads or 'default'}
        results['startup_s'] = round(service.start(), 3)
        print('heat-taskflow-api answered GET / after %.2f s' % results['startup_s'],
              flush=True)
        try:
            text = shapes.template('dag', args.n)
            template_path = os.path.join(workdir, 'bench.yaml')
            with open(template_path, 'w') as f:
                f.write(text)

            # Overhead of a create through the API against the command line, alternating.
            api_s, observed_s, cli_s, posts = [], [], [], []
            for round_ in range(args.rounds):
                name = 'api-%d' % round_
                total, observed, posted, _ = create_through_api(service, text, name)
                api_s.append(total)
                observed_s.append(observed)
                posts.append(posted)
                cli_s.append(create_with_cli(service, template_path, 'cli-%d' % round_))
                print('create of %d resources: API %.2f s to its CREATE_COMPLETE event (POST '
                      '%.2f s; seen by a 1 s poll after %.2f s), command line %.2f s'
                      % (args.n, total, posted, observed, cli_s[-1]), flush=True)
                if round_ + 1 < args.rounds:
                    delete_through_api(service, name)
                    delete_through_api(service, 'cli-%d' % round_)
            fixed = cli_fixed_cost(service)
            results['create'] = {
                'cli_fixed_cost_s': round(fixed, 3),
                'ratio_api_over_cli_without_fixed_cost': round(
                    min(api_s) / max(min(cli_s) - fixed, 1e-9), 3),
                'api_s': [round(x, 3) for x in api_s], 'api_post_s': [round(x, 3) for x in posts],
                'api_observed_1s_poll_s': [round(x, 3) for x in observed_s],
                'cli_s': [round(x, 3) for x in cli_s],
                'api_best_s': round(min(api_s), 3), 'cli_best_s': round(min(cli_s), 3),
                'ratio_api_over_cli': round(min(api_s) / min(cli_s), 3),
                'overhead_s': round(min(api_s) - min(cli_s), 3),
            }

            # Reads on the stack of N resources the last API create left.
            from heatclient import client as heat_client
            hc = heat_client.Client('1', endpoint=service.endpoint, token='bench')
            name = 'api-%d' % (args.rounds - 1)
            stack = hc.stacks.get(name, resolve_outputs=False)
            canonical = '/v1/%s/stacks/%s/%s' % (PROJECT, name, stack.id)
            events = hc.events.list(stack.id, sort_dir='desc', limit=1)
            last = events[0].id
            cases = [
                ('stack show', canonical, 200, args.requests),
                ('stack show by name (302)', '/v1/%s/stacks/%s' % (PROJECT, name), 302,
                 args.requests),
                ('event list (all events)', canonical + '/events', 200,
                 max(1, args.requests // 10)),
                ('event poll (--wait)', canonical + '/events?sort_dir=asc&marker=%s' % last,
                 200, args.requests),
            ]
            results['reads'] = []
            for label, path, expect, requests in cases:
                load(service, path, 2, 3, expect)          # warm up
                figures = load(service, path, args.clients, requests, expect)
                figures['case'] = label
                results['reads'].append(figures)
                print('%-26s %7.1f req/s  p50 %8.2f ms  p99 %8.2f ms  errors %d  (%s requests,'
                      ' %s bytes)' % (label, figures['rps'] or 0, figures['p50_ms'] or 0,
                                      figures['p99_ms'] or 0, figures['errors'],
                                      figures['requests'], figures['body_bytes']), flush=True)
        finally:
            service.stop()
            results['service_exit'] = service.process.returncode if service.process else None
    create = results['create']
    print('create through the API / command line: %.2f s / %.2f s = x%.2f (%+.2f s); the '
          'command line\'s fixed cost (stack list) %.2f s, without it x%.2f'
          % (create['api_best_s'], create['cli_best_s'], create['ratio_api_over_cli'],
             create['overhead_s'], create['cli_fixed_cost_s'],
             create['ratio_api_over_cli_without_fixed_cost']))
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, 'api.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write('\n')
    print('wrote %s' % out)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.api', description=__doc__.split(
        '\n\n')[0])
    parser.add_argument('--n', type=int, default=1000, help='resources of the stack')
    parser.add_argument('--clients', type=int, default=10, help='concurrent read clients')
    parser.add_argument('--requests', type=int, default=300,
                        help='requests per client per read case (a tenth for the full '
                             'event list)')
    parser.add_argument('--rounds', type=int, default=1,
                        help='creates through each door (the best is compared)')
    parser.add_argument('--workers', type=int, help='[api] workers (default: the '
                        'service\'s default)')
    parser.add_argument('--threads', type=int, help='[api] threads per worker (default: '
                        'the service\'s default)')
    parser.add_argument('--out', default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), 'results'))
    args = parser.parse_args(argv)
    if not os.path.exists(API):
        parser.error('%s is not installed' % API)
    run(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
