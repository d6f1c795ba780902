"""stack event list --follow, in process on a fake service that scripts a stack's progress."""

import time

import pytest

from heat_taskflow.cmd import shell, stack_events
from heat_taskflow.engine import exceptions


def event(n, resource, status, reason='state changed', stack_name='web'):
    return {'id': n, 'stack_name': stack_name, 'resource_name': resource,
            'resource_status': status, 'resource_status_reason': reason,
            'event_time': '2024-05-01T10:00:%02dZ' % n}


class FollowService:
    """Each poll (get_stack then list_events) moves one step through a script of
    (stack status, events stored so far)."""

    def __init__(self, script, gone_after=None):
        self.script = script
        self.step = -1
        self.gone_after = gone_after
        self.calls = []

    def get_stack(self, name):
        self.step += 1
        if self.gone_after is not None and self.step >= self.gone_after:
            raise exceptions.StackNotFound(name)
        status = self.script[min(self.step, len(self.script) - 1)][0]
        return {'stack_name': name, 'stack_status': status, 'stack_status_reason': 'why'}

    def list_events(self, name, resource_name=None, marker=None, nested_depth=0):
        self.calls.append(('list_events', marker, nested_depth))
        stored = self.script[min(self.step, len(self.script) - 1)][1]
        ids = [e['id'] for e in stored]
        # The marker is exclusive: what follows that event in the stored order.
        return stored[ids.index(marker) + 1:] if marker in ids else list(stored)


@pytest.fixture
def run(capsys, monkeypatch):
    sleeps = []
    monkeypatch.setattr(time, 'sleep', sleeps.append)

    def run(service, *argv):
        app = shell.HeatTaskflowApp(service_factory=lambda conf: service)
        code = app.run(list(argv))
        out, err = capsys.readouterr()
        return code, out, err, sleeps

    return run


E1 = event(1, 'a', 'CREATE_IN_PROGRESS')
E2 = event(2, 'a', 'CREATE_COMPLETE')
E3 = event(3, 'b', 'CREATE_IN_PROGRESS')
E4 = event(4, 'b', 'CREATE_COMPLETE')


def test_follow_prints_new_events_until_the_stack_settles(run):
    svc = FollowService([('CREATE_IN_PROGRESS', [E1]),
                         ('CREATE_IN_PROGRESS', [E1, E2, E3]),
                         ('CREATE_IN_PROGRESS', [E1, E2, E3]),
                         ('CREATE_COMPLETE', [E1, E2, E3, E4])])
    code, out, err, sleeps = run(svc, 'stack', 'event', 'list', 'web', '--follow')
    assert code == 0, err
    assert out.splitlines() == [
        '2024-05-01T10:00:01Z [a]: CREATE_IN_PROGRESS  state changed',
        '2024-05-01T10:00:02Z [a]: CREATE_COMPLETE  state changed',
        '2024-05-01T10:00:03Z [b]: CREATE_IN_PROGRESS  state changed',
        '2024-05-01T10:00:04Z [b]: CREATE_COMPLETE  state changed',
    ]
    assert len(sleeps) == 3 and sleeps[0] == stack_events.FOLLOW_POLL
    # Each poll asks only for events after the last one printed.
    assert [c[1] for c in svc.calls] == [None, 1, 3, 3]


def test_follow_of_a_settled_stack_prints_everything_once(run):
    svc = FollowService([('CREATE_COMPLETE', [E1, E2])])
    code, out, _, sleeps = run(svc, 'stack', 'event', 'list', 'web', '--follow')
    assert code == 0
    assert len(out.splitlines()) == 2 and sleeps == []


def test_follow_exits_1_when_the_stack_ends_failed(run):
    svc = FollowService([('UPDATE_IN_PROGRESS', [E1]),
                         ('UPDATE_FAILED', [E1, event(2, 'a', 'UPDATE_FAILED', 'boom')])])
    code, out, err, _ = run(svc, 'stack', 'event', 'list', 'web', '--follow')
    assert code == 1
    assert out.splitlines()[-1].endswith('[a]: UPDATE_FAILED  boom')
    assert 'Stack web UPDATE_FAILED: why' in err


def test_follow_with_nested_depth_dedups_and_names_the_stack(run):
    nested = event(2, 'm', 'CREATE_COMPLETE', stack_name='web-group')
    svc = FollowService([('CREATE_IN_PROGRESS', [E1]),
                         ('CREATE_COMPLETE', [E1, nested])])
    code, out, _, _ = run(svc, 'stack', 'event', 'list', 'web', '--follow',
                          '--nested-depth', '1')
    assert code == 0
    assert out.splitlines() == ['2024-05-01T10:00:01Z [web.a]: CREATE_IN_PROGRESS  state '
                                'changed',
                                '2024-05-01T10:00:02Z [web-group.m]: CREATE_COMPLETE  state '
                                'changed']
    # Nested stacks' events are read after the last one printed too, by its marker.
    assert [(c[1], c[2]) for c in svc.calls] == [(None, 1), (1, 1)]


def test_follow_stops_when_the_stack_is_deleted(run):
    svc = FollowService([('DELETE_IN_PROGRESS', [E1])], gone_after=1)
    code, out, err, _ = run(svc, 'stack', 'event', 'list', 'web', '--follow')
    assert code == 0
    assert len(out.splitlines()) == 1
    assert 'stack web no longer exists' in err


def test_follow_of_an_unknown_stack_exits_2(run):
    svc = FollowService([], gone_after=0)
    code, _, err, _ = run(svc, 'stack', 'event', 'list', 'nope', '--follow')
    assert code == 2
    assert 'stack "nope" not found' in err


def test_follow_ends_on_ctrl_c(run, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, 'sleep', interrupt)
    svc = FollowService([('CREATE_IN_PROGRESS', [E1])])
    code, out, err, _ = run(svc, 'stack', 'event', 'list', 'web', '--follow')
    assert code == 130
    assert len(out.splitlines()) == 1
    assert 'interrupted' in err


def test_without_follow_it_is_a_table_as_before(run):
    svc = FollowService([('CREATE_IN_PROGRESS', [E1, E2])])
    svc.list_events = lambda name, **kw: [E1, E2]
    code, out, _, sleeps = run(svc, 'stack', 'event', 'list', 'web', '-f', 'value',
                               '-c', 'resource_status')
    assert code == 0
    assert out.split() == ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE'] and sleeps == []
