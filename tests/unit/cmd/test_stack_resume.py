"""stack resume on the command line, in process on a fake service: messages and exit codes."""

import pytest

from heat_taskflow.cmd import shell
from heat_taskflow.engine import resume as resume_mod


class Row:
    def __init__(self, name, action, status):
        self.name, self.action, self.status = name, action, status


class ResumeService:
    def __init__(self, result=None, error=None, final=None):
        self.result, self.error, self.final = result, error, final
        self.waited = []

    def resume_stack(self, name, on_event=None):
        if self.error is not None:
            raise self.error
        return dict(self.result, stack_name=name)

    def wait(self, name, on_event=None):
        self.waited.append(name)
        return self.final


@pytest.fixture
def run(capsys):
    def run(service, *argv):
        app = shell.HeatTaskflowApp(service_factory=lambda conf: service)
        code = app.run(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_distributed_resume_says_what_it_reposted_and_waits(run):
    svc = ResumeService(result={'stack_status': 'CREATE_IN_PROGRESS',
                                'reposted': ['converge:a', 'converge:d']},
                        final={'stack_name': 'web', 'stack_status': 'CREATE_COMPLETE'})
    code, out, err = run(svc, 'stack', 'resume', '--wait', 'web', '-f', 'value',
                         '-c', 'stack_status')
    assert code == 0, err
    assert 'stack web: re-posted 2 job(s): converge:a, converge:d' in err
    assert svc.waited == ['web']
    assert out.strip() == 'CREATE_COMPLETE'
    assert 'Stack web CREATE_COMPLETE' in err


def test_distributed_resume_with_nothing_missing_succeeds(run):
    svc = ResumeService(result={'stack_status': 'UPDATE_IN_PROGRESS', 'reposted': []})
    code, out, err = run(svc, 'stack', 'resume', 'web', '-f', 'json')
    assert code == 0, err
    assert 'no job was missing from the job board; the conductors are running it' in err
    assert 'reposted' not in out and svc.waited == []


def test_resume_refused_exits_2_with_the_reason(run):
    svc = ResumeService(error=resume_mod.NothingToResume(Row('web', 'CREATE', 'COMPLETE')))
    code, out, err = run(svc, 'stack', 'resume', 'web')
    assert code == 2
    assert 'stack "web" is CREATE_COMPLETE: nothing to resume' in err


def test_legacy_resume_that_ends_rolled_back_exits_1(run):
    svc = ResumeService(result={'stack_status': 'ROLLBACK_COMPLETE',
                                'stack_status_reason': 'Create failed: boom'})
    code, out, err = run(svc, 'stack', 'resume', 'web')
    assert code == 1
    assert 'Create failed: boom' in err
