"""`heat-taskflow template validate` refuses hostile yaql, patterns and parameter values
with exit 2, in time (issue #14, defects 3 and 9).

Each case runs the real command line in a subprocess under a timeout: before the
budgets, the pow case ran past 30 s and the patterns backtracked for minutes (60
characters: hours), so a hang fails the test at the timeout instead of stalling the run;
1e400 was accepted (exit 0) and a 5,000-deep json value ended in a RecursionError (exit 1).
"""

import subprocess
import time

import pytest

from tests.functional import cli as cli_mod

pytestmark = [pytest.mark.functional, pytest.mark.slow]

GUARD = 120         # seconds; only a guard against a hang, never the assertion on time

POW = """heat_template_version: 2016-10-14
outputs:
  x:
    value:
      yaql:
        expression: pow(10, 100000000)
"""

REGEX = """heat_template_version: 2016-10-14
outputs:
  x:
    value:
      yaql:
        expression: regex('^(a|aa)+$').matches($.data.s)
        data:
          s: %s
""" % ('a' * 60 + 'b')

PATTERN = """heat_template_version: 2016-10-14
parameters:
  p:
    type: string
    constraints:
      - allowed_pattern: "(a|aa)+$"
"""

NUMBER = """heat_template_version: 2016-10-14
parameters:
  n:
    type: number
"""

JSON = """heat_template_version: 2016-10-14
parameters:
  j:
    type: json
"""

CONFIG = """[DEFAULT]
yaql_timeout = 0.5
regex_timeout = 0.5
"""


def validate(tmp_path, template, *args):
    (tmp_path / 't.yaml').write_text(template)
    (tmp_path / 'deep.json').write_text('[' * 5000 + ']' * 5000)
    (tmp_path / 'h.conf').write_text(CONFIG + 'state_dir = %s\n' % (tmp_path / 'state'))
    argv = [cli_mod.script('heat-taskflow'), '--config-file', str(tmp_path / 'h.conf'),
            'template', 'validate', '-t', str(tmp_path / 't.yaml')] + list(args)
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=GUARD,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    return proc, time.monotonic() - start


@pytest.mark.parametrize('template, args, message', [
    (POW, (), 't.yaml:4: outputs.x.value: yaql: evaluation failed: the result would have '
              'more than 4300 digits'),
    (REGEX, (), 't.yaml:4: outputs.x.value: yaql: ran longer than 0.5 s '
                '([DEFAULT] yaql_timeout)'),
    (PATTERN, ('--parameter', 'p=' + 'a' * 60 + 'b'),
     "t.yaml:3: parameters.p: parameter 'p': allowed_pattern took longer than 0.5 s "
     "([DEFAULT] regex_timeout)"),
    (NUMBER, ('--parameter', 'n=1e400'),
     "t.yaml:3: parameters.n: parameter 'n': value '1e400' is not a valid number: inf is not "
     "a finite number"),
    # a bare RecursionError, exit 1, before
    (JSON, ('--parameter-file', 'j=deep.json'),
     "t.yaml:3: parameters.j: parameter 'j': value '[[[["),
], ids=['pow', 'yaql-regex', 'allowed-pattern', 'number-1e400', 'json-5000-deep'])
def test_validate_refuses_hostile_input_with_exit_2(tmp_path, template, args, message):
    proc, elapsed = validate(tmp_path, template, *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    if template is JSON:
        assert 'nests more than 100 levels' in proc.stderr
    assert 'Traceback' not in proc.stderr
    # the command line's own start-up is most of this on a loaded machine
    assert elapsed < 60
