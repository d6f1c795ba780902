"""A legacy `stack create` killed with kill -9 is resumed at once: its holder (the engine id
names this host, the pid and the process's start time) is visibly gone, so `stack resume`
does not wait for the heartbeat (12 s here, 36 s to go stale) to say so."""

import time

import pytest
import yaml

from heat_taskflow.engine import resume as resume_mod
from heat_taskflow.persistence import api as db
from heat_taskflow.persistence import database as database_mod
from heat_taskflow.persistence.models import utcnow
from tests.functional import cli as cli_mod
from tests.functional.test_resume_legacy import creates

pytestmark = [pytest.mark.functional]

BOUND = 60.0          # seconds: a guard against hangs, never a measurement
HEARTBEAT = 12.0
# b's create outlasts a loaded machine's slowest command line (11 s seen at load 8 on 2
# cores), so the stack is still in progress when the refused resume looks at it.
WAITS = {'a': 0.2, 'b': 12.0, 'c': 0.2}


def template(ledger):
    def res(value, after=None):
        snippet = {'type': 'OS::Heat::TestLedger',
                   'properties': {'ledger': str(ledger), 'value': value,
                                  'create_wait_secs': WAITS[value]}}
        if after:
            snippet['depends_on'] = [after]
        return snippet

    return yaml.safe_dump({'heat_template_version': '2018-08-31', 'resources': {
        'a': res('a'), 'b': res('b', 'a'), 'c': res('c', 'b')}})


def test_a_killed_holder_of_this_host_is_dead_at_once(tmp_path):
    state = tmp_path / 'state'
    state.mkdir()
    url = 'sqlite:///%s' % (tmp_path / 'heat-taskflow.sqlite')
    config = tmp_path / 'heat-taskflow.conf'
    config.write_text('[DEFAULT]\nstate_dir = %s\nlegacy_heartbeat_interval = %s\n\n'
                      '[database]\nconnection = %s\n' % (state, HEARTBEAT, url))
    cli = cli_mod.Cli(config, state)
    ledger = tmp_path / 'ledger.jsonl'
    path = tmp_path / 'chain.yaml'
    path.write_text(template(ledger))

    started = cli.popen('stack', 'create', '-t', path, '--wait', 'held')
    argv, proc = started
    deadline = time.monotonic() + BOUND
    while 'a' not in creates(ledger):
        assert proc.poll() is None, cli.finish(started, expect=None)
        assert time.monotonic() < deadline, 'the create never got going'
        time.sleep(0.02)
    # While its process lives, the stack is refused.
    refused = cli('stack', 'resume', 'held', expect=2)
    assert 'is not interrupted' in refused.stderr and 'last heartbeat' in refused.stderr
    assert proc.poll() is None, 'the create ended before it could be killed'
    proc.kill()
    proc.wait(timeout=BOUND)
    killed_at = time.monotonic()

    database = database_mod.Database(url)
    try:
        stack = db.stack_get_by_name(database, 'held', 'default')
        assert (stack.action, stack.status) == ('CREATE', 'IN_PROGRESS')
        holder_id = resume_mod.parse_holder(stack.engine_id)[0]
        assert holder_id.split(':')[1] == str(proc.pid)
        assert resume_mod.holder_dead(holder_id)
        # By its heartbeat alone the stack is not interrupted yet: only the holder's
        # death lets the resume in.
        age = (utcnow() - resume_mod.last_seen(stack)).total_seconds()
        assert age < resume_mod.STALE_INTERVALS * HEARTBEAT, age
        result = cli('stack', 'resume', '--wait', 'held', expect=0)
        accepted = time.monotonic() - killed_at
        assert 'Stack held CREATE_COMPLETE' in result.stderr, result
        # Sooner than a stale heartbeat (3 x 12 s) would allow, resume's own run (b's
        # 12 s create again, and c) included.
        assert accepted < resume_mod.STALE_INTERVALS * HEARTBEAT, accepted
        assert sorted(creates(ledger)) == ['a', 'b', 'c']
        row = db.stack_get(database, stack.id)
        assert (row.status, row.engine_id) == ('COMPLETE', None)
    finally:
        database.engine.dispose()
