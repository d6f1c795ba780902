"""Read a template and its environments from disk and build the files map the engine needs.

What python-heatclient's ``template_utils`` does, without fetching anything over the network.

**Files-map key scheme.** A file is keyed by the reference exactly as the referring document
writes it: ``get_file: scripts/boot.sh`` is ``files['scripts/boot.sh']``, ``type: nested.yaml``
is ``files['nested.yaml']``, and an environment's ``"My::Server": server.yaml`` is
``files['server.yaml']``. Templates are passed to the engine unmodified (so errors keep their
line numbers), and the key a template mentions is always the key in the map. A reference is
resolved against the directory of the document that makes it (a relative path, an absolute
path or a ``file://`` URL). Because the map is flat, one key must name one file everywhere:
when two documents use the same reference for different files, loading fails and says so.

Which references are followed (as heatclient does): every ``get_file`` whose argument is a
string; every ``type`` whose value ends in ``.yaml``, ``.yml`` or ``.template`` (anywhere in a
template, so ``resource_def`` of a group counts), and a resource's own ``type`` when it names
a template file the way the engine decides it (such a suffix, or a ``/``); and every value in
an environment's ``resource_registry`` that names a template file by that same rule
(``hooks`` and ``restricted_actions`` excepted). Referenced templates, and ``get_file``
targets that are templates, are read for their own references. Nothing else is read.
"""

import os
import urllib.parse
import urllib.request

import yaml

from heat_taskflow.template import parser

TEMPLATE_SUFFIXES = ('.yaml', '.yml', '.template')
REGISTRY_SKIP_KEYS = frozenset(('hooks', 'restricted_actions', 'base_url'))
TEMPLATE_VERSION_KEYS = ('heat_template_version', 'HeatTemplateFormatVersion',
                         'AWSTemplateFormatVersion')


class FileError(Exception):
    """A template, environment or referenced file cannot be read (a usage error)."""

    exit_code = 2


def local_path(ref, base_dir=None, expand_user=False):
    """The absolute local path a reference (path or file:// URL) names, relative to base_dir.

    Only paths the user typed expand ``~``; a template's references are taken literally.
    """
    parsed = urllib.parse.urlparse(ref)
    if parsed.scheme == 'file':
        path = urllib.request.url2pathname(parsed.path)
        if parsed.netloc not in ('', 'localhost'):
            raise ValueError('file:// URL with a host is not a local file')
    elif _is_url_elsewhere(ref):
        raise ValueError('only local files and file:// URLs are supported, not %s://'
                         % parsed.scheme)
    else:
        path = ref
    if expand_user:
        path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    return os.path.normpath(path)


def _read_text(path, what, referrer):
    """Content of a regular file as text, or a FileError naming the file and who wanted it."""
    by = ' (referenced by %s)' % referrer if referrer else ''
    if not os.path.exists(path):
        raise FileError('%s %s not found%s' % (what, path, by))
    if not os.path.isfile(path):
        raise FileError('%s %s is not a regular file%s' % (what, path, by))
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as exc:
        raise FileError('cannot read %s %s%s: %s' % (what, path, by, exc.strerror or exc))
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise FileError('%s %s is not UTF-8 text%s' % (what, path, by))


def _parse(text):
    """The YAML/JSON document in text, or None when it does not parse (the engine reports it)."""
    try:
        return parser.load_data(text)
    except yaml.YAMLError:
        return None


def _is_template(doc):
    return isinstance(doc, dict) and any(k in doc for k in TEMPLATE_VERSION_KEYS)


def _is_url_elsewhere(ref):
    """True for references such as http://... that name something not on this machine."""
    scheme = urllib.parse.urlparse(ref).scheme
    return len(scheme) > 1 and scheme != 'file'


def is_template_file(type_name):
    """Whether a resource type names a template file (the engine's rule, template/environment)."""
    return type_name.endswith(TEMPLATE_SUFFIXES) or '/' in type_name


def _template_refs(node, resource=False):
    """Yield (kind, reference) for every get_file and template-file type inside node.

    ``resource`` is true for a resource definition, whose ``type`` may name a template file
    without a suffix (``nested/server``); elsewhere only a suffix marks one.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'get_file' and isinstance(value, str):
                yield 'get_file', value
            elif key == 'type' and isinstance(value, str) and (
                    value.endswith(TEMPLATE_SUFFIXES)
                    or (resource and is_template_file(value))):
                yield 'type', value
            else:
                yield from _template_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _template_refs(item)


def _resource_refs(doc):
    """Yield (kind, reference) for a whole template, resources first."""
    resources = doc.get('resources')
    if isinstance(resources, dict):
        for definition in resources.values():
            yield from _template_refs(definition, resource=True)
    yield from _template_refs({k: v for k, v in doc.items() if k != 'resources'})


def _registry_refs(node):
    """Yield every template file named in a resource_registry (not type names or hooks)."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in REGISTRY_SKIP_KEYS:
            continue
        if isinstance(value, dict):
            yield from _registry_refs(value)
        elif isinstance(value, str) and is_template_file(value):
            yield value


class FilesCollector:
    """Builds one files map, following references from templates and environments."""

    def __init__(self):
        self.files = {}
        self._origin = {}   # key -> (absolute path, who referred to it first)

    def _add(self, ref, base_dir, referrer, what):
        """Read the file ref names into the map (once), then follow it if it is a template."""
        if _is_url_elsewhere(ref):
            raise FileError('%s refers to %s; only local files are supported' % (referrer, ref))
        try:
            path = local_path(ref, base_dir)
        except ValueError as exc:
            raise FileError('%s refers to %s: %s' % (referrer, ref, exc))
        known = self._origin.get(ref)
        if known is not None:
            if known[0] != path:
                raise FileError(
                    '%s refers to "%s" as %s, but %s refers to "%s" as %s; the files map is '
                    'keyed by the name templates use, so one name must mean one file'
                    % (referrer, ref, path, known[1], ref, known[0]))
            return
        self._origin[ref] = (path, referrer)
        text = _read_text(path, what, referrer)
        self.files[ref] = text
        doc = _parse(text)
        if (what == 'template' and isinstance(doc, dict)) or _is_template(doc):
            self._follow_template(doc, os.path.dirname(path), ref)

    def _follow_template(self, doc, base_dir, name):
        for kind, ref in _resource_refs(doc):
            what = 'file' if kind == 'get_file' else 'template'
            self._add(ref, base_dir, name, what)

    def add_template(self, text, path, name):
        """Collect every file the template text (read from path) refers to."""
        doc = _parse(text)
        if isinstance(doc, dict):
            self._follow_template(doc, os.path.dirname(path), name)

    def add_environment(self, text, path, name):
        """Collect every file the environment's resource_registry names."""
        doc = _parse(text)
        if isinstance(doc, dict):
            base_dir = os.path.dirname(path)
            for ref in _registry_refs(doc.get('resource_registry')):
                self._add(ref, base_dir, name, 'template')


def _read_document(ref, what):
    """(display name, absolute path, text) of a template or environment given by the user."""
    try:
        path = local_path(ref, expand_user=True)
    except ValueError as exc:
        raise FileError('%s %s: %s' % (what, ref, exc))
    name = ref if not ref.startswith('file:') else path
    return name, path, _read_text(path, what, None)


def read_parameter_file(key, ref):
    """Content of the file given for a parameter with --parameter-file KEY=FILE."""
    try:
        path = local_path(ref, expand_user=True)
    except ValueError as exc:
        raise FileError('parameter file %s for %s: %s' % (ref, key, exc))
    return _read_text(path, 'parameter file', '--parameter-file %s' % key)


def load(template=None, environments=()):
    """Read a template and environment files and everything they refer to.

    Returns ``(template_text, template_filename, files, [(env_filename, env_text), ...])``;
    the template parts are None when no template is given.
    """
    collector = FilesCollector()
    template_text = template_name = None
    if template is not None:
        template_name, path, template_text = _read_document(template, 'template')
        collector.add_template(template_text, path, template_name)
    envs = []
    for env in environments or ():
        env_name, path, env_text = _read_document(env, 'environment')
        collector.add_environment(env_text, path, env_name)
        envs.append((env_name, env_text))
    return template_text, template_name, collector.files, envs
