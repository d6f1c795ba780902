"""OS::Heat::MultipartMime: configs assembled into one multipart MIME message (no cloud call).

Each part is a config text (inline, or ``get_resource`` of a CloudConfig, another
MultipartMime or any config resource: here that is the config text itself, see
cloud_config.py) with an optional filename and subtype; a part of type ``multipart`` is split
and its parts appended, as Heat does. The message (its MIME boundary is random) is built once
and recorded, so a re-run and every server that uses it see the same user data.
"""

import email
import os
from email.mime import multipart, text

from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.openstack.cloud_config import ConfigResource
from heat_taskflow.template import constraints as constr


def mime_part(content, subtype=None, filename=None):
    """A text part; the subtype defaults to the filename without its extension (as Heat)."""
    if not subtype and filename:
        subtype = os.path.splitext(filename)[0]
    msg = text.MIMEText(content or '', _subtype=subtype) if subtype else text.MIMEText(
        content or '')
    if filename:
        msg.add_header('Content-Disposition', 'attachment', filename=filename)
    return msg


def split_parts(message):
    """``(payload, subtype, filename)`` of each part of a multipart message; [] if it is not
    one."""
    parsed = email.message_from_string(message or '')
    if not parsed.is_multipart():
        return []
    return [(part.get_payload(), part.get_content_subtype(), part.get_filename())
            for part in parsed.get_payload()]


class MultipartMime(ConfigResource):
    """A resource which assembles a collection of configs as a multi-part mime message."""

    type_name = 'OS::Heat::MultipartMime'

    properties_schema = {
        'parts': Schema(Schema.LIST, 'Parts belonging to this message.', default=[],
                        schema=Schema(Schema.MAP, schema={
                            'config': Schema(Schema.STRING, 'Content of part to attach, '
                                             'either inline or by referencing another config '
                                             'resource.', required=True),
                            'filename': Schema(Schema.STRING, 'Optional filename to '
                                               'associate with part.'),
                            'type': Schema(Schema.STRING, 'Whether the part content is text '
                                           'or multipart.', default='text',
                                           constraints=[constr.AllowedValues(
                                               ['text', 'multipart'])]),
                            'subtype': Schema(Schema.STRING, 'Optional subtype to specify '
                                              'with the type.'),
                        })),
    }

    def build_config(self):
        """The parts as one multipart message."""
        subparts = []
        for item in self.properties['parts'] or []:
            if item.get('type') == 'multipart':
                subparts.extend(mime_part(*part) for part in split_parts(item['config']))
            else:
                subparts.append(mime_part(item['config'], item.get('subtype'),
                                          item.get('filename')))
        return multipart.MIMEMultipart(_subparts=subparts).as_string()
