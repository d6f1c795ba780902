"""Custom constraints that ask the cloud, through the real command line against the simulator.

A stack create whose image is not in the cloud (the simulator has cirros-0.6.2-x86_64-disk,
not "cirros") is refused before anything is made: the command exits non-zero with a message
naming the parameter (or the resource property) and the constraint, no stack is stored, and
the cloud saw no creation. The value may come from ``--parameter``, from the environment's
``parameters`` or from its ``parameter_defaults`` (the last was not checked: the server create
failed instead), or be written in the resource's properties (Heat's OS::Nova::Server
declares ``glance.image`` on ``image``).
"""

import pytest

from tests.functional import overcloud
from tests.functional import simcloud as simcloud_mod

pytestmark = pytest.mark.functional

TEMPLATE = '''heat_template_version: 2018-08-31
parameters:
  image:
    type: string
    default: cirros-0.6.2-x86_64-disk
    constraints:
      - custom_constraint: glance.image
resources:
  server:
    type: OS::Nova::Server
    properties:
      image: %s
      flavor: m1.tiny
      networks: []
'''


@pytest.fixture
def simcloud(tmp_path):
    with simcloud_mod.running(tmp_path, build_time=0.05) as cloud:
        yield cloud


def _refused(cli, cloud, args, *expected):
    before = len(cloud.audit()['creations'])
    result = cli('stack', 'create', '--wait', *args, 'bad', expect=None)
    assert result.returncode != 0, result
    for text in expected:
        assert text in result.stderr, result
    assert cli('stack', 'list', '-f', 'value').value == ''
    assert len(cloud.audit()['creations']) == before


@pytest.mark.parametrize('given', ['parameter', 'parameters', 'parameter_defaults'])
def test_a_parameter_naming_no_image_of_the_cloud_is_refused(tmp_path, simcloud, given):
    cli, _ = overcloud.heat(tmp_path, simcloud)
    template = tmp_path / 'server.yaml'
    template.write_text(TEMPLATE % '{get_param: image}')
    args = ['-t', template]
    if given == 'parameter':
        args += ['--parameter', 'image=cirros']
    else:
        env = tmp_path / 'env.yaml'
        env.write_text('%s:\n  image: cirros\n' % given)
        args += ['-e', env]
    _refused(cli, simcloud, args, "parameter 'image'", 'glance.image',
             'the cloud has no image "cirros"')


def test_a_property_naming_no_image_of_the_cloud_is_refused(tmp_path, simcloud):
    cli, _ = overcloud.heat(tmp_path, simcloud)
    template = tmp_path / 'server.yaml'
    template.write_text(TEMPLATE % 'cirros')
    _refused(cli, simcloud, ['-t', template], 'server', 'image', 'glance.image',
             'the cloud has no image "cirros"')
