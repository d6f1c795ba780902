"""OS::Heat::CloudConfig: cloud-init cloud-config data, built from a map (no cloud call).

Heat stores the config in its software-config service and ``get_resource`` gives the config's
id; OS::Nova::Server then loads the config by that id when its ``user_data_format`` is RAW or
SOFTWARE_CONFIG. heat-taskflow has no software-config service, so a config resource's
reference id (``get_resource``) is the config text itself, and the ``config`` attribute the
same: ``user_data: {get_resource: my_config}`` gives the server the same user data as in
Heat, and so does a MultipartMime part that refers to the config. The difference shows only
where a template uses the reference as an id (``openstack software config show``, or
comparing it with a uuid).

The text is generated once and recorded with the resource (a re-run keeps it). No property is
update_allowed: a change replaces the config, and servers whose user_data refers to it are
replaced by their own ``user_data_update_policy`` (REPLACE by default), as in Heat.
"""

import uuid

import yaml

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.properties import Schema

CONFIG_KEY = 'config'


class ConfigResource(base.Resource):
    """A config made from the properties once and recorded; ``get_resource`` gives its text."""

    attributes_schema = {
        'config': attributes.Schema('The config value of the software config.',
                                    attributes.Schema.STRING),
    }

    def build_config(self):
        """The config text for the current properties."""
        raise NotImplementedError

    def handle_create(self):
        """Build and record the config, then the id (a re-run keeps both)."""
        self.remember(CONFIG_KEY, self.build_config)
        self.set_physical_id(self.remember('config_id', lambda: str(uuid.uuid4())))

    def resolve_attribute(self, name):
        if name == 'config':
            return self.data_get(CONFIG_KEY)
        return None

    def get_reference_id(self):
        """The config text once created (Heat gives a config id to load it by), else the
        resource name."""
        if self.physical_id is not None:
            return self.data_get(CONFIG_KEY)
        return self.name


class CloudConfig(ConfigResource):
    """A configuration resource for representing cloud-init cloud-config."""

    type_name = 'OS::Heat::CloudConfig'

    properties_schema = {
        'cloud_config': Schema(Schema.MAP, 'Map representing the cloud-config data structure '
                               'which will be formatted as YAML.'),
    }

    def build_config(self):
        """``#cloud-config`` and the map as YAML (as Heat formats it)."""
        body = yaml.safe_dump(self.properties['cloud_config'], default_flow_style=False)
        return '#cloud-config\n%s' % body
