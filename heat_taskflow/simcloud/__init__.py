"""A simulated OpenStack cloud for offline deployments, drift and exactly-once audits.

``heat-taskflow-simcloud`` emulates the subset of the real OpenStack APIs heat-taskflow uses,
on one loopback port laid out as devstack lays out a cloud (docs/cloud.md section 7):
Keystone v3 under ``/identity`` (``identity``), Nova under ``/compute`` (``compute``), Glance
under ``/image`` (``image``), Neutron under ``/network`` (``network``), Cinder under
``/volume`` (``volume``), and the simulator's own ``/admin`` API and ``/healthz`` (``api``).
Unmodified openstacksdk and the ``openstack`` CLI talk to it. State lives in SQLite
(``storage``); what each kind of object is and how it behaves is in ``kinds``; the HTTP
server is ``server``; routing, requests, error formats and microversions are ``framework``.

Adding a service module (how ``network.py`` plugs in):

1. Get the module's ``framework.Service`` (``SERVICE = framework.Service(name, '/prefix',
   error_format, microversions)``; Neutron's, with its version documents, is
   ``framework.NETWORK``) and add the module's name to ``api.SERVICE_MODULES``.
2. Declare routes: ``@SERVICE.route('GET', '/v2.0/ports/{port_id}')`` on a function taking a
   ``framework.Request`` and returning ``(status, payload[, headers])``. ``req.params`` holds
   the path's ``{names}``, ``req.query`` / ``req.query_all`` the query string, ``req.body`` the
   JSON body (``req.json_body('port')``), ``req.auth`` the token (``req.project``: its
   project id). Routes need a token unless declared with ``auth=False``.
3. Run every operation on the store through ``req.call(KIND, VERB, action, token=None)``:
   it counts the call for ``/admin/calls``, applies the fault injection of the operation
   ``KIND.VERB`` (``latency``, ``failure_rate``, ``fail_next``, ``failure_status``,
   ``failure_mode`` before/after; see ``api``) and runs ``action(op)`` in one transaction with
   a ``kinds.Op`` (``op.tx``, ``op.project``, ``op.build_time`` for transitional statuses,
   ``op.token``: pass the heat-taskflow intent token found in a create, so the audit has it).
   ``kinds.create_object`` / ``update_object`` / ``delete_object`` / ``view`` do the
   kind's checks, quota and store writes.
4. Raise ``kinds.ApiError(status, code, message)``: it is written in the service's format.
"""
