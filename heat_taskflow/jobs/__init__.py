"""Job boards: the transport of the distributed path, below the engine.

``backends.fetch(url, persistence)`` connects the board a URL names; the URL's scheme picks
the backend through stevedore (namespace ``heat_taskflow.jobs.backends``), as TaskFlow picks
its own job board backends and tooz its drivers. Callers never import an ``impl_`` module.
"""
