"""The TripleO-like example (examples/tripleo) on a cloud that loses responses.

The simulator acts on one call in ten and then answers 503, as when a response is lost on
its way back (``failure_mode: after``), and the first create of a server, a port and a
volume is always among them. A create whose answer was lost made its object: the driver
must find it by its intent token instead of making a second one. The audit then holds
exactly one creation per cloud resource of the template, and the delete (under the same
faults: a delete whose answer was lost is repeated and finds the object gone) leaves
nothing live.
"""

import collections

import pytest

from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

COUNTS = (1, 4, 1)
LOST = {'failure_rate': 0.1, 'failure_mode': 'after'}
ALWAYS_ONCE = ('servers.create', 'ports.create', 'volumes.create')


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.05, extra=('--seed', '13')) as cloud:
        yield cloud


@pytest.mark.parametrize('path', ['legacy', 'distributed'])
def test_lost_responses_make_one_object_per_resource(tmp_path, simcloud, path):
    cli, url = overcloud.heat(tmp_path, simcloud, path)
    simcloud.faults(**{'*': LOST}, **{op: dict(LOST, fail_next=1) for op in ALWAYS_ONCE})
    env = overcloud.environment(tmp_path / 'env.yaml', *COUNTS)

    cli('stack', 'create', '--wait', '-t', overcloud.TEMPLATE, '-e', env, 'overcloud')
    assert cli.value('stack', 'show', 'overcloud', column='stack_status') == \
        'CREATE_COMPLETE'
    made = overcloud.assert_created_once(simcloud, url, 'overcloud',
                                         overcloud.expected(*COUNTS))
    # The lost answers were recovered by looking the objects up by their tokens (a first
    # run creates without looking up): one create call per object, and lookups.
    calls = simcloud.calls()
    kinds = collections.Counter(c['kind'] for c in made)
    for op in ALWAYS_ONCE:
        kind = op.split('.')[0]
        assert calls[op] == kinds[kind] and calls.get(kind + '.list', 0) >= 1, (op, calls)

    cli('stack', 'delete', '--wait', 'overcloud')
    overcloud.assert_nothing_left(simcloud)
