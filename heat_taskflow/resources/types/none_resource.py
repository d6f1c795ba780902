"""OS::Heat::None: accepts any properties, does nothing, never needs replacing.

Used through the resource_registry to stub a resource out of a stack.
"""

import uuid

from heat_taskflow.resources import base


class NoneResource(base.Resource):
    """A resource that does nothing; every attribute is None."""

    type_name = 'OS::Heat::None'
    properties_schema = None
    attributes_schema = {}

    @classmethod
    def has_attribute(cls, name):
        """Any attribute may be read (as None), so this can stand in for any type."""
        return True

    def handle_create(self):
        """Give the resource an id; the id is recorded first so a re-run keeps it."""
        self.set_physical_id(self.remember('physical_id', lambda: str(uuid.uuid4())))

    def update_requires_replacement(self, new_properties):
        """Never: whatever changes, there is nothing to replace."""
        return False

    def get_attribute(self, name, *path):
        """None, for any attribute name."""
        return None
