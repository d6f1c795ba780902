"""What encryption at rest costs: create and show a stack of N TestResources carrying a
hidden parameter's value, with [DEFAULT] encrypt_parameters_and_properties off and on.

    python -m bench.encryption [--resources 1000] [--repeat 2]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from oslo_config import cfg

from heat_taskflow.conf import opts
from heat_taskflow.engine import legacy
from heat_taskflow.engine import service as service_mod
from heat_taskflow.persistence import crypto
from heat_taskflow.persistence.database import Database


def template(count):
    return yaml.safe_dump({
        'heat_template_version': '2018-08-31',
        'parameters': {'password': {'type': 'string', 'hidden': True}},
        'resources': {'r%04d' % i: {'type': 'OS::Heat::TestResource',
                                    'properties': {'value': {'get_param': 'password'}}}
                      for i in range(count)},
        'outputs': {'first': {'value': {'get_attr': ['r0000', 'output']}}},
    })


# Seconds spent inside the cipher and values handled: {'encrypt': [s, n], 'decrypt': [s, n]}.
CRYPTO = {'encrypt': [0.0, 0], 'decrypt': [0.0, 0]}


def _timed(name):
    original = getattr(crypto.Cipher, name)

    def method(self, value):
        start = time.perf_counter()
        try:
            return original(self, value)
        finally:
            CRYPTO[name][0] += time.perf_counter() - start
            CRYPTO[name][1] += 1
    return method


def run_once(count, encrypt, base):
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    conf.set_override('state_dir', str(base))
    cipher = None
    if encrypt:
        key_file = base / 'k.key'
        crypto.write_key_file(str(key_file), [crypto.generate_key()])
        conf.set_override('encrypt_parameters_and_properties', True)
        conf.set_override('auth_encryption_key_file', str(key_file))
        cipher = crypto.from_conf(conf)
    db = Database('sqlite:///%s' % (base / 'heat.sqlite'), cipher=cipher)
    db.sync()
    executors = legacy.ExecutorPool(conf.max_concurrent_resource_actions)
    service = service_mod.StackService(conf, database=db, executors=executors)
    try:
        start = time.perf_counter()
        view = service.create_stack('b', template(count), 'b.yaml',
                                    parameters={'password': 'SeCrEt-xyz-123'})
        created = time.perf_counter() - start
        assert view['stack_status'] == 'CREATE_COMPLETE', view['stack_status_reason']
        start = time.perf_counter()
        service.get_stack('b')
        service.list_resources('b', with_detail=True)
        shown = time.perf_counter() - start
    finally:
        executors.shutdown()
        db.dispose()
    return created, shown


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--resources', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=2)
    args = parser.parse_args()
    for name in CRYPTO:
        setattr(crypto.Cipher, name, _timed(name))
    results = {False: [], True: []}
    for _ in range(args.repeat):
        for encrypt in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                results[encrypt].append(run_once(args.resources, encrypt, Path(tmp)))
    for encrypt, runs in results.items():
        print('encryption %-3s  create %.2f s  show+resources %.3f s  (median of %d)' % (
            'on' if encrypt else 'off', statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs), len(runs)))
    print('inside the cipher, per encrypted run: encrypt %.3f s (%d values), decrypt %.3f s '
          '(%d values)' % (CRYPTO['encrypt'][0] / args.repeat, CRYPTO['encrypt'][1] // args.repeat,
                           CRYPTO['decrypt'][0] / args.repeat,
                           CRYPTO['decrypt'][1] // args.repeat))


if __name__ == '__main__':
    main()
