"""Environments: parameter values and defaults, and the resource_registry.

Several environment files merge in the order given, later files winning, as Heat
merges ``-e a.yaml -e b.yaml``. The registry maps resource types to other types
(aliases, wildcard prefixes) or to template files (template resources), globally or
per resource under ``resources: {name: {...}}``. A ``null`` mapping removes an entry.
"""

import copy
import fnmatch

from heat_taskflow.template import parser
from heat_taskflow.template.definitions import ResolvedType
from heat_taskflow.template.errors import TemplateError

SECTIONS = ('parameters', 'parameter_defaults', 'resource_registry', 'event_sinks',
            'encrypted_param_names', 'parameter_merge_strategies')
_MAP_SECTIONS = ('parameters', 'parameter_defaults', 'resource_registry',
                 'parameter_merge_strategies')
_LIST_SECTIONS = ('event_sinks', 'encrypted_param_names')

HOOK_TYPES = ('pre-create', 'pre-update', 'pre-delete', 'post-create', 'post-update',
              'post-delete')
RESTRICTED_ACTIONS = ('update', 'replace')
MERGE_STRATEGIES = ('overwrite', 'merge', 'deep_merge')

TEMPLATE_SUFFIXES = ('.yaml', '.yml', '.template')


def is_template_file(type_name):
    """Whether a resource type names a template file (a template resource)."""
    return type_name.endswith(TEMPLATE_SUFFIXES) or '/' in type_name


class Environment:
    """A merged environment. Build it with ``Environment.load`` or ``Environment()``."""

    def __init__(self):
        self.params = {}
        self.param_defaults = {}
        self.event_sinks = []
        self.encrypted_param_names = []
        self.filenames = []
        # type name (or pattern ending '*') -> type name or template file
        self._types = {}
        # resource name (or fnmatch pattern) -> {type: target, 'hooks': ..., ...}
        self._resources = {}

    @classmethod
    def load(cls, sources, limits=None, *, max_size=None, max_depth=None):
        """Parse and merge [(filename, text), ...] in order; raises TemplateError.

        ``limits`` (template.limits.Limits; the defaults when None) bounds each parse.
        """
        env = cls()
        for filename, text in sources:
            data, source_map = parser.load_mapping(text, filename, 'environment', limits,
                                                   max_size=max_size, max_depth=max_depth)
            try:
                env.merge(data, filename)
            except TemplateError as exc:
                raise exc.locate(filename, source_map)
        return env

    @classmethod
    def from_dict(cls, data, filename='environment'):
        """An environment from one already-parsed mapping."""
        env = cls()
        env.merge(data, filename)
        return env

    def merge(self, data, filename='environment'):
        """Merge one environment document into this one (it wins over what is here)."""
        try:
            self._merge(data, filename)
        except TemplateError as exc:
            raise exc.locate(filename)

    def _merge(self, data, filename):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise TemplateError('the environment is not a YAML mapping', filename=filename)
        for section, value in data.items():
            if section not in SECTIONS:
                raise TemplateError('"%s" is not a valid environment section; valid '
                                    'sections: %s' % (section, ', '.join(SECTIONS)),
                                    (section,), filename=filename)
            if value is None:
                continue
            if section in _MAP_SECTIONS and not isinstance(value, dict):
                raise TemplateError('environment section "%s" must be a map' % section,
                                    (section,), filename=filename)
            if section in _LIST_SECTIONS and not isinstance(value, list):
                raise TemplateError('environment section "%s" must be a list' % section,
                                    (section,), filename=filename)
        if data.get('encrypted_param_names'):
            # Heat's engine writes this key (the parameters it stored encrypted); taking it
            # from a user would suggest values are protected that are not.
            raise TemplateError(
                '"encrypted_param_names" is written by the engine, not by a user: to keep a '
                'parameter\'s value secret, mark it "hidden: true" in the template (and set '
                '[DEFAULT] encrypt_parameters_and_properties to encrypt it at rest)',
                ('encrypted_param_names',), filename=filename)
        strategies = self._strategies(data.get('parameter_merge_strategies') or {})
        for name, value in (data.get('parameters') or {}).items():
            self.params[name] = _merge_value(self.params.get(name), value,
                                             strategies.get(name, strategies['default']),
                                             name in self.params)
        for name, value in (data.get('parameter_defaults') or {}).items():
            self.param_defaults[name] = _merge_value(
                self.param_defaults.get(name), value,
                strategies.get(name, strategies['default']), name in self.param_defaults)
        self.event_sinks.extend(data.get('event_sinks') or [])
        for name in data.get('encrypted_param_names') or []:
            if name not in self.encrypted_param_names:
                self.encrypted_param_names.append(name)
        self._load_registry(data.get('resource_registry') or {})
        self.filenames.append(filename)

    @staticmethod
    def _strategies(raw):
        out = {'default': 'overwrite'}
        for name, strategy in raw.items():
            if strategy not in MERGE_STRATEGIES:
                raise TemplateError('invalid merge strategy %r for "%s"; valid: %s'
                                    % (strategy, name, ', '.join(MERGE_STRATEGIES)),
                                    ('parameter_merge_strategies', name))
            out[name] = strategy
        return out

    # --- resource_registry ---------------------------------------------------------

    def _load_registry(self, registry):
        for key, value in registry.items():
            path = ('resource_registry', key)
            if key == 'resources':
                if value is None:
                    continue
                if not isinstance(value, dict):
                    raise TemplateError('resource_registry.resources must be a map of '
                                        'resource names to maps', path)
                for rname, entries in value.items():
                    self._load_resource_entries(rname, entries, path + (rname,))
                continue
            if not isinstance(key, str) or not key:
                raise TemplateError('resource_registry keys must be resource types', path)
            _set_mapping(self._types, key, value, path)

    def _load_resource_entries(self, rname, entries, path):
        if not isinstance(rname, str):
            raise TemplateError('resource names in resource_registry.resources must be '
                                'strings', path)
        if entries is None:
            self._resources.pop(rname, None)
            return
        if not isinstance(entries, dict):
            raise TemplateError('the entry for resource "%s" must be a map' % rname, path)
        target = self._resources.setdefault(rname, {})
        for key, value in entries.items():
            kpath = path + (key,)
            if key == 'hooks':
                target[key] = _checked_names(value, HOOK_TYPES, 'hook', kpath)
            elif key == 'restricted_actions':
                target[key] = _checked_names(value, RESTRICTED_ACTIONS, 'restricted action',
                                             kpath)
            elif isinstance(key, str) and key:
                _set_mapping(target, key, value, kpath)
            else:
                raise TemplateError('invalid key %r in the entry for resource "%s"'
                                    % (key, rname), kpath)

    def resolve_type(self, type_name, resource_name=None):
        """The ResolvedType for a resource's type after the resource_registry.

        Lookup order (as Heat): a mapping for this resource by name, then the type's
        own mapping, then the longest matching wildcard; a mapping to another type is
        followed. A type that is itself a file name is a template resource.
        """
        seen = []
        current = type_name
        while True:
            if current in seen:
                raise TemplateError('resource_registry maps types in a loop: %s'
                                    % ' -> '.join(seen + [current]),
                                    ('resource_registry', seen[0]))
            seen.append(current)
            target = self._lookup(current, resource_name)
            if target is None:
                if is_template_file(current):
                    return ResolvedType(current, current)
                return ResolvedType(current, None)
            if is_template_file(target):
                return ResolvedType(current if not is_template_file(current) else target,
                                    target)
            current = target

    def _lookup(self, type_name, resource_name):
        if resource_name is not None and self._resources:
            entries = self._resources.get(resource_name)
            if entries and isinstance(entries.get(type_name), str):
                return entries[type_name]
        target = self._types.get(type_name)
        if isinstance(target, str):
            return target
        best = None
        for pattern, value in self._types.items():
            if not pattern.endswith('*'):
                continue
            prefix = pattern[:-1]
            # a many-to-one mapping must not match its own target (OS::* -> OS::Heat::None)
            if type_name.startswith(prefix) and type_name != value:
                if best is None or len(prefix) > len(best[0]):
                    best = (prefix, value)
        if best is None:
            return None
        prefix, value = best
        if value.endswith('*'):
            return value[:-1] + type_name[len(prefix):]
        return value

    def hooks(self, resource_name):
        """The hook types set for a resource (names may be fnmatch patterns)."""
        return self._matching(resource_name, 'hooks')

    def restricted_actions(self, resource_name):
        """The restricted actions set for a resource (names may be fnmatch patterns)."""
        return self._matching(resource_name, 'restricted_actions')

    def _matching(self, resource_name, key):
        out = set()
        for pattern, entries in self._resources.items():
            if key in entries and fnmatch.fnmatchcase(resource_name, pattern):
                out.update(entries[key])
        return frozenset(out)

    def registry_as_dict(self):
        """The merged resource_registry in its file form."""
        out = dict(self._types)
        if self._resources:
            out['resources'] = {
                name: {k: (list(v) if isinstance(v, tuple) else v) for k, v in e.items()}
                for name, e in self._resources.items()}
        return out

    def as_dict(self):
        """The merged environment in its file form."""
        return {
            'parameters': copy.deepcopy(self.params),
            'parameter_defaults': copy.deepcopy(self.param_defaults),
            'resource_registry': self.registry_as_dict(),
            'event_sinks': copy.deepcopy(self.event_sinks),
            'encrypted_param_names': list(self.encrypted_param_names),
        }


def _set_mapping(table, key, value, path):
    if value is None:
        # null removes an entry (a pattern removes every entry it matches), as in Heat
        if key.endswith('*'):
            for other in [k for k in table if isinstance(k, str) and k.startswith(key[:-1])
                          and k not in ('hooks', 'restricted_actions')]:
                del table[other]
        else:
            table.pop(key, None)
        return
    if not isinstance(value, str) or not value:
        raise TemplateError('"%s" must map to a resource type or a template file, not %r'
                            % (key, value), path)
    if key.endswith('*') and is_template_file(value):
        raise TemplateError('wildcard "%s" cannot map to a template file' % key, path)
    table[key] = value


def _checked_names(value, valid, what, path):
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n in valid
                                              for n in names):
        raise TemplateError('invalid %s %r; valid: %s' % (what, value, ', '.join(valid)),
                            path)
    return tuple(names)


def _merge_value(old, new, strategy, present):
    if not present or strategy == 'overwrite':
        return new
    if strategy == 'deep_merge' and isinstance(old, dict) and isinstance(new, dict):
        return _deep_merge(old, new)
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **new}
    if isinstance(old, list) and isinstance(new, list):
        return old + new
    if isinstance(old, str) and isinstance(new, str):
        # comma_delimited_list values given as text merge as lists do
        return ','.join(x for x in (old, new) if x)
    return new


def _deep_merge(old, new):
    out = dict(old)
    for key, value in new.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
