"""The wait-then-maybe-fail behaviour the test resource types share (OS::Heat::TestResource,
OS::Heat::TestLedger): an action's cookie records when it started and how long it takes,
check_*_complete polls it (never sleeps, so the engine can cancel or time it out), and once
the wait has passed a ``fail`` property fails every action but delete."""

from heat_taskflow.resources.exceptions import ResourceFailure


class PolledWait:
    """Mixin for a base.Resource with a boolean ``fail`` property.

    Subclasses implement ``wait_secs(action)`` (action: 'create', 'update' or 'delete') and
    set ``failure_label`` (the failure reads "<label> failed <resource name>").
    ``negative_waits_forever``: a negative wait never ends (else it ends at once).
    """

    failure_label = 'Resource'
    negative_waits_forever = False

    def wait_secs(self, action):
        """Seconds an action takes."""
        raise NotImplementedError

    def _cookie(self, action):
        return {'action': action, 'started': self.now(), 'wait_secs': self.wait_secs(action)}

    def _check(self, cookie):
        """True once the wait has passed; then fails when ``fail`` is set (not a delete)."""
        wait_secs = cookie['wait_secs']
        if wait_secs < 0 and self.negative_waits_forever:
            return False
        if self.now() - cookie['started'] < wait_secs:
            return False
        if self.properties['fail'] and cookie['action'] != 'delete':
            raise ResourceFailure(self.name, '%s failed %s' % (self.failure_label, self.name),
                                  cookie['action'].upper())
        return True
