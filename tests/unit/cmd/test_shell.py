"""The heat-taskflow command line (heat_taskflow/cmd/shell.py and its commands), in process.

The engine service is replaced by FakeService through HeatTaskflowApp(service_factory=...).
"""

import io
import json
import logging
import re

import pytest
import yaml
from cliff import commandmanager

from heat_taskflow.cmd import shell
from heat_taskflow.engine import exceptions
from heat_taskflow.template.errors import TemplateError

TEMPLATE = """heat_template_version: 2018-08-31
resources:
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: boot.sh}
"""

COMMANDS = ['stack create', 'stack update', 'stack delete', 'stack cancel', 'stack show',
            'stack list',
            'stack output list', 'stack output show', 'stack resource list',
            'stack resource show', 'stack resource signal', 'stack resource mark-unhealthy',
            'stack event list', 'stack failures list', 'stack template show',
            'template validate']


def stack(name='web', status='CREATE_COMPLETE', reason='Stack CREATE completed successfully',
          **extra):
    data = {
        'id': 'id-%s' % name, 'stack_name': name, 'description': 'A stack',
        'stack_status': status, 'stack_status_reason': reason,
        'action': status.split('_')[0], 'status': status.split('_', 1)[1],
        'creation_time': '2024-05-01T10:00:00Z', 'updated_time': None,
        'parameters': {'flavor': 'small', 'password': '******'},
        'outputs': [{'output_key': 'ip', 'output_value': '10.0.0.5',
                     'description': 'Address', 'output_error': None}],
        'timeout_mins': 60, 'disable_rollback': False, 'parent': None, 'path': 'legacy',
    }
    data.update(extra)
    return data


def event(n, resource, status, reason='state changed', done=None, total=None):
    ev = {'id': 'ev-%d' % n, 'stack_name': 'web', 'resource_name': resource,
          'physical_resource_id': 'pid-%s' % resource, 'resource_status': status,
          'resource_status_reason': reason, 'event_time': '2024-05-01T10:00:%02dZ' % n}
    if total is not None:
        ev['progress'] = (done, total)
    return ev


class FakeService:
    """Records every call; results and errors are set per test."""

    def __init__(self, conf):
        self.conf = conf
        self.calls = []
        self.result = stack()
        self.error = None
        self.events = []            # sent to on_event by the operation call
        self.wait_events = []       # sent to on_event by wait()
        self.wait_result = stack()

    def _call(self, method, *args, **kwargs):
        self.calls.append((method, args, kwargs))
        if self.error is not None:
            raise self.error

    def _operation(self, method, *args, **kwargs):
        self._call(method, *args, **kwargs)
        on_event = kwargs.get('on_event')
        if on_event is not None:
            for ev in self.events:
                on_event(ev)
        return self.result

    def create_stack(self, *args, **kwargs):
        return self._operation('create_stack', *args, **kwargs)

    def update_stack(self, *args, **kwargs):
        return self._operation('update_stack', *args, **kwargs)

    def delete_stack(self, *args, **kwargs):
        return self._operation('delete_stack', *args, **kwargs)

    def check_stack(self, *args, **kwargs):
        return self._operation('check_stack', *args, **kwargs)

    def wait(self, name, on_event=None):
        self._call('wait', name, on_event=on_event)
        for ev in self.wait_events:
            on_event(ev)
        return self.wait_result

    def __getattr__(self, method):
        # get_stack, list_stacks, list_outputs, ... : record and return self.result
        if method.startswith(('get_', 'list_', 'show_', 'validate_', 'signal_')):
            def call(*args, **kwargs):
                self._call(method, *args, **kwargs)
                return self.result
            return call
        raise AttributeError(method)

    def called(self, method):
        found = [c for c in self.calls if c[0] == method]
        assert len(found) == 1, self.calls
        return found[0][1], found[0][2]


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def svc():
    return FakeService(None)


@pytest.fixture
def cli(svc, capsys):
    """cli(*argv) -> (exit code, stdout, stderr)."""

    def run(*argv, stdin=None, stderr=None):
        def factory(conf):
            svc.conf = conf
            return svc

        app = shell.HeatTaskflowApp(service_factory=factory, stdin=stdin, stderr=stderr)
        code = app.run(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def tpl(tmp_path):
    (tmp_path / 'boot.sh').write_text('#!/bin/sh\necho hi\n')
    path = tmp_path / 'main.yaml'
    path.write_text(TEMPLATE)
    return path


# --- commands are registered ---------------------------------------------------------------

def test_every_command_is_an_entry_point():
    manager = commandmanager.CommandManager(shell.COMMAND_NAMESPACE)
    for name in COMMANDS:
        factory, found, rest = manager.find_command(name.split() + ['x'])
        assert found == name and rest == ['x']


def test_unknown_command_is_a_usage_error(cli, svc):
    code, out, err = cli('stack frobnicate', 'web')
    assert code == 2
    assert '"stack frobnicate web" is not a command' in err
    assert svc.calls == []


def test_no_command_is_a_usage_error(cli):
    code, _, err = cli()
    assert code == 2
    assert 'a command is required' in err


# --- stack create --------------------------------------------------------------------------

def test_create_passes_template_files_environment_and_parameters(cli, svc, tpl, tmp_path):
    env = tmp_path / 'env.yaml'
    env.write_text('parameters: {flavor: big}\n')
    (tmp_path / 'key.pub').write_text('ssh-rsa AAA\n')
    code, out, err = cli('stack', 'create', '-t', str(tpl), '-e', str(env),
                         '--parameter', 'flavor=small', '--parameter', 'cmd=a=b;c',
                         '--parameter-file', 'key=%s' % (tmp_path / 'key.pub'),
                         '--timeout', '5', '--disable-rollback', 'web', '-f', 'json')
    assert code == 0, err
    args, kwargs = svc.called('create_stack')
    assert args == ('web', TEMPLATE, str(tpl), {'boot.sh': '#!/bin/sh\necho hi\n'},
                    [(str(env), 'parameters: {flavor: big}\n')],
                    {'flavor': 'small', 'cmd': 'a=b;c', 'key': 'ssh-rsa AAA\n'})
    assert kwargs['timeout_mins'] == 5
    assert kwargs['disable_rollback'] is True
    assert kwargs['on_event'] is None
    shown = json.loads(out)
    assert shown['stack_name'] == 'web'
    assert shown['stack_status'] == 'CREATE_COMPLETE'
    assert shown['parameters'] == {'flavor': 'small', 'password': '******'}
    assert shown['outputs'][0]['output_value'] == '10.0.0.5'


def test_create_defaults(cli, svc, tpl):
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web')
    assert code == 0, err
    args, kwargs = svc.called('create_stack')
    assert args[4] == [] and args[5] == {}
    assert kwargs['timeout_mins'] is None and kwargs['disable_rollback'] is False


def test_create_failed_exits_1_and_says_why(cli, svc, tpl):
    svc.result = stack(status='CREATE_FAILED', reason='resource cfg: boom')
    code, out, err = cli('stack', 'create', '-t', str(tpl), 'web', '-f', 'value',
                         '-c', 'stack_status')
    assert code == 1
    assert out.strip() == 'CREATE_FAILED'
    assert 'Stack web CREATE_FAILED: resource cfg: boom' in err


@pytest.mark.parametrize('error, code', [
    (TemplateError('unknown resource type', ('resources', 'cfg', 'type'), 3, 'main.yaml'), 2),
    (exceptions.StackExists('web'), 2),
    (exceptions.InvalidInput('parameter "flavor": not one of small, big'), 2),
    (exceptions.ActionInProgress('web', 'CREATE'), 2),
    (exceptions.OperationFailed('resource cfg failed'), 1),
])
def test_engine_errors_map_to_exit_codes(cli, svc, tpl, error, code):
    svc.error = error
    rc, out, err = cli('stack', 'create', '-t', str(tpl), 'web')
    assert rc == code
    assert err.strip() == str(error)
    assert out == ''


def test_template_error_names_file_line_and_path(cli, svc, tpl):
    svc.error = TemplateError('unknown resource type', ('resources', 'cfg', 'type'), 3,
                              'main.yaml')
    _, _, err = cli('stack', 'create', '-t', str(tpl), 'web')
    assert 'main.yaml:3: resources.cfg.type: unknown resource type' in err


@pytest.mark.parametrize('argv, message', [
    (['--parameter', 'flavor'], 'expected KEY=VALUE for --parameter, got "flavor"'),
    (['--parameter', '=x'], 'expected KEY=VALUE for --parameter, got "=x"'),
    (['--parameter-file', 'key'], 'expected KEY=VALUE for --parameter-file, got "key"'),
    (['--timeout', '0'], 'expected a whole number >= 1, got "0"'),
    (['--timeout', 'soon'], 'expected a whole number >= 1, got "soon"'),
])
def test_create_usage_errors(cli, svc, tpl, argv, message):
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web', *argv)
    assert code == 2
    assert message in err
    assert svc.calls == []


def test_create_requires_template(cli, svc):
    code, _, err = cli('stack', 'create', 'web')
    assert code == 2
    assert '-t/--template' in err
    assert svc.calls == []


def test_parameter_given_twice_is_a_usage_error(cli, svc, tpl, tmp_path):
    (tmp_path / 'v').write_text('x')
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web', '--parameter', 'a=1',
                       '--parameter-file', 'a=%s' % (tmp_path / 'v'))
    assert code == 2
    assert 'parameter "a" is given more than once' in err
    assert svc.calls == []


def test_missing_files_are_usage_errors_naming_them(cli, svc, tmp_path, tpl):
    code, _, err = cli('stack', 'create', '-t', str(tmp_path / 'nope.yaml'), 'web')
    assert (code, err.strip()) == (2, 'template %s not found' % (tmp_path / 'nope.yaml'))
    (tmp_path / 'boot.sh').unlink()
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web')
    assert code == 2
    assert err.strip() == 'file %s not found (referenced by %s)' % (tmp_path / 'boot.sh', tpl)
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web',
                       '--parameter-file', 'k=%s' % (tmp_path / 'gone'))
    assert code == 2
    assert 'parameter file %s not found' % (tmp_path / 'gone') in err
    assert svc.calls == []


# --- --wait ----------------------------------------------------------------------------------

def test_wait_legacy_prints_events_as_they_happen(cli, svc, tpl):
    svc.events = [event(1, 'web', 'CREATE_IN_PROGRESS', 'Stack CREATE started', 0, 1),
                  event(2, 'cfg', 'CREATE_IN_PROGRESS', 'state changed', 0, 1),
                  event(3, 'cfg', 'CREATE_COMPLETE', 'state changed', 1, 1),
                  event(3, 'cfg', 'CREATE_COMPLETE', 'state changed', 1, 1)]   # duplicate
    code, out, err = cli('stack', 'create', '-t', str(tpl), 'web', '--wait', '-f', 'json')
    assert code == 0, err
    assert callable(svc.called('create_stack')[1]['on_event'])
    assert not [c for c in svc.calls if c[0] == 'wait']     # legacy: already finished
    assert err.splitlines() == [
        '2024-05-01T10:00:01Z [web]: CREATE_IN_PROGRESS  Stack CREATE started  (0/1)',
        '2024-05-01T10:00:02Z [cfg]: CREATE_IN_PROGRESS  state changed  (0/1)',
        '2024-05-01T10:00:03Z [cfg]: CREATE_COMPLETE  state changed  (1/1)',
        'Stack web CREATE_COMPLETE',
    ]
    assert json.loads(out)['stack_status'] == 'CREATE_COMPLETE'     # stdout stays parseable


def test_wait_distributed_follows_the_stack_and_fails(cli, svc, tpl):
    svc.result = stack(status='CREATE_IN_PROGRESS', reason='posted', path='distributed')
    svc.wait_events = [event(4, 'cfg', 'CREATE_FAILED', 'boom', 1, 2)]
    svc.wait_result = stack(status='CREATE_FAILED', reason='Resource CREATE failed: boom')
    code, out, err = cli('stack', 'create', '-t', str(tpl), 'web', '--wait',
                         '-f', 'value', '-c', 'stack_status')
    assert code == 1
    args, kwargs = svc.called('wait')
    assert args == ('web',) and callable(kwargs['on_event'])
    assert err.splitlines() == [
        '2024-05-01T10:00:04Z [cfg]: CREATE_FAILED  boom  (1/2)',
        'Stack web CREATE_FAILED: Resource CREATE failed: boom',
    ]
    assert out.strip() == 'CREATE_FAILED'


def test_without_wait_distributed_returns_once_posted(cli, svc, tpl):
    svc.result = stack(status='CREATE_IN_PROGRESS', reason='posted', path='distributed')
    code, out, err = cli('stack', 'create', '-t', str(tpl), 'web', '-f', 'json')
    assert code == 0
    assert json.loads(out)['stack_status'] == 'CREATE_IN_PROGRESS'
    assert not [c for c in svc.calls if c[0] == 'wait']
    assert err == ''


def test_wait_on_a_terminal_draws_a_progress_bar(cli, svc, tpl):
    svc.events = [event(1, 'cfg', 'CREATE_IN_PROGRESS', 'state changed', 0, 4),
                  event(2, 'cfg', 'CREATE_COMPLETE', 'state changed', 3, 4)]
    tty = Tty()
    code, _, _ = cli('stack', 'create', '-t', str(tpl), 'web', '--wait', stderr=tty)
    assert code == 0
    drawn = re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', tty.getvalue())
    final_bar = drawn.split('\r')[-1]
    assert re.match(r'web [━╺╸]+ 3/4 ', final_bar), final_bar   # done / total from 'progress'
    assert '[cfg]: CREATE_COMPLETE' in drawn
    assert 'Stack web CREATE_COMPLETE' in drawn


# --- stack update ----------------------------------------------------------------------------

def test_update_with_template(cli, svc, tpl):
    svc.result = stack(status='UPDATE_COMPLETE')
    code, out, err = cli('stack', 'update', 'web', '-t', str(tpl), '--parameter', 'a=1',
                         '--timeout', '9', '--rollback', 'disabled', '--converge')
    assert code == 0, err
    args, kwargs = svc.called('update_stack')
    assert args == ('web',)
    assert kwargs['template'] == TEMPLATE
    assert kwargs['template_filename'] == str(tpl)
    assert kwargs['files'] == {'boot.sh': '#!/bin/sh\necho hi\n'}
    assert kwargs['environments'] is None
    assert kwargs['parameters'] == {'a': '1'}
    assert kwargs['existing'] is False
    assert kwargs['timeout_mins'] == 9
    assert kwargs['disable_rollback'] is True
    assert kwargs['converge'] is True
    assert 'UPDATE_COMPLETE' in out


def test_update_existing_without_template(cli, svc):
    svc.result = stack(status='UPDATE_COMPLETE')
    code, _, err = cli('stack', 'update', 'web', '--existing', '--parameter', 'a=2',
                       '--rollback', 'enabled')
    assert code == 0, err
    _, kwargs = svc.called('update_stack')
    assert kwargs['template'] is None and kwargs['files'] is None
    assert kwargs['existing'] is True
    assert kwargs['parameters'] == {'a': '2'}
    assert kwargs['disable_rollback'] is False
    assert kwargs['converge'] is False


def test_update_rollback_default_keeps_stack_setting(cli, svc, tpl):
    svc.result = stack(status='UPDATE_COMPLETE')
    cli('stack', 'update', 'web', '-t', str(tpl))
    assert svc.called('update_stack')[1]['disable_rollback'] is None


def test_update_needs_template_or_existing(cli, svc):
    code, _, err = cli('stack', 'update', 'web')
    assert code == 2
    assert '-t/--template is required unless --existing' in err
    assert svc.calls == []


def test_update_bad_rollback_value(cli, svc, tpl):
    code, _, err = cli('stack', 'update', 'web', '-t', str(tpl), '--rollback', 'maybe')
    assert code == 2
    assert '--rollback' in err
    assert svc.calls == []


def test_update_failed_with_wait(cli, svc, tpl):
    svc.result = stack(status='UPDATE_FAILED', reason='bad')
    svc.events = [event(1, 'cfg', 'UPDATE_FAILED', 'bad')]
    code, _, err = cli('stack', 'update', 'web', '-t', str(tpl), '--wait')
    assert code == 1
    assert err.splitlines() == ['2024-05-01T10:00:01Z [cfg]: UPDATE_FAILED  bad',
                                'Stack web UPDATE_FAILED: bad']


# --- stack delete ----------------------------------------------------------------------------

def test_delete_wait_until_gone(cli, svc):
    svc.result = stack(status='DELETE_IN_PROGRESS', path='distributed')
    svc.wait_events = [event(1, 'web', 'DELETE_COMPLETE', 'done')]
    svc.wait_result = None
    code, out, err = cli('stack', 'delete', 'web', '--yes', '--wait')
    assert code == 0
    assert svc.called('delete_stack')[0] == ('web',)
    assert err.splitlines() == ['2024-05-01T10:00:01Z [web]: DELETE_COMPLETE  done',
                                'Stack web deleted']
    assert out == ''


def test_delete_failed_exits_1(cli, svc):
    svc.result = stack(status='DELETE_FAILED', reason='cfg: in use')
    code, _, err = cli('stack', 'delete', 'web')
    assert code == 1
    assert 'Stack web DELETE_FAILED: cfg: in use' in err


def test_delete_not_found_exits_2(cli, svc):
    svc.error = exceptions.StackNotFound('web')
    code, _, err = cli('stack', 'delete', 'web', '--yes')
    assert (code, err.strip()) == (2, 'stack "web" not found')


def test_delete_asks_on_a_terminal(cli, svc):
    stdin = Tty('n\n')
    code, _, err = cli('stack', 'delete', 'web', stdin=stdin)
    assert code == 0
    assert 'Are you sure you want to delete stack web' in err
    assert svc.calls == []
    code, _, _ = cli('stack', 'delete', 'web', stdin=Tty('y\n'))
    assert code == 0
    assert svc.called('delete_stack')


# --- show / list with formatters -----------------------------------------------------------

def test_show_formats(cli, svc):
    code, out, _ = cli('stack', 'show', 'web', '-f', 'yaml')
    assert code == 0
    shown = yaml.safe_load(out)
    assert shown['id'] == 'id-web'
    assert shown['outputs'] == stack()['outputs']
    assert svc.called('get_stack')[0] == ('web',)

    _, out, _ = cli('stack', 'show', 'web', '-f', 'value', '-c', 'stack_status',
                    '-c', 'path')
    assert out.split() == ['CREATE_COMPLETE', 'legacy']

    _, out, _ = cli('stack', 'show', 'web')
    assert 'flavor: small' in out          # structured values rendered as YAML in tables
    assert 'output_key: ip' in out


def test_show_not_found(cli, svc):
    svc.error = exceptions.StackNotFound('nope')
    code, out, err = cli('stack', 'show', 'nope')
    assert (code, out, err.strip()) == (2, '', 'stack "nope" not found')


def test_list(cli, svc):
    svc.result = [stack('a'), stack('b', status='UPDATE_FAILED')]
    code, out, _ = cli('stack', 'list', '-f', 'json')
    assert code == 0
    rows = json.loads(out)
    assert [r['Stack Name'] for r in rows] == ['a', 'b']
    assert rows[1]['Stack Status'] == 'UPDATE_FAILED'
    assert set(rows[0]) == {'ID', 'Stack Name', 'Stack Status', 'Creation Time',
                            'Updated Time'}
    _, out, _ = cli('stack', 'list', '-f', 'value', '-c', 'Stack Name')
    assert out.split() == ['a', 'b']


# --- outputs ---------------------------------------------------------------------------------

OUTPUTS = [{'output_key': 'ip', 'output_value': '10.0.0.5', 'description': 'Address',
            'output_error': None},
           {'output_key': 'map', 'output_value': {'a': [1, 2]}, 'description': 'Data',
            'output_error': None}]


def test_output_list(cli, svc):
    svc.result = OUTPUTS
    code, out, _ = cli('stack', 'output', 'list', 'web', '-f', 'json')
    assert code == 0
    assert json.loads(out) == [{'output_key': 'ip', 'description': 'Address'},
                               {'output_key': 'map', 'description': 'Data'}]
    assert svc.called('list_outputs')[0] == ('web',)


def test_output_show_one(cli, svc):
    svc.result = OUTPUTS[1]
    code, out, _ = cli('stack', 'output', 'show', 'web', 'map', '-f', 'json')
    assert code == 0
    assert json.loads(out)['output_value'] == {'a': [1, 2]}
    assert svc.called('show_output')[0] == ('web', 'map')


def test_output_show_all(cli, svc, monkeypatch):
    # list_outputs gives keys and descriptions only; values come from show_output.
    svc.result = [{'output_key': o['output_key'], 'description': o['description']}
                  for o in OUTPUTS]
    by_key = {o['output_key']: o for o in OUTPUTS}
    monkeypatch.setattr(svc, 'show_output', lambda name, key: by_key[key], raising=False)
    code, out, _ = cli('stack', 'output', 'show', 'web', '--all', '-f', 'yaml')
    assert code == 0
    assert yaml.safe_load(out) == {'ip': OUTPUTS[0], 'map': OUTPUTS[1]}


@pytest.mark.parametrize('argv', [['web'], ['web', 'ip', '--all']])
def test_output_show_needs_exactly_one_of_output_or_all(cli, svc, argv):
    code, _, err = cli('stack', 'output', 'show', *argv)
    assert code == 2
    assert 'give either OUTPUT or --all' in err
    assert svc.calls == []


# --- resources -------------------------------------------------------------------------------

RESOURCE = {'resource_name': 'cfg', 'physical_resource_id': 'pid-1',
            'resource_type': 'OS::Heat::SoftwareConfig', 'resource_status': 'CREATE_COMPLETE',
            'resource_status_reason': 'state changed', 'creation_time': 't1',
            'updated_time': 't2', 'required_by': ['server'], 'attributes': {'config': 'x'},
            'stack_name': 'web'}


def test_resource_list(cli, svc):
    svc.result = [RESOURCE]
    code, out, _ = cli('stack', 'resource', 'list', 'web', '-f', 'json')
    assert code == 0
    assert json.loads(out) == [{'resource_name': 'cfg', 'physical_resource_id': 'pid-1',
                                'resource_type': 'OS::Heat::SoftwareConfig',
                                'resource_status': 'CREATE_COMPLETE', 'updated_time': 't2'}]
    assert svc.called('list_resources') == (('web',), {'nested_depth': 0})


def test_resource_list_nested_depth_adds_stack_name(cli, svc):
    svc.result = [RESOURCE]
    code, out, _ = cli('stack', 'resource', 'list', 'web', '--nested-depth', '2', '-f', 'json')
    assert code == 0
    assert json.loads(out)[0]['stack_name'] == 'web'
    assert svc.called('list_resources')[1] == {'nested_depth': 2}


def test_resource_list_bad_depth(cli, svc):
    code, _, err = cli('stack', 'resource', 'list', 'web', '--nested-depth', '-1')
    assert code == 2
    assert '--nested-depth' in err


def test_resource_show(cli, svc):
    svc.result = RESOURCE
    code, out, _ = cli('stack', 'resource', 'show', 'web', 'cfg', '-f', 'yaml')
    assert code == 0
    assert yaml.safe_load(out) == RESOURCE
    assert svc.called('show_resource')[0] == ('web', 'cfg')


def test_resource_show_not_found(cli, svc):
    svc.error = exceptions.ResourceNotFound('web', 'nope')
    code, _, err = cli('stack', 'resource', 'show', 'web', 'nope')
    assert (code, err.strip()) == (2, 'resource "nope" not found in stack "web"')


def test_resource_signal(cli, svc):
    svc.result = None
    code, out, _ = cli('stack', 'resource', 'signal', 'web', 'hook', '--data',
                       '{"status": "SUCCESS", "data": {"x": 1}}')
    assert (code, out) == (0, '')
    assert svc.called('signal_resource')[0] == (
        'web', 'hook', {'status': 'SUCCESS', 'data': {'x': 1}})


def test_resource_signal_without_data_sends_empty_object(cli, svc):
    svc.result = None
    assert cli('stack', 'resource', 'signal', 'web', 'hook')[0] == 0
    assert svc.called('signal_resource')[0] == ('web', 'hook', {})


@pytest.mark.parametrize('data, message', [('{bad', 'invalid JSON'),
                                           ('[1]', 'expected a JSON object')])
def test_resource_signal_bad_data(cli, svc, data, message):
    code, _, err = cli('stack', 'resource', 'signal', 'web', 'hook', '--data', data)
    assert code == 2
    assert message in err and '--data' in err
    assert svc.calls == []


# --- events ----------------------------------------------------------------------------------

def test_event_list(cli, svc):
    svc.result = [event(1, 'cfg', 'CREATE_COMPLETE')]
    code, out, _ = cli('stack', 'event', 'list', 'web', '--resource', 'cfg',
                       '--nested-depth', '1', '-f', 'json')
    assert code == 0
    assert json.loads(out) == [{'id': 'ev-1', 'resource_name': 'cfg',
                                'resource_status': 'CREATE_COMPLETE',
                                'resource_status_reason': 'state changed',
                                'event_time': '2024-05-01T10:00:01Z', 'stack_name': 'web'}]
    assert svc.called('list_events') == (('web',), {'resource_name': 'cfg', 'nested_depth': 1})


def test_event_list_defaults(cli, svc):
    svc.result = []
    code, out, _ = cli('stack', 'event', 'list', 'web', '-f', 'json')
    assert (code, json.loads(out)) == (0, [])
    assert svc.called('list_events') == (('web',), {'resource_name': None, 'nested_depth': 0})


# --- templates -------------------------------------------------------------------------------

def test_template_show_defaults_to_yaml(cli, svc):
    svc.result = yaml.safe_load(TEMPLATE)
    code, out, _ = cli('stack', 'template', 'show', 'web')
    assert code == 0
    assert yaml.safe_load(out) == yaml.safe_load(TEMPLATE)
    assert svc.called('get_template')[0] == ('web',)


def test_template_validate(cli, svc, tpl):
    svc.result = {'Description': 'A stack',
                  'Parameters': {'flavor': {'Type': 'String', 'Default': 'small',
                                            'Description': '', 'Label': 'flavor',
                                            'NoEcho': 'false'}},
                  'ParameterGroups': []}
    code, out, err = cli('template', 'validate', '-t', str(tpl), '--parameter', 'flavor=big')
    assert code == 0, err
    assert yaml.safe_load(out) == svc.result
    args, _ = svc.called('validate_template')
    assert args == (TEMPLATE, str(tpl), {'boot.sh': '#!/bin/sh\necho hi\n'}, [],
                    {'flavor': 'big'})


def test_template_validate_error_exits_2(cli, svc, tpl):
    svc.error = TemplateError('"flavor" is not one of small, big', ('parameters', 'flavor'),
                              None, str(tpl))
    code, out, err = cli('template', 'validate', '-t', str(tpl), '-f', 'json')
    assert code == 2
    assert out == ''
    assert err.strip() == '%s: parameters.flavor: "flavor" is not one of small, big' % tpl


# --- configuration ---------------------------------------------------------------------------

def test_config_file_reaches_the_service(cli, svc, tmp_path):
    svc.result = []
    conf_file = tmp_path / 'ht.conf'
    conf_file.write_text('[DEFAULT]\ndefault_timeout = 7\n'
                         '[database]\nconnection = sqlite:////tmp/x.sqlite\n')
    code, _, err = cli('--config-file', str(conf_file), 'stack', 'list')
    assert code == 0, err
    assert svc.conf.default_timeout == 7
    assert svc.conf.database.connection == 'sqlite:////tmp/x.sqlite'


def test_config_dir_and_defaults(cli, svc, tmp_path):
    svc.result = []
    (tmp_path / 'a.conf').write_text('[DEFAULT]\nmax_template_size = 1234\n')
    code, _, _ = cli('--config-dir', str(tmp_path), 'stack', 'list')
    assert code == 0
    assert svc.conf.max_template_size == 1234
    code, _, _ = cli('stack', 'list')     # no implicit config files
    assert svc.conf.max_template_size == 524288


def test_missing_config_file_is_a_usage_error(cli, svc, tmp_path):
    code, _, err = cli('--config-file', str(tmp_path / 'none.conf'), 'stack', 'list')
    assert code == 2
    assert 'none.conf' in err
    assert svc.calls == []


def test_default_factory_is_the_module_seam(monkeypatch, svc, capsys):
    monkeypatch.setattr(shell, 'make_service', lambda conf: svc)
    svc.result = []
    assert shell.main(['stack', 'list', '-f', 'json']) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert svc.called('list_stacks') == ((), {})


def test_debug_shows_the_traceback(cli, svc):
    svc.error = exceptions.StackNotFound('web')
    code, _, err = cli('--debug', 'stack', 'show', 'web')
    assert code == 2
    assert 'Traceback' in err and err.rstrip().endswith('stack "web" not found')


def test_unexpected_error_exits_1(cli, svc):
    svc.error = RuntimeError('engine bug')
    code, _, err = cli('stack', 'show', 'web')
    assert code == 1
    assert 'engine bug' in err


def test_event_progress_unknown_is_left_out(cli, svc, tpl):
    svc.events = [dict(event(1, 'cfg', 'CREATE_IN_PROGRESS'), progress=(None, None)),
                  dict(event(2, 'cfg', 'CREATE_COMPLETE'), progress=[2, 3])]
    code, _, err = cli('stack', 'create', '-t', str(tpl), 'web', '--wait')
    assert code == 0
    assert err.splitlines()[:2] == [
        '2024-05-01T10:00:01Z [cfg]: CREATE_IN_PROGRESS  state changed',
        '2024-05-01T10:00:02Z [cfg]: CREATE_COMPLETE  state changed  (2/3)']


def test_library_info_logging_is_shown_only_with_verbose(cli, svc):
    def chatty():
        svc.calls.append(('list_stacks', (), {}))
        logging.getLogger('heat_taskflow.engine').info('traversal started')
        logging.getLogger('heat_taskflow.engine').warning('disk nearly full')
        return []

    svc.list_stacks = chatty
    code, _, err = cli('stack', 'list')
    assert code == 0
    assert 'traversal started' not in err and 'disk nearly full' in err
    _, _, err = cli('-v', 'stack', 'list')
    assert 'traversal started' in err
    _, _, err = cli('-q', 'stack', 'list')
    assert 'disk nearly full' not in err


def test_stack_check_reports_drift_with_exit_1(cli, svc):
    svc.result = stack(status='CHECK_FAILED', reason='Check failed for resources: b')
    code, out, err = cli('stack', 'check', 'web', '-f', 'value', '-c', 'stack_status')
    assert code == 1
    assert out.strip() == 'CHECK_FAILED'
    assert 'Check failed for resources: b' in err
    assert svc.called('check_stack')[0] == ('web',)


def test_stack_check_success_exits_0(cli, svc):
    svc.result = stack(status='CHECK_COMPLETE', reason='ok')
    code, out, _ = cli('stack', 'check', 'web', '-f', 'value', '-c', 'stack_status')
    assert code == 0
    assert out.strip() == 'CHECK_COMPLETE'


# --- -f json is always valid JSON ------------------------------------------------------------

def _strict_json(text):
    def refuse(token):
        raise ValueError('not JSON: %s' % token)
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize('noindent', [False, True])
def test_json_output_never_holds_nan_or_infinity(cli, svc, noindent):
    svc.result = dict(stack(), outputs=[{'output_key': 'x', 'output_value': [
        float('nan'), float('inf'), {'low': float('-inf')}, 1.5]}],
        timeout_mins=float('inf'))
    code, out, err = cli('stack', 'show', 'web', '-f', 'json',
                         *(['--noindent'] if noindent else []))
    assert code == 0, err
    shown = _strict_json(out)
    assert shown['outputs'][0]['output_value'] == ['NaN', 'Infinity', {'low': '-Infinity'},
                                                   1.5]
    assert shown['timeout_mins'] == 'Infinity'


def test_errors_echoing_user_input_are_escaped(cli, svc):
    # An ANSI escape or a carriage return in a name never reaches the terminal raw.
    svc.error = exceptions.StackNotFound('we\x1b[2Jb\rX')
    code, _, err = cli('stack', 'delete', 'we\x1b[2Jb\rX', '--yes')
    assert (code, err.strip()) == (2, 'stack "we\\x1b[2Jb\\rX" not found')
    svc.error = exceptions.InvalidInput('bad value "\x1b]0;title\x07"')
    code, _, err = cli('stack', 'delete', 'web', '--yes')
    assert (code, err.strip()) == (2, 'bad value "\\x1b]0;title\\x07"')
