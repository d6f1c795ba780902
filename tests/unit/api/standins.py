"""Stand-ins for engine service methods of docs/api.md's contract that the api-engine
branch has not delivered yet (list filters, count_stacks, get_environment, get_files).
Each steps aside as soon as the real method exists."""

import inspect


def service(svc):
    """svc, whose scoped views gain the contract's missing methods."""
    real_scoped = svc.scoped

    def scoped(project_id, admin=False):
        return _Scoped(real_scoped(project_id, admin=admin))

    svc.scoped = scoped
    return svc


class _Scoped:
    def __init__(self, view):
        self._view = view
        self._filters = 'filters' in inspect.signature(view.list_stacks).parameters

    def __getattr__(self, name):
        return getattr(self._view, name)

    def list_stacks(self, **kwargs):
        if self._filters:
            return self._view.list_stacks(**kwargs)
        stacks = self._view.list_stacks()
        for key, value in (kwargs.get('filters') or {}).items():
            key = {'name': 'stack_name'}.get(key, key)
            values = value if isinstance(value, list) else [value]
            stacks = [s for s in stacks if s.get(key) in values]
        reverse = kwargs.get('sort_dir') == 'desc'
        stacks.sort(key=lambda s: (s['creation_time'] or '', s['id']), reverse=reverse)
        if kwargs.get('marker'):
            ids = [s['id'] for s in stacks]
            stacks = stacks[ids.index(kwargs['marker']) + 1:]
        if kwargs.get('limit') is not None:
            stacks = stacks[:kwargs['limit']]
        return stacks

    def count_stacks(self, **kwargs):
        if hasattr(self._view, 'count_stacks'):
            return self._view.count_stacks(**kwargs)
        return len(self.list_stacks(filters=kwargs.get('filters')))
