"""Reading templates and environments and building the files map (cmd/template_files.py)."""

import pytest

from heat_taskflow.cmd import template_files
from heat_taskflow.cmd.template_files import FileError


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MAIN = """heat_template_version: 2018-08-31
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: scripts/boot.sh}
  nested:
    type: nested/inner.yaml
  server:
    type: OS::Nova::Server
"""

INNER = """heat_template_version: 2018-08-31
resources:
  deeper:
    type: ../lib/deep.template
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: inner.sh}
"""


def test_nested_templates_and_get_file_keyed_as_referenced(tmp_path):
    main = write(tmp_path / 'main.yaml', MAIN)
    write(tmp_path / 'scripts' / 'boot.sh', 'echo boot\n')
    write(tmp_path / 'nested' / 'inner.yaml', INNER)
    write(tmp_path / 'nested' / 'inner.sh', 'echo inner\n')
    write(tmp_path / 'lib' / 'deep.template', 'heat_template_version: 2018-08-31\n')
    write(tmp_path / 'unrelated.sh', 'never read\n')

    text, name, files, envs = template_files.load(str(main))

    assert text == MAIN
    assert name == str(main)
    assert envs == []
    assert files == {
        'scripts/boot.sh': 'echo boot\n',
        'nested/inner.yaml': INNER,
        'inner.sh': 'echo inner\n',                 # relative to nested/, keyed as written
        '../lib/deep.template': 'heat_template_version: 2018-08-31\n',
    }


def test_group_resource_def_type_is_followed(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: member.yml
""")
    write(tmp_path / 'member.yml', 'heat_template_version: 2018-08-31\n')
    assert template_files.load(str(main))[2] == {
        'member.yml': 'heat_template_version: 2018-08-31\n'}


def test_get_file_target_that_is_a_template_is_followed(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  child:
    type: OS::Heat::Stack
    properties:
      template: {get_file: sub/child.yaml}
""")
    write(tmp_path / 'sub' / 'child.yaml', """heat_template_version: 2018-08-31
resources:
  c: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: run.sh}}}
""")
    write(tmp_path / 'sub' / 'run.sh', 'run\n')
    files = template_files.load(str(main))[2]
    assert set(files) == {'sub/child.yaml', 'run.sh'}
    assert files['run.sh'] == 'run\n'


def test_environment_registry_files_relative_to_environment(tmp_path):
    main = write(tmp_path / 'main.yaml', 'heat_template_version: 2018-08-31\n')
    env = write(tmp_path / 'envs' / 'env.yaml', """resource_registry:
  "My::Server": ../providers/server.yaml
  "OS::Alias": "OS::Nova::Server"
  hooks_holder:
    hooks: pre-create
  resources:
    web:
      "My::Thing": thing.yaml
parameters:
  flavor: small
""")
    write(tmp_path / 'providers' / 'server.yaml', """heat_template_version: 2018-08-31
resources:
  x: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: s.sh}}}
""")
    write(tmp_path / 'providers' / 's.sh', 'server script\n')
    write(tmp_path / 'envs' / 'thing.yaml', 'heat_template_version: 2018-08-31\n')

    _, _, files, envs = template_files.load(str(main), [str(env)])

    assert envs == [(str(env), env.read_text())]
    assert set(files) == {'../providers/server.yaml', 'thing.yaml', 's.sh'}
    assert files['s.sh'] == 'server script\n'


def test_environments_kept_in_order(tmp_path):
    main = write(tmp_path / 'main.yaml', 'heat_template_version: 2018-08-31\n')
    first = write(tmp_path / 'a.yaml', 'parameters: {x: "1"}\n')
    second = write(tmp_path / 'b.yaml', 'parameters: {x: "2"}\n')
    envs = template_files.load(str(main), [str(second), str(first)])[3]
    assert [name for name, _ in envs] == [str(second), str(first)]


def test_missing_get_file_names_file_and_referrer(tmp_path):
    main = write(tmp_path / 'main.yaml', MAIN)
    write(tmp_path / 'nested' / 'inner.yaml', 'heat_template_version: 2018-08-31\n')
    with pytest.raises(FileError) as err:
        template_files.load(str(main))
    msg = str(err.value)
    assert str(tmp_path / 'scripts' / 'boot.sh') in msg
    assert str(main) in msg
    assert err.value.exit_code == 2


def test_missing_nested_file_names_nested_template(tmp_path):
    main = write(tmp_path / 'main.yaml', MAIN)
    write(tmp_path / 'scripts' / 'boot.sh', 'x')
    write(tmp_path / 'nested' / 'inner.yaml', INNER)
    write(tmp_path / 'lib' / 'deep.template', 'heat_template_version: 2018-08-31\n')
    with pytest.raises(FileError) as err:
        template_files.load(str(main))
    assert str(err.value) == ('file %s not found (referenced by nested/inner.yaml)'
                              % (tmp_path / 'nested' / 'inner.sh'))


def test_missing_registry_file_names_environment(tmp_path):
    env = write(tmp_path / 'env.yaml', 'resource_registry:\n  "My::X": gone.yaml\n')
    with pytest.raises(FileError, match=r'gone\.yaml.*referenced by .*env\.yaml'):
        template_files.load(None, [str(env)])


def test_missing_template(tmp_path):
    with pytest.raises(FileError, match=r'template .*nope\.yaml not found'):
        template_files.load(str(tmp_path / 'nope.yaml'))


def test_same_reference_to_different_files_is_an_error(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: run.sh}}}
  n: {type: sub/n.yaml}
""")
    write(tmp_path / 'run.sh', 'top\n')
    write(tmp_path / 'sub' / 'n.yaml', """heat_template_version: 2018-08-31
resources:
  b: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: run.sh}}}
""")
    write(tmp_path / 'sub' / 'run.sh', 'sub\n')
    with pytest.raises(FileError, match='one name must mean one file') as err:
        template_files.load(str(main))
    assert str(tmp_path / 'sub' / 'run.sh') in str(err.value)


def test_same_file_referenced_twice_is_read_once(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: shared.yaml}
  b: {type: shared.yaml}
""")
    write(tmp_path / 'shared.yaml', """heat_template_version: 2018-08-31
resources:
  again: {type: shared.yaml}
""")
    assert list(template_files.load(str(main))[2]) == ['shared.yaml']


def test_file_url_template_and_absolute_reference(tmp_path):
    script = write(tmp_path / 'abs' / 'x.sh', 'abs\n')
    ref = script.as_uri()
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: '%s'}}}
""" % ref)
    text, name, files, _ = template_files.load(main.as_uri())
    assert text == main.read_text()
    assert name == str(main)
    assert files == {ref: 'abs\n'}


def test_remote_reference_is_refused(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: 'http://example.com/t.yaml'}
""")
    with pytest.raises(FileError, match='only local files'):
        template_files.load(str(main))


def test_unresolvable_references_are_left_to_the_engine(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
parameters:
  name: {type: string}
resources:
  a:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: {get_param: name}}
""")
    assert template_files.load(str(main))[2] == {}


def test_unparsable_template_is_passed_through(tmp_path):
    main = write(tmp_path / 'main.yaml', 'heat_template_version: [unclosed\n')
    text, _, files, _ = template_files.load(str(main))
    assert text == 'heat_template_version: [unclosed\n'
    assert files == {}


def test_directory_reference_is_an_error(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: sub}}}
""")
    (tmp_path / 'sub').mkdir()
    with pytest.raises(FileError, match='not a regular file'):
        template_files.load(str(main))


def test_read_parameter_file(tmp_path):
    key_file = write(tmp_path / 'key.pub', 'ssh-rsa AAA\n')
    assert template_files.read_parameter_file('key', str(key_file)) == 'ssh-rsa AAA\n'
    with pytest.raises(FileError, match=r'--parameter-file key'):
        template_files.read_parameter_file('key', str(tmp_path / 'missing'))


def test_resource_type_with_slash_is_a_template_but_property_type_is_not(tmp_path):
    main = write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  server:
    type: providers/server
  mime:
    type: OS::Heat::MultipartMime
    properties:
      parts:
        - config: {get_resource: server}
          type: text/x-shellscript
""")
    write(tmp_path / 'providers' / 'server', 'heat_template_version: 2018-08-31\n')
    assert template_files.load(str(main))[2] == {
        'providers/server': 'heat_template_version: 2018-08-31\n'}


def test_registry_type_aliases_are_not_files(tmp_path):
    env = write(tmp_path / 'env.yaml', """resource_registry:
  "OS::Alias": "OS::Nova::Server"
  "My::Plain": PlainType
  "OS::Net::*": "OS::Neutron::*"
  "My::Gone": null
  resources:
    web:
      hooks: [pre-create]
      restricted_actions: replace
""")
    assert template_files.load(None, [str(env)])[2] == {}


def test_home_is_expanded_for_user_paths_only(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    write(tmp_path / 'main.yaml', """heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::SoftwareConfig, properties: {config: {get_file: ~/secret}}}
""")
    write(tmp_path / 'secret', 'home file\n')
    with pytest.raises(FileError) as err:
        template_files.load('~/main.yaml')          # the -t path expands; the reference not
    assert str(err.value) == 'file %s not found (referenced by ~/main.yaml)' % (
        tmp_path / '~' / 'secret')
