"""Tests for heat_taskflow.template.errors."""

from heat_taskflow.template.errors import TemplateError, format_path


def test_paths_render_keys_and_indexes():
    assert format_path(('resources', 'web', 'properties', 'networks', 0, 'port')) == \
        'resources.web.properties.networks[0].port'


def test_boolean_keys_are_keys_not_indexes():
    # YAML loads the key `off` as False; it must not print as [0].
    assert format_path(('conditions', False)) == 'conditions.False'


def test_message_names_file_line_and_path():
    err = TemplateError('boom', ('resources', 'a'), line=7, filename='t.yaml')
    assert str(err) == 't.yaml:7: resources.a: boom'
