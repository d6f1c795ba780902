"""OS::Heat::MultipartMime: parts (inline, other configs, nested multiparts) in one message."""

import email

from heat_taskflow.resources.types.openstack.cloud_config import CloudConfig
from heat_taskflow.resources.types.openstack.multipart_mime import MultipartMime
from tests.unit.resources import fakes


def _created(cls, name, props, ctx=None):
    res = cls(name, props, ctx or fakes.FakeContext(name))
    res.validate()
    res.handle_create()
    return res


def _parts(message):
    parsed = email.message_from_string(message)
    assert parsed.is_multipart()
    return [(p.get_content_type(), p.get_filename(), p.get_payload())
            for p in parsed.get_payload()]


def test_parts_keep_their_subtype_filename_and_content():
    cc = _created(CloudConfig, 'cc', {'cloud_config': {'packages': ['git']}})
    mime = _created(MultipartMime, 'mime', {'parts': [
        {'config': cc.get_reference_id()},
        {'config': '#!/bin/sh\necho hi\n', 'filename': 'boot.sh', 'subtype': 'x-shellscript'},
        {'config': 'data', 'filename': 'cloud-config.txt'},
    ]})
    parts = _parts(mime.get_attribute('config'))
    assert parts[0] == ('text/plain', None, cc.get_attribute('config'))
    assert parts[1] == ('text/x-shellscript', 'boot.sh', '#!/bin/sh\necho hi\n')
    # Without a subtype, the filename's stem is the subtype (as Heat).
    assert parts[2] == ('text/cloud-config', 'cloud-config.txt', 'data')
    assert mime.get_reference_id() == mime.get_attribute('config')


def test_a_multipart_part_is_split_into_its_parts():
    inner = _created(MultipartMime, 'inner', {'parts': [
        {'config': 'a', 'filename': 'a.sh', 'subtype': 'x-shellscript'},
        {'config': 'b', 'subtype': 'cloud-config'}]})
    outer = _created(MultipartMime, 'outer', {'parts': [
        {'config': inner.get_reference_id(), 'type': 'multipart'},
        {'config': 'c'}]})
    assert _parts(outer.get_attribute('config')) == [
        ('text/x-shellscript', 'a.sh', 'a'), ('text/cloud-config', None, 'b'),
        ('text/plain', None, 'c')]


def test_the_message_is_built_once_a_re_run_keeps_its_boundary():
    ctx = fakes.FakeContext('mime')
    props = {'parts': [{'config': 'x'}]}
    first = _created(MultipartMime, 'mime', props, ctx)
    again = _created(MultipartMime, 'mime', props, ctx)
    assert again.get_attribute('config') == first.get_attribute('config')
    fresh = _created(MultipartMime, 'mime', props)
    assert fresh.get_attribute('config') != first.get_attribute('config')  # new boundary
