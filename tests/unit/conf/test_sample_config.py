"""The committed sample config must be what oslo-config-generator produces today."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_sample_config_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    subprocess.run(
        [sys.executable, '-m', 'oslo_config.generator',
         '--config-file', str(ROOT / 'etc/oslo-config-generator/heat-taskflow.conf'),
         '--output-file', str(out)],
        check=True, cwd=ROOT)
    committed = (ROOT / 'etc/heat-taskflow.conf.sample').read_text()
    assert out.read_text() == committed, (
        'etc/heat-taskflow.conf.sample is stale: run `tox -e genconfig`')


def test_sample_config_names_every_option_group():
    text = (ROOT / 'etc/heat-taskflow.conf.sample').read_text()
    from heat_taskflow.conf import opts
    for group, options in opts.list_opts():
        assert '[%s]' % group in text
        for opt in options:
            assert '#%s = ' % opt.dest in text, opt.dest
