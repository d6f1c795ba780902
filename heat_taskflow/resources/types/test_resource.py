"""OS::Heat::TestResource: stores a string, and can be told to wait or fail (for tests).

Waits are polled through check_*_complete, never slept, so the engine can cancel them.

Heat's type is public, and so is this one, without its endless wait: a negative wait is
refused. ``EndlessTestResource`` (the same type name in the test-only entry point group,
``[DEFAULT] enable_test_resource_types``) keeps Heat's meaning of -1: wait forever.
"""

from heat_taskflow.resources import attributes, base
from heat_taskflow.resources.exceptions import ResourceCheckFailed
from heat_taskflow.resources.properties import Schema
from heat_taskflow.resources.types.polled_wait import PolledWait
from heat_taskflow.template import constraints as constr


class TestResource(PolledWait, base.Resource):
    """A resource that stores the string it is given; knobs make it wait, fail or replace."""

    __test__ = False  # not a pytest test class, despite its (Heat's) name

    type_name = 'OS::Heat::TestResource'
    ACTION_KEYS = ('create', 'update', 'delete')

    properties_schema = {
        'value': Schema(Schema.STRING, 'The input string to be stored.',
                        default='test_string', update_allowed=True),
        'fail': Schema(Schema.BOOLEAN, 'Fail the resource operation (not delete) when true.',
                       default=False, update_allowed=True),
        'update_replace': Schema(Schema.BOOLEAN,
                                 'Replace the resource, rather than update it, when its '
                                 'value changes while this is true.',
                                 default=False, update_allowed=True),
        'wait_secs': Schema(Schema.NUMBER, 'Seconds to wait after an action (-1 is infinite '
                                           'where test resource types are enabled).',
                            default=0, update_allowed=True),
        'action_wait_secs': Schema(
            Schema.MAP, 'Seconds to wait per action; default to wait_secs.',
            update_allowed=True,
            schema={key: Schema(Schema.NUMBER, 'Seconds to wait after a %s.' % key,
                                update_allowed=True) for key in ACTION_KEYS}),
        'client_name': Schema(Schema.STRING, 'Client to poll (accepted; nothing is polled).',
                              default='', update_allowed=True),
        'entity_name': Schema(Schema.STRING, 'Client entity to poll (accepted; not polled).',
                              default='', update_allowed=True),
        'constraint_prop_secs': Schema(
            Schema.NUMBER, 'Number value for delay during resolve constraint.', default=0,
            update_allowed=True, constraints=[constr.CustomConstraint('test_constr')]),
    }

    attributes_schema = {
        'output': attributes.Schema('The string that was stored. This value is also '
                                    'available by referencing the resource.',
                                    attributes.Schema.STRING),
    }

    failure_label = 'Test Resource'
    negative_waits_forever = False          # refused by validate(): see EndlessTestResource

    def validate(self, partial=False):
        """Check the properties; without test types enabled, no wait may be negative."""
        super().validate(partial=partial)
        if self.negative_waits_forever:
            return
        waits = [(('wait_secs',), self.properties['wait_secs'])]
        waits += [(('action_wait_secs', key), secs) for key, secs in
                  sorted((self.properties['action_wait_secs'] or {}).items())]
        for path, secs in waits:
            if isinstance(secs, (int, float)) and secs < 0:
                raise self.invalid(path, 'a negative wait (%s: endless) needs [DEFAULT] '
                                         'enable_test_resource_types' % secs)

    def wait_secs(self, action):
        """``action_wait_secs`` for the action, else ``wait_secs``."""
        per_action = self.properties['action_wait_secs'] or {}
        secs = per_action.get(action)
        return self.properties['wait_secs'] if secs is None else secs

    def handle_create(self):
        """Record the physical id, then "create" (store the value); waits are polled."""
        if not self.properties['fail']:
            physical_id = self.physical_resource_name()
            self.data_set('value', self.properties['value'])
            self.set_physical_id(physical_id)
        return self._cookie('create')

    def check_create_complete(self, cookie):
        """True once the wait has passed; fails then when ``fail`` is set."""
        return self._check(cookie)

    def update_requires_replacement(self, new_properties):
        """Replace when the value changes while the new update_replace is true (as Heat)."""
        new = self.make_properties(new_properties)
        if 'value' in self.properties.diff(new) and new['update_replace']:
            return True
        return super().update_requires_replacement(new)

    def handle_update(self, new_properties, prop_diff):
        """Store a changed value in place (unless ``fail``); wait as for update."""
        if 'value' in prop_diff:
            if not new_properties['fail']:
                self.data_set('value', new_properties['value'])
            return self._cookie('update')
        return {'action': 'update', 'started': self.now(), 'wait_secs': 0}

    def check_update_complete(self, cookie):
        """True once the wait has passed; fails then when ``fail`` is set."""
        return self._check(cookie)

    def handle_delete(self):
        """Nothing real to delete; wait as for delete (never fails)."""
        return self._cookie('delete')

    def check_delete_complete(self, cookie):
        """True once the wait has passed."""
        return self._check(cookie)

    def handle_check(self):
        """The stored value must still be the ``value`` property."""
        stored = self.data_get('value')
        if not self.properties['fail'] and stored != self.properties['value']:
            raise ResourceCheckFailed(self.name, 'stored value %r differs from %r'
                                      % (stored, self.properties['value']))

    def resolve_attribute(self, name):
        """``output``: the stored value."""
        if name == 'output':
            return self.data_get('value')
        return None


class EndlessTestResource(TestResource):
    """OS::Heat::TestResource as tests have it: a negative wait never ends (Heat's -1)."""

    __test__ = False
    negative_waits_forever = True
