"""In-memory stand-ins for what the engine gives a plugin: context, nested stacks, clock."""

import itertools

from heat_taskflow.resources import base


class FakeNested(base.NestedStackService):
    """Nested stacks in a dict; operations stay IN_PROGRESS until a test finishes them."""

    def __init__(self, auto_complete=False):
        self.stacks = {}
        self.create_calls = 0
        self.auto_complete = auto_complete
        self._ids = itertools.count(1)

    def create_stack(self, name, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        self.create_calls += 1
        for stack_id, stack in self.stacks.items():
            if stack['name'] == name and stack['action'] != 'DELETE':
                return stack_id
        stack_id = 'nested-%d' % next(self._ids)
        self.stacks[stack_id] = {'name': name, 'outputs': {}, 'resource_ids': {}}
        self._start(stack_id, 'CREATE', template, files, environment, parameters, timeout_mins)
        return stack_id

    def update_stack(self, stack_id, template, files=None, environment=None, parameters=None,
                     timeout_mins=None):
        self._start(stack_id, 'UPDATE', template, files, environment, parameters, timeout_mins)

    def _start(self, stack_id, action, template, files, environment, parameters, timeout):
        self.stacks[stack_id].update(
            template=template, files=files, environment=environment,
            parameters=parameters, timeout_mins=timeout, action=action,
            status='COMPLETE' if self.auto_complete else 'IN_PROGRESS', reason='')

    def delete_stack(self, stack_id):
        if stack_id in self.stacks:
            self.stacks[stack_id].update(action='DELETE', reason='',
                                         status='COMPLETE' if self.auto_complete
                                         else 'IN_PROGRESS')

    def stack_status(self, stack_id):
        stack = self.stacks.get(stack_id)
        if stack is None:
            return 'DELETE', 'COMPLETE', 'not found'
        return stack['action'], stack['status'], stack['reason']

    def stack_outputs(self, stack_id):
        return dict(self.stacks[stack_id]['outputs'])

    def stack_resource_ids(self, stack_id):
        return dict(self.stacks[stack_id]['resource_ids'])

    def finish(self, stack_id, status='COMPLETE', reason='', outputs=None, resource_ids=None):
        """Let the current operation of a stack end."""
        stack = self.stacks[stack_id]
        stack.update(status=status, reason=reason)
        if outputs is not None:
            stack['outputs'] = outputs
        if resource_ids is not None:
            stack['resource_ids'] = resource_ids

    def live(self):
        """Stacks that exist and are not deleted."""
        return {k: v for k, v in self.stacks.items()
                if not (v['action'] == 'DELETE' and v['status'] == 'COMPLETE')}


class FakeContext(base.ResourceContext):
    """A ResourceContext over plain dicts; ``data`` may be shared to simulate a re-run."""

    def __init__(self, resource_name='res', data=None, nested=None, signals=None,
                 stack_name='teststack', deadline=None, clock=0.0, crash_after_sets=None):
        self._resource_name = resource_name
        self.data = {} if data is None else data
        self._nested = nested if nested is not None else FakeNested()
        self.signal_store = {} if signals is None else signals
        self._stack_name = stack_name
        self._deadline = deadline
        self.clock = clock
        self.physical_ids = []
        # Simulates a conductor dying right after the Nth durable data_set of this run.
        self.crash_after_sets = crash_after_sets
        self.sets = 0

    stack_id = 'stack-id-1'
    project_id = 'project-1'

    @property
    def stack_name(self):
        return self._stack_name

    @property
    def resource_name(self):
        return self._resource_name

    @property
    def deadline(self):
        return self._deadline

    @property
    def nested(self):
        return self._nested

    def set_physical_id(self, physical_id):
        self.physical_ids.append(physical_id)
        self.data['__physical_id__'] = physical_id

    def data_get(self, key):
        return self.data.get(key)

    def data_set(self, key, value):
        self.data[key] = value
        self.sets += 1
        if self.crash_after_sets is not None and self.sets == self.crash_after_sets:
            raise Crash('crashed after storing %r' % key)

    def signals(self, resource_name):
        return list(self.signal_store.get(resource_name, []))

    def monotonic(self):
        return self.clock

    def advance(self, seconds):
        """Move the fake clock on."""
        self.clock += seconds


class Crash(Exception):
    """Raised by a test hook to simulate a conductor dying mid-action."""


def assert_create_idempotent(make, count_physical, finish=None, max_polls=100):
    """Enforce the idempotency contract on a plugin's create.

    ``make(ctx)`` builds a fresh plugin instance; ``count_physical()`` counts real things
    created; ``finish(ctx)`` lets asynchronous work end (e.g. completes nested stacks).
    For every point where the first run stores data, crash there, re-run create on a fresh
    instance over the same stored data, and check that exactly one real thing exists and
    every run agrees on the physical id. Returns the final context.
    """
    clean = FakeContext('res')
    res = make(clean)
    run_to_end(res.handle_create, res.check_create_complete, clean, finish, max_polls)
    total_sets = clean.sets
    assert count_physical(clean) == 1
    # A plain re-run after a completed create adopts what exists.
    rerun = make(clean)
    run_to_end(rerun.handle_create, rerun.check_create_complete, clean, finish, max_polls)
    assert count_physical(clean) == 1, 're-running a finished create made another'
    assert len(set(clean.physical_ids)) == 1, clean.physical_ids
    for crash_at in range(1, total_sets + 1):
        ctx = FakeContext('res', crash_after_sets=crash_at)
        first = make(ctx)
        try:
            run_to_end(first.handle_create, first.check_create_complete, ctx, finish,
                       max_polls)
        except Crash:
            pass
        else:
            raise AssertionError('expected a crash after data_set #%d' % crash_at)
        ctx.crash_after_sets = None
        again = make(ctx)
        run_to_end(again.handle_create, again.check_create_complete, ctx, finish, max_polls)
        assert count_physical(ctx) == 1, 'crash after data_set #%d left %d real things' % (
            crash_at, count_physical(ctx))
        assert len(set(ctx.physical_ids)) == 1, ctx.physical_ids
        # A plain re-run after a completed create adopts too.
        third = make(ctx)
        run_to_end(third.handle_create, third.check_create_complete, ctx, finish, max_polls)
        assert count_physical(ctx) == 1
        assert len(set(ctx.physical_ids)) == 1, ctx.physical_ids
    return clean


def run_to_end(handle, check, ctx, finish=None, max_polls=100):
    """Run handle() then poll check(cookie), letting ``finish`` and the clock move on."""
    cookie = handle()
    for _ in range(max_polls):
        if finish is not None:
            finish(ctx)
        if check(cookie):
            return
        ctx.advance(1)
    raise AssertionError('action did not complete in %d polls' % max_polls)
