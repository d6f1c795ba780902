"""A simulated OpenStack cloud for offline deployments, drift and exactly-once audits.

``heat-taskflow-simcloud`` serves a small Nova/Neutron/Cinder-like HTTP/JSON API on loopback
with its state in SQLite (``storage``), the behaviour of each kind of object (``kinds``), the
request dispatcher with latency, failure injection, quotas, drift and audit (``api``) and the
HTTP server (``server``). See ``api`` for the endpoints.
"""
