"""The simulator fixtures of the OpenStack plugin tests, for the driver's tests too."""

from tests.unit.resources.openstack.conftest import client, conn, simcloud  # noqa: F401
