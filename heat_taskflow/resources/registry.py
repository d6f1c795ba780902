"""Resource plugin classes by type name, found through stevedore entry points.

Plugins are declared in the ``heat_taskflow.resources`` entry point group (setup.cfg), with
the resource type name as the entry point name (``OS::Heat::None = module:Class``). They are
loaded once per process and cached. The environment's resource_registry has already been
applied by the template package: the engine asks here for a final type name, or builds a
class for a template resource with ``get_template_resource_class``.
"""

import threading

import stevedore

from heat_taskflow.resources.exceptions import ResourceTypeNotFound

NAMESPACE = 'heat_taskflow.resources'

_lock = threading.Lock()
_classes = None


def _load_failed(manager, entry_point, exc):
    # A broken plugin is a packaging bug: say which one rather than skip it silently.
    raise RuntimeError('cannot load resource plugin %s (%s): %s'
                       % (entry_point.name, entry_point.value, exc)) from exc


def _load():
    manager = stevedore.ExtensionManager(NAMESPACE, invoke_on_load=False,
                                         on_load_failure_callback=_load_failed)
    return {ext.name: ext.plugin for ext in manager}


def classes():
    """``{type name: plugin class}`` of every registered plugin (loaded once, then cached)."""
    global _classes
    if _classes is None:
        with _lock:
            if _classes is None:
                _classes = _load()
    return dict(_classes)


def type_names():
    """The registered resource type names, sorted."""
    return sorted(classes())


def get_class(type_name, environment=None):
    """The plugin class for a resource type name; ResourceTypeNotFound when there is none.

    ``environment`` is accepted for callers that pass one; the resource_registry mapping
    has already been applied by the template package, so it is not consulted here.
    """
    cls = classes().get(type_name)
    if cls is None:
        raise ResourceTypeNotFound(type_name)
    return cls


def get_template_resource_class(type_name, template_file, template, files=None):
    """A plugin class for a template resource: ``type_name`` mapped to ``template_file``.

    ``template`` is the file's content (text or an already parsed dict); its parameters
    become the properties and its outputs the attributes.
    """
    from heat_taskflow.resources.types import template_resource
    return template_resource.make_class(type_name, template_file, template, files)


def reset():
    """Forget the cached plugins (tests, or after installing a plugin package)."""
    global _classes
    with _lock:
        _classes = None
