"""Hand-written hostile inputs of issue #14, through the library path and the command line.

Each case runs where it cannot hang the suite: the library path in a worker subprocess
(tests/hostile/worker.py, killed past ``BOUND`` seconds, under a 1 GiB address-space
limit), the command line in a subprocess with a timeout. Each must end in a clean refusal
(TemplateError / InvalidInput; exit 2) within the bound, store nothing, and never show the
hidden parameter's value.

Every case passes: a case found failing gets an xfail mark naming what is left to fix.
"""

import json
import os
import resource
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.hostile import runner

CASES = Path(__file__).parent / 'cases'
SECRET = 'HIDDENVALcafe0123beef'
BOUND = 10.0            # seconds: a refusal takes milliseconds; a defect takes 30 s to hours
CLI_BOUND = 30.0        # seconds for one command, start-up (1-5 s on a busy machine) included
MIB = 1024 ** 2


def case(template, files=None, environments=None, parameters=None, name=None):
    """A case dict for the worker: the hidden parameter ``secret`` is always given."""
    data = {'template': template, 'secret': SECRET, 'files': dict(files or {}),
            'environments': list(environments or []),
            'parameters': dict({'secret': SECRET}, **(parameters or {}))}
    if name is not None:
        data['name'] = name
    return data


def text(name):
    return (CASES / name).read_text()


def assert_refused(pool, data):
    verdict = pool.run(data, timeout=BOUND)
    assert verdict['outcome'] == 'refused', verdict
    assert runner.findings_of(verdict, slow=BOUND) == [], verdict
    return verdict


HEAD = 'heat_template_version: 2018-08-31\nparameters:\n  secret: {type: string, hidden: true}\n'


def deep(depth, block=False):
    """A template whose one output is ``depth`` nested lists (flow or block style)."""
    if block:
        return HEAD + 'outputs:\n  o:\n    value:\n' + ''.join(
            '  ' * (i + 3) + '-\n' for i in range(depth))
    return HEAD + 'outputs:\n  o:\n    value: %s1%s\n' % ('[' * depth, ']' * depth)


# -- defect 1: parser budgets (library path) -------------------------------------------

def test_alias_bomb_library(pool):
    assert_refused(pool, case(text('alias_bomb.yaml')))


def test_alias_bomb_environment_library(pool):
    assert_refused(pool, case(HEAD + 'resources: {}\n',
                              environments=[('env.yaml', text('alias_bomb_env.yaml'))]))


@pytest.mark.parametrize('depth,block', [(5000, False), (990, True)],
                         ids=['5000-flow', '990-block'])
def test_deep_nesting_library(pool, depth, block):
    assert_refused(pool, case(deep(depth, block)))


# -- defect 2: resolution budgets ------------------------------------------------------

def _output(expression):
    return HEAD + 'outputs:\n  o:\n    value: %s\n' % json.dumps(expression)


def test_str_replace_blowup(pool):
    assert_refused(pool, case(_output({'str_replace': {'template': 'x' * 50_000,
                                                       'params': {'x': 'y' * 20_000}}})))


def test_repeat_blowup(pool):
    items = [str(i) for i in range(100)]
    assert_refused(pool, case(_output({'repeat': {
        'for_each': {'%a%': items, '%b%': items}, 'template': 'z' * 100_000 + '%a%%b%'}})))


def test_list_join_blowup(pool):
    assert_refused(pool, case(_output({'list_join': ['d' * 200_000, ['a'] * 5_000]})))


def test_thousand_aliases_of_a_big_string(pool):
    template = (HEAD + 'resources:\n  r:\n    type: OS::Heat::Value\n    properties:\n'
                '      value:\n        - &s "%s"\n' % ('s' * 100_000)
                + ''.join('        - *s\n' for _ in range(1000)))
    assert_refused(pool, case(template))


# -- defect 3: yaql and regular expressions --------------------------------------------

@pytest.mark.parametrize('name', ['yaql_pow.yaml', 'yaql_pow2.yaml', 'yaql_range.yaml',
                                  'yaql_regex.yaml'])
def test_yaql_runaway(pool, name):
    assert_refused(pool, case(text(name)))


def test_allowed_pattern_backtracking(pool):
    assert_refused(pool, case(text('allowed_pattern.yaml')))


# -- defect 4: values that cannot be stored --------------------------------------------

@pytest.mark.parametrize('name', ['binary.yaml', 'set.yaml', 'collide.yaml'])
def test_unstorable_values_refused_at_validation(pool, name):
    verdict = assert_refused(pool, case(text(name)))
    assert verdict['phase'] == 'create'


# -- defect 5: hidden values in errors built from resolved values ----------------------

def test_map_merge_error_masks_hidden_value(pool):
    verdict = assert_refused(pool, case(text('map_merge_hidden.yaml')))
    assert SECRET not in (verdict['message'] or '')


# -- defect 7: test-only types ---------------------------------------------------------

def test_test_ledger_is_not_available(tmp_path, monkeypatch):
    # tests/conftest.py enables the test-only types in every process the tests start (the
    # fuzzer's templates use them): this case judges the default, with them off.
    monkeypatch.delenv('OS_DEFAULT__ENABLE_TEST_RESOURCE_TYPES', raising=False)
    workers = runner.Pool(memory_limit=1024 ** 3)
    ledger = tmp_path / 'ledger'
    try:
        verdict = assert_refused(workers, case(text('test_ledger.yaml'),
                                               parameters={'path': str(ledger)}))
    finally:
        workers.close()
    assert 'unknown resource type "OS::Heat::TestLedger"' in verdict['message']
    assert not ledger.exists()


# -- defect 8: stack names -------------------------------------------------------------

@pytest.mark.parametrize('name', ['', ' ', 'a b', 'a\nb', '\x1b[31mred', 'a' * 300, '1abc',
                                  str(uuid.uuid4())],
                         ids=['empty', 'space', 'inner-space', 'newline', 'ansi', 'long',
                              'digit-first', 'uuid'])
def test_bad_stack_names(pool, name):
    assert_refused(pool, case(HEAD + 'resources: {}\n', name=name))


# -- defect 9: smaller gaps ------------------------------------------------------------

@pytest.mark.parametrize('value', ['nan', 'NaN', 'inf', '-inf', '1e400'])
def test_number_parameter_not_finite(pool, value):
    assert_refused(pool, case(text('number_param.yaml'), parameters={'n': value}))


def test_huge_child_template(pool):
    child = 'heat_template_version: 2018-08-31\ndescription: %s\n' % ('c' * 3 * MIB)
    assert_refused(pool, case(HEAD + 'resources:\n  r:\n    type: child.yaml\n',
                              files={'child.yaml': child}))


def test_files_map_over_its_budget(pool):
    assert_refused(pool, case(_output({'get_file': 'big.txt'}),
                              files={'big.txt': 'b' * 11 * MIB}))


@pytest.mark.parametrize('name', ['type_text_file.yaml', 'get_param_function.yaml',
                                  'map_replace_list.yaml'])
def test_bare_errors(pool, name):
    assert_refused(pool, case(text(name), files={'notes.yaml': 'just some notes\n'}))


def test_deep_json_parameter(pool):
    template = HEAD + '  j: {type: json}\nresources: {}\n'
    assert_refused(pool, case(template, parameters={'j': '[' * 5000 + ']' * 5000}))


# -- the command line ------------------------------------------------------------------

def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))


def cli(tmp_path, *args):
    """Run heat-taskflow in tmp_path (its own state directory); (exit code, output, secs)."""
    env = dict(os.environ, HEAT_TASKFLOW_STATE_DIR=str(tmp_path / 'state'),
               PYTHONDONTWRITEBYTECODE='1')
    start = time.monotonic()
    try:
        proc = subprocess.run([runner._script('heat-taskflow')] + list(args), cwd=tmp_path,
                              env=env, capture_output=True, text=True, errors='replace',
                              timeout=CLI_BOUND, stdin=subprocess.DEVNULL,
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail('heat-taskflow %s still running after %.0f s' % (' '.join(args),
                                                                      CLI_BOUND))
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def assert_cli_refused(tmp_path, *args):
    code, out, _ = cli(tmp_path, *args)
    assert code == 2, out
    assert 'Traceback' not in out, out
    assert SECRET not in out, out
    return out


def _copy(tmp_path, *names):
    for name in names:
        (tmp_path / name).write_text(text(name))


def test_cli_alias_bomb_template(tmp_path):
    _copy(tmp_path, 'alias_bomb.yaml')
    assert_cli_refused(tmp_path, 'template', 'validate', '-t', 'alias_bomb.yaml',
                       '--parameter', 'secret=' + SECRET)


def test_cli_alias_bomb_environment(tmp_path):
    (tmp_path / 't.yaml').write_text(HEAD + 'resources: {}\n')
    _copy(tmp_path, 'alias_bomb_env.yaml')
    assert_cli_refused(tmp_path, 'template', 'validate', '-t', 't.yaml', '-e',
                       'alias_bomb_env.yaml', '--parameter', 'secret=' + SECRET)


@pytest.mark.parametrize('name', ['get_file_bomb.yaml', 'uses_bomb_file.yaml'])
def test_cli_alias_bomb_referenced_file(tmp_path, name):
    _copy(tmp_path, name, 'bomb_child.yaml')
    args = ('template', 'validate', '-t', name, '--parameter', 'secret=' + SECRET)
    if name == 'get_file_bomb.yaml':
        # A get_file target is text, never expanded: taking it as it is is right too.
        code, out, _ = cli(tmp_path, *args)
        assert code in (0, 2) and 'Traceback' not in out, out
        return
    assert_cli_refused(tmp_path, *args)


def test_cli_12_mb_template(tmp_path):
    with open(tmp_path / 'big.yaml', 'w') as f:
        f.write(HEAD + 'resources: {}\noutputs:\n')
        for i in range(12 * MIB // 64):
            f.write('  o%d: {value: "%s"}\n' % (i, 'v' * 40))
    assert_cli_refused(tmp_path, 'template', 'validate', '-t', 'big.yaml',
                       '--parameter', 'secret=' + SECRET)


@pytest.mark.parametrize('depth,block', [(5000, False), (990, True)],
                         ids=['5000-flow', '990-block'])
def test_cli_deep_nesting(tmp_path, depth, block):
    (tmp_path / 'deep.yaml').write_text(deep(depth, block))
    assert_cli_refused(tmp_path, 'template', 'validate', '-t', 'deep.yaml',
                       '--parameter', 'secret=' + SECRET)


def test_cli_unstorable_value_refused_without_leak(tmp_path):
    _copy(tmp_path, 'binary.yaml')
    assert_cli_refused(tmp_path, 'stack', 'create', '-t', 'binary.yaml',
                       '--parameter', 'secret=' + SECRET, 'bin')


def test_cli_state_is_private(tmp_path):
    (tmp_path / 't.yaml').write_text(HEAD + 'resources: {}\n')
    code, out, _ = cli(tmp_path, 'stack', 'create', '-t', 't.yaml',
                       '--parameter', 'secret=' + SECRET, 'private')
    assert code == 0, out
    state = tmp_path / 'state'
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for db in state.glob('*.sqlite'):
        assert stat.S_IMODE(db.stat().st_mode) == 0o600, db


# -- found by the fuzzer and by hand beyond the list ---------------------------

# Errors built from a resolved value show the hidden parameter's value (defect 5's class,
# in more places than the issue lists).
LEAKY = {
    'str_split index': 'outputs:\n  o: {value: {str_split: [",", "a,b", {get_param: secret}]}}\n',
    'digest algorithm': 'outputs:\n  o: {value: {digest: [{get_param: secret}, x]}}\n',
    'make_url port': 'outputs:\n  o: {value: {make_url: {scheme: http, host: h, '
                     'port: {get_param: secret}}}}\n',
    'condition value': 'resources:\n  r: {type: OS::Heat::None, condition: {get_param: secret}}\n',
    'yaql receiver': 'outputs:\n  o: {value: {yaql: {expression: "$.data.foo()", '
                     'data: {get_param: secret}}}}\n',
    'deletion_policy': 'resources:\n  r: {type: OS::Heat::None, '
                       'deletion_policy: {get_param: secret}}\n',
    'integer property': 'resources:\n  r: {type: OS::Heat::RandomString, '
                        'properties: {length: {get_param: secret}}}\n',
    'allowed values property': 'resources:\n  r: {type: OS::Heat::Value, '
                               'properties: {value: 1, type: {get_param: secret}}}\n',
}


@pytest.mark.parametrize('name', sorted(LEAKY))
def test_error_messages_mask_hidden_values(pool, name):
    verdict = assert_refused(pool, case(HEAD + LEAKY[name]))
    assert SECRET not in (verdict['message'] or '')


def test_hidden_value_passed_to_a_child_stack(pool):
    child = ('heat_template_version: 2018-08-31\nparameters:\n  p: {type: number}\n'
             'resources: {}\n')
    template = HEAD + ('resources:\n  r:\n    type: OS::Heat::Stack\n    properties:\n'
                       '      template: {get_file: child.yaml}\n'
                       '      parameters: {p: {get_param: secret}}\n')
    verdict = pool.run(case(template, files={'child.yaml': child}), timeout=BOUND)
    assert verdict['leaks'] == [], verdict


def test_mixed_type_keys_stored_or_refused(pool):
    # {true: a, "True": b}: JSON sorting of the keys failed at the database write, and the
    # stack's status reason then carried the SQL statement. Stored or refused, never that.
    verdict = pool.run(case(HEAD + 'resources:\n  r: {type: OS::Heat::Value, '
                                   'properties: {value: {true: a, "True": b}}}\n'),
                       timeout=BOUND)
    assert verdict['outcome'] in ('accepted', 'refused'), verdict
    assert runner.findings_of(verdict, slow=BOUND) == [], verdict


@pytest.mark.parametrize('value', ['.nan', '.inf', '-.inf'])
def test_non_finite_numbers_in_a_template(pool, value):
    assert_refused(pool, case(HEAD + 'outputs:\n  o: {value: %s}\n' % value))


@pytest.mark.parametrize('count', [20_000, 1_000_000])
def test_resource_group_count_over_the_stack_budget(pool, count):
    # max_resources_per_stack (10,000) is checked per template, not on a group's count:
    # both hang creating the group's child stack.
    assert_refused(pool, case(HEAD + 'resources:\n  g:\n    type: OS::Heat::ResourceGroup\n'
                                     '    properties:\n      count: %d\n'
                                     '      resource_def: {type: OS::Heat::None}\n' % count))


def test_huge_parameter_value(pool):
    # 2,000,000 list items from a 2 MB --parameter: 5 s and 150 MB, bigger ones more.
    template = HEAD + '  l: {type: comma_delimited_list}\nresources: {}\n'
    assert_refused(pool, case(template, parameters={'l': ',' * 2_000_000}))


def test_child_template_checked_at_validation(pool):
    # A child that is a map but not a template (no heat_template_version) validates, and
    # the stack is stored and then fails; it must be refused before anything is stored.
    assert_refused(pool, case(HEAD + 'resources:\n  r: {type: notes.yaml}\n',
                              files={'notes.yaml': 'a: 1\n'}))


def _strict_json(text):
    def refuse(constant):
        raise ValueError('%s is not JSON' % constant)
    return json.loads(text, parse_constant=refuse)


def test_cli_json_output_is_strict_json(tmp_path):
    # `.nan` written in a template (not only a number parameter) reached `-f json` as NaN.
    (tmp_path / 'nan.yaml').write_text(HEAD + 'resources: {}\noutputs:\n  o: {value: .nan}\n')
    code, out, _ = cli(tmp_path, 'stack', 'create', '-t', 'nan.yaml', '-f', 'json',
                       '--parameter', 'secret=' + SECRET, 'nan')
    if code == 0:
        _strict_json(out)
    else:
        assert code == 2 and 'Traceback' not in out, out
