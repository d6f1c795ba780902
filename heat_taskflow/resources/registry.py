"""Resource plugin classes by type name, found through stevedore entry points.

Plugins are declared in the ``heat_taskflow.resources`` entry point group (setup.cfg), with
the resource type name as the entry point name (``OS::Heat::None = module:Class``). They are
loaded once per process and cached. The environment's resource_registry has already been
applied by the template package: the engine asks here for a final type name, or builds a
class for a template resource with ``get_template_resource_class``.

Test-only types live in their own group, ``heat_taskflow.test_resources``: OS::Heat::TestLedger
(it writes a file a template names) and the OS::Heat::TestResource whose negative wait never
ends. A template may name them only where ``[DEFAULT] enable_test_resource_types`` is set
(tests do): validation asks with ``test_types=conf.enable_test_resource_types``, and a test
type then wins over a public one of the same name. A stored resource of a test type is still
found (``test_types=True``, the default for the engine's own lookups) so that a stack created
while they were enabled can always be deleted.

``implicit_dependencies(defn)`` collects the dependencies plugins declare although no
property refers to them (``Resource.implicit_dependencies``), over a ``StackView`` of the
stack's definition; the engine hands it to ``StackDefinition(implicit=...)``.
"""

import json
import threading

import stevedore

from heat_taskflow.resources.exceptions import ResourceTypeNotFound

NAMESPACE = 'heat_taskflow.resources'
TEST_NAMESPACE = 'heat_taskflow.test_resources'

_lock = threading.Lock()
_classes = None         # {namespace: {type name: class}}


def _load_failed(manager, entry_point, exc):
    # A broken plugin is a packaging bug: say which one rather than skip it silently.
    raise RuntimeError('cannot load resource plugin %s (%s): %s'
                       % (entry_point.name, entry_point.value, exc)) from exc


def _load():
    out = {}
    for namespace in (NAMESPACE, TEST_NAMESPACE):
        manager = stevedore.ExtensionManager(namespace, invoke_on_load=False,
                                             on_load_failure_callback=_load_failed)
        out[namespace] = {ext.name: ext.plugin for ext in manager}
    return out


def classes(test_types=False):
    """``{type name: plugin class}`` of the public plugins, and with ``test_types`` the
    test-only ones over them (loaded once, then cached)."""
    global _classes
    if _classes is None:
        with _lock:
            if _classes is None:
                _classes = _load()
    found = dict(_classes[NAMESPACE])
    if test_types:
        found.update(_classes[TEST_NAMESPACE])
    return found


def type_names(test_types=False):
    """The registered resource type names, sorted."""
    return sorted(classes(test_types))


def get_class(type_name, environment=None, test_types=True):
    """The plugin class for a resource type name; ResourceTypeNotFound when there is none.

    ``test_types``: whether test-only types are found (True for what is already stored;
    validation of a new template passes ``[DEFAULT] enable_test_resource_types``).
    ``environment`` is accepted for callers that pass one; the resource_registry mapping
    has already been applied by the template package, so it is not consulted here.
    """
    cls = classes(test_types).get(type_name)
    if cls is None:
        raise ResourceTypeNotFound(type_name)
    return cls


def get_template_resource_class(type_name, template_file, template, files=None, limits=None):
    """A plugin class for a template resource: ``type_name`` mapped to ``template_file``.

    ``template`` is the file's content (text, parsed under ``limits``, or an already parsed
    dict); its parameters become the properties and its outputs the attributes.
    """
    from heat_taskflow.resources.types import template_resource
    return template_resource.make_class(type_name, template_file, template, files,
                                        limits=limits)


def reset():
    """Forget the cached plugins (tests, or after installing a plugin package)."""
    global _classes
    with _lock:
        _classes = None


# -- implicit dependencies -----------------------------------------------------------------

# Snippets that name a resource: {get_resource: X}, {Ref: X}, and its id attribute.
_REFERENCE_KEYS = ('get_resource', 'Ref')
_ATTRIBUTE_KEYS = ('get_attr', 'Fn::GetAtt')


class StackView:
    """What a plugin's ``implicit_dependencies`` may see of its stack: names, types after
    the environment's resource_registry, and the raw (unresolved) property snippets."""

    def __init__(self, defn):
        self._defn = defn
        self._names = tuple(defn.resources)
        self._by_name = None

    def names(self):
        """The names of the stack's active resources."""
        return self._names

    def type_of(self, name):
        """The resource's type name after the resource_registry."""
        return self._defn.resource_type(name).type_name

    def properties(self, name):
        """The resource's property snippets as written ({} when it has none)."""
        raw = self._defn.template.resources[name].raw or {}
        props = raw.get('properties', raw.get('Properties'))
        return props if isinstance(props, dict) else {}

    def _literal_names(self):
        if self._by_name is None:
            by_name = {}
            for name in self._names:
                value = self.properties(name).get('name')
                if isinstance(value, str):
                    by_name.setdefault(value, set()).add(name)
            self._by_name = by_name
        return self._by_name

    def _resources_named(self, snippet):
        """The resources a snippet names: a reference, an ``id`` attribute, or a literal
        equal to a resource's literal ``name`` property."""
        if isinstance(snippet, str):
            return self._literal_names().get(snippet, set())
        if not isinstance(snippet, dict) or len(snippet) != 1:
            return set()
        (key, arg), = snippet.items()
        if key in _REFERENCE_KEYS and arg in self._names:
            return {arg}
        if (key in _ATTRIBUTE_KEYS and isinstance(arg, list) and len(arg) == 2
                and arg[1] == 'id' and arg[0] in self._names):
            return {arg[0]}
        return set()

    def same(self, a, b):
        """Whether two snippets name the same thing: equal snippets, or both naming one
        resource (``{get_resource: X}``, ``{get_attr: [X, id]}``, X's literal name)."""
        if a is None or b is None:
            return False
        if _canonical(a) == _canonical(b):
            return True
        return bool(self._resources_named(a) & self._resources_named(b))

    def resource_named(self, snippet):
        """The one resource a snippet names (see ``same``), or None."""
        found = self._resources_named(snippet)
        return next(iter(found)) if len(found) == 1 else None


def _canonical(snippet):
    return json.dumps(snippet, sort_keys=True, default=str)


def implicit_dependencies(defn):
    """``{name: frozenset(names)}``: what each resource's plugin says it must come after
    although its properties do not refer to it. Template resources and unknown types (which
    validation reports) declare none."""
    view = StackView(defn)
    active = set(view.names())
    out = {}
    for name in view.names():
        rtype = defn.resource_type(name)
        cls = None if rtype.template_file else classes(True).get(rtype.type_name)
        if cls is None:
            continue
        deps = frozenset(d for d in cls.implicit_dependencies(name, view) or ()
                         if d in active and d != name)
        if deps:
            out[name] = deps
    return out
