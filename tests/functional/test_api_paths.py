"""Both paths behind heat-taskflow-api, with real processes.

Legacy: the operation runs in the API process (the stack records no conductor's job); a create
through the API is killed with the whole service (kill -9 of its process group: master and
workers, as a crash of the host), the service is started again and finishes the stack by itself
(resume_orphans at start), every physical creation happening exactly once (the
``OS::Heat::TestLedger`` ledger).

Distributed: ``convergence_engine = True`` and a job board on the session's real ZooKeeper
server; the API only validates, stores and posts; one ``heat-taskflow-conductor`` process runs
the jobs. A create made while no conductor runs stays CREATE_IN_PROGRESS (the API does not run
it) until the conductor starts; then create --wait, update --existing --wait and delete --wait
through the OpenStack client end as they do on Heat.
"""

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as database_mod
from heat_taskflow.resources.types.test_ledger import read_ledger
from tests.functional import api_server as api

pytestmark = [pytest.mark.functional]

CONDUCTOR = Path(sys.executable).parent / 'heat-taskflow-conductor'
BOUND = 120.0             # seconds: a guard against hangs, never a measurement
LAYERS, WIDTH = 3, 4
WAIT_SECS = 0.4


def ledger_template(ledger, value='v1'):
    resources = {}
    for layer in range(LAYERS):
        for i in range(WIDTH):
            res = {'type': 'OS::Heat::TestLedger',
                   'properties': {'ledger': str(ledger), 'value': '%s-%d-%d' % (value, layer, i),
                                  'create_wait_secs': WAIT_SECS}}
            if layer:
                res['depends_on'] = ['r%d_%d' % (layer - 1, i),
                                     'r%d_%d' % (layer - 1, (i + 1) % WIDTH)]
            resources['r%d_%d' % (layer, i)] = res
    return {'heat_template_version': '2018-08-31', 'resources': resources,
            'outputs': {'last': {'value': {'get_attr': ['r%d_0' % (LAYERS - 1), 'output']}}}}


def creates(ledger):
    return [line['resource'] for line in read_ledger(str(ledger)) if line['event'] == 'create']


def stored_stack(server, name):
    database = database_mod.Database(server.db_url)
    try:
        return db.stack_get_by_name(database, name, server.project)
    finally:
        database.dispose()


def lifecycle(osc, template, name):
    """create --wait, update --existing --wait, delete --wait through the OpenStack client."""
    created = osc('stack', 'create', '--wait', '--poll', '1', '-t', template,
                  '--parameter', 'word=one', name)
    assert 'CREATE_COMPLETE' in created.stdout, created
    assert osc.value('stack', 'show', name, column='stack_status') == 'CREATE_COMPLETE'
    assert osc.json('stack', 'output', 'show', name, 'word')['output_value'] == 'one'
    updated = osc('stack', 'update', '--existing', '--wait', '--parameter', 'word=two', name)
    assert 'UPDATE_COMPLETE' in updated.stdout, updated
    assert osc.value('stack', 'show', name, column='stack_status') == 'UPDATE_COMPLETE'
    assert osc.json('stack', 'output', 'show', name, 'word')['output_value'] == 'two'
    rows = osc.json('stack', 'resource', 'list', name)
    # a's value changed, and b reads it: both updated in place
    assert {r['resource_name']: r['resource_status'] for r in rows} == {
        'a': 'UPDATE_COMPLETE', 'b': 'UPDATE_COMPLETE'}, rows
    stack = stored_stack(osc.server, name)
    osc('stack', 'delete', '--wait', '--yes', name)
    missing = osc('stack', 'show', name, expect=1)
    assert 'Stack not found' in missing.stderr + missing.stdout, missing
    return stack


SMALL = """\
heat_template_version: 2018-08-31
parameters:
  word:
    type: string
resources:
  a:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: word}
      wait_secs: 0.2
  b:
    type: OS::Heat::TestResource
    properties:
      value: {get_attr: [a, output]}
outputs:
  word:
    value: {get_attr: [b, output]}
"""


# -- legacy ------------------------------------------------------------------------------------

def test_legacy_lifecycle_runs_in_the_api_process(tmp_path):
    server = api.running(tmp_path / 'api')
    try:
        template = tmp_path / 'small.yaml'
        template.write_text(SMALL)
        stack = lifecycle(api.Openstack(server), template, 'legacy')
        assert stack.convergence is False
    finally:
        server.stop()


def test_legacy_create_survives_kill_9_of_the_api_and_finishes_on_restart(tmp_path):
    server = api.ApiServer(tmp_path / 'api',
                           extra={'DEFAULT': {'legacy_heartbeat_interval': 0.2}})
    server.start()
    try:
        ledger = tmp_path / 'ledger.jsonl'
        hc = api.heat_client(server)
        body = hc.stacks.create(stack_name='crash', template=ledger_template(ledger))
        stack_id = body['stack']['id']
        # The create returns at once (it never holds the request); the stack is in progress.
        status = hc.stacks.get(stack_id).stack_status
        assert status == 'CREATE_IN_PROGRESS', (
            'POST returned with the stack %s: the operation ran inside the request\n%s'
            % (status, server.log_tail()))
        deadline = time.monotonic() + BOUND
        # Kill it once the first layer exists and the second is being created.
        while len(creates(ledger)) < WIDTH + 1:
            assert server.running(), server
            assert time.monotonic() < deadline, 'the create never got going\n%s' % server
            time.sleep(0.02)
        server.kill()
        stored = stored_stack(server, 'crash')
        assert (stored.action, stored.status) == ('CREATE', 'IN_PROGRESS')
        assert stored.convergence is False
        before = len(creates(ledger))
        assert before < LAYERS * WIDTH

        server.start()             # resume_orphans: the stack finishes by itself
        hc = api.heat_client(server)
        status = api.wait_for_status(lambda: hc.stacks.get('crash'), 'CREATE_COMPLETE',
                                     timeout=BOUND, server=server)
        assert status == 'CREATE_COMPLETE'
        made = creates(ledger)
        names = ['r%d_%d' % (layer, i) for layer in range(LAYERS) for i in range(WIDTH)]
        assert sorted(made) == sorted(names), made          # each exactly once
        stack = hc.stacks.get('crash')
        assert stack.id == stack_id
        assert {r.resource_status for r in hc.resources.list('crash')} == {'CREATE_COMPLETE'}
        events = [(e.resource_name, e.resource_status)
                  for e in hc.events.list('crash', sort_dir='asc')]
        assert events[-1] == ('crash', 'CREATE_COMPLETE'), events
        hc.stacks.delete('crash')
        api.wait_gone(hc, 'crash', timeout=BOUND, server=server)
    finally:
        server.stop()


# -- distributed -------------------------------------------------------------------------------

class Conductor:
    """One heat-taskflow-conductor process on the API's configuration file."""

    def __init__(self, server):
        self.server = server
        self.log_path = server.dir / 'conductor.log'
        self.process = None

    def start(self):
        self._log = open(self.log_path, 'ab')
        self.process = subprocess.Popen(
            [str(CONDUCTOR), '--config-file', str(self.server.config_path)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=self.server.env)

    def log(self):
        return self.log_path.read_text(errors='replace')[-6000:]

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def test_distributed_path_with_a_conductor_on_zookeeper(tmp_path, zookeeper):
    board = 'zookeeper://%s/heat-taskflow-api-test/%s' % (zookeeper, uuid.uuid4().hex)
    server = api.ApiServer(tmp_path / 'api', extra={
        'DEFAULT': {'convergence_engine': 'True'},
        'jobboard': {'url': board, 'session_timeout': 4, 'connect_timeout': 20},
        'conductor': {'wait_timeout': 0.1, 'health_file': ''},
    })
    server.start()
    conductor = Conductor(server)
    try:
        template = tmp_path / 'small.yaml'
        template.write_text(SMALL)
        osc = api.Openstack(server)
        # No conductor yet: the API stores and posts, nobody runs the work.
        osc('stack', 'create', '-t', template, '--parameter', 'word=early', 'early')
        time.sleep(3)
        assert osc.value('stack', 'show', 'early', column='stack_status') == \
            'CREATE_IN_PROGRESS'
        stored = stored_stack(server, 'early')
        assert stored.convergence is True
        rows = osc.json('stack', 'resource', 'list', 'early')
        assert all(r['resource_status'] in ('INIT_COMPLETE', 'CREATE_IN_PROGRESS')
                   for r in rows), rows

        conductor.start()
        hc = api.heat_client(server)
        api.wait_for_status(lambda: hc.stacks.get('early'), 'CREATE_COMPLETE', timeout=BOUND,
                            server=server)
        assert hc.stacks.output_show('early', 'word')['output']['output_value'] == 'early'

        stack = lifecycle(osc, template, 'distributed')
        assert stack.convergence is True
        osc('stack', 'delete', '--wait', '--yes', 'early')
        assert [s['Stack Name'] for s in osc.json('stack', 'list')] == []
    except AssertionError as err:
        raise AssertionError('%s\n--- conductor log ---\n%s' % (
            err, conductor.log() if conductor.process else '(not started)')) from None
    finally:
        conductor.stop()
        server.stop()

