"""A hidden parameter's value never leaves through the command line (issue #14, rule 4).

Stacks are created with a hidden parameter and made to fail in several ways: a property
type error fed by it, list_join on it, a resource that fails at create with it in its
properties, an output whose resolution fails on it. Nothing the user sees (stdout,
stderr, events, status reasons, failures, outputs, resource show) and no log file holds
the value; where Heat shows parameters it reads '******'.

Not masked, as in Heat: an output whose value *is* the hidden parameter (the template's
author chose to export it), so the templates here export no such output.
"""

import json

import pytest
import yaml

from tests.functional import cli as cli_mod

pytestmark = [pytest.mark.functional, pytest.mark.slow]

SECRET = 'SeCrEt-xyz-123'


def _template(resources, outputs=None, param_type='string'):
    doc = {'heat_template_version': '2021-04-16',
           'parameters': {'secret': {'type': param_type, 'hidden': True}},
           'resources': resources}
    if outputs:
        doc['outputs'] = outputs
    return yaml.safe_dump(doc)


TYPE_ERROR = _template({'bad': {'type': 'OS::Heat::Value', 'properties': {
    'type': 'number', 'value': {'get_param': 'secret'}}}})
LIST_JOIN = _template({'bad': {'type': 'OS::Heat::Value', 'properties': {
    'value': {'list_join': [',', {'get_param': 'secret'}]}}}})
MAP_MERGE_JSON = _template({'bad': {'type': 'OS::Heat::Value', 'properties': {
    'value': {'map_merge': [{'get_param': ['secret', 'list']}]}}}}, param_type='json')
RUNTIME = _template(
    {'src': {'type': 'OS::Heat::Value', 'properties': {'value': {'get_param': 'secret'}}},
     'bad': {'type': 'OS::Heat::Value', 'properties': {
         'type': 'number', 'value': {'get_attr': ['src', 'value']}}}},
    outputs={'joined': {'value': {'list_join': [',', {'get_attr': ['src', 'value']}]}}})
OUTPUT_ONLY = _template(
    {'src': {'type': 'OS::Heat::Value', 'properties': {'value': {'get_param': 'secret'}}}},
    outputs={'joined': {'value': {'list_join': [',', {'get_attr': ['src', 'value']}]}},
             'merged': {'value': {'map_merge': [{'get_attr': ['src', 'value']}]}}})


@pytest.fixture
def cli(tmp_path):
    state = tmp_path / 'state'
    state.mkdir()
    config = cli_mod.write_config(tmp_path / 'heat-taskflow.conf',
                                  'sqlite:///%s' % (tmp_path / 'heat.sqlite'), state)
    return cli_mod.Cli(config, state)


def _clean(*results):
    for result in results:
        assert SECRET not in result.stdout, result
        assert SECRET not in result.stderr, result
        assert 'Traceback' not in result.stderr, result


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize('text, value', [
    (TYPE_ERROR, SECRET),
    (LIST_JOIN, SECRET),
    (MAP_MERGE_JSON, json.dumps({'list': [SECRET, 'other']})),
], ids=['property-type', 'list_join', 'map_merge-json'])
def test_validate_and_create_refusals_mask_the_hidden_value(cli, tmp_path, text, value):
    path = _write(tmp_path, 't.yaml', text)
    log = tmp_path / 'cli.log'
    validated = cli('--log-file', log, 'template', 'validate', '-t', path,
                    '--parameter', 'secret=%s' % value, expect=2)
    created = cli('--log-file', log, 'stack', 'create', '-t', path,
                  '--parameter', 'secret=%s' % value, 's1', expect=2)
    _clean(validated, created)
    assert 't.yaml:' in validated.stderr and 'resources.bad.properties.value' in \
        validated.stderr
    assert '******' in validated.stderr
    assert SECRET not in log.read_text()
    assert cli('stack', 'list', '-f', 'value').stdout.strip() == ''


def test_failed_resource_status_reason_events_and_outputs_mask_the_hidden_value(
        cli, tmp_path):
    path = _write(tmp_path, 'run.yaml', RUNTIME)
    log = tmp_path / 'cli.log'
    created = cli('--log-file', log, 'stack', 'create', '-t', path, '--parameter',
                  'secret=%s' % SECRET, '--disable-rollback', '--wait', 'run', expect=None)
    shown = cli('stack', 'show', 'run', '-f', 'json')
    events = cli('stack', 'event', 'list', 'run', '-f', 'json')
    failures = cli('stack', 'failures', 'list', 'run', expect=None)
    resource = cli('stack', 'resource', 'show', 'run', 'bad', '-f', 'json')
    outputs = cli('stack', 'output', 'show', 'run', '--all', '-f', 'json', expect=None)
    _clean(created, shown, events, failures, resource, outputs)
    assert shown.json['stack_status'] == 'CREATE_FAILED'
    assert shown.json['parameters']['secret'] == '******'
    assert "resource 'bad'" in shown.json['stack_status_reason']
    assert '******' in shown.json['stack_status_reason']
    assert any('******' in (e.get('resource_status_reason') or '') for e in events.json)
    assert SECRET not in log.read_text()


def test_output_errors_mask_the_hidden_value(cli, tmp_path):
    path = _write(tmp_path, 'out.yaml', OUTPUT_ONLY)
    created = cli('stack', 'create', '-t', path, '--parameter', 'secret=%s' % SECRET,
                  '--wait', 'outs')
    outputs = cli('stack', 'output', 'show', 'outs', '--all', '-f', 'json', expect=None)
    shown = cli('stack', 'show', 'outs', '-f', 'json')
    _clean(created, outputs, shown)
    errors = [o.get('output_error') for o in shown.json['outputs']]
    assert len([e for e in errors if e and '******' in e]) == 2, shown.json['outputs']
