"""The chaos suite (docs/chaos.md): real services dealt faults under a stream of stack
operations, and the invariants checked afterwards. ``cluster`` runs the services, ``faults``
deals the faults on a seeded schedule."""
