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

**Which files may be read.** Like heatclient, a reference may name any local path (absolute,
``../``, ``file://``), and what it names is stored in the stack. Unlike heatclient, a
reference that resolves (symbolic links followed) outside the directory trees of the template
and the environment files the user gave is refused unless ``allow_outside`` is true (the
command line's ``--allow-outside-files``).

**Budgets.** Every read is bounded before it happens, from the size on disk: a template,
environment or child template by ``max_template_size``, everything the files map holds by
``max_files_size``. Documents are scanned with the engine's own parser and ``Limits``
(depth, nodes and text after alias expansion), walked without recursion. A document the
parser refuses is not followed; it is handed on as it is and the engine refuses it with its
file and line (a ``get_file`` target the parser refuses is plain file content).
"""

import os
import stat
import urllib.parse
import urllib.request

from heat_taskflow.template import limits as limits_mod
from heat_taskflow.template import parser
from heat_taskflow.template.errors import TemplateError

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


def _read_text(path, what, referrer, max_size, limit_name):
    """Content of a regular file as text, or a FileError naming the file and who wanted it.

    The size is checked on the open file before reading, and no more than ``max_size`` + 1
    bytes are read (some files, such as those in /proc, report a size of 0).
    """
    by = ' (referenced by %s)' % referrer if referrer else ''
    if not os.path.exists(path):
        raise FileError('%s %s not found%s' % (what, path, by))
    if not os.path.isfile(path):
        raise FileError('%s %s is not a regular file%s' % (what, path, by))
    try:
        with open(path, 'rb') as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileError('%s %s is not a regular file%s' % (what, path, by))
            if info.st_size > max_size:
                raise _too_big(what, path, by, info.st_size, max_size, limit_name)
            data = f.read(max_size + 1)
    except OSError as exc:
        raise FileError('cannot read %s %s%s: %s' % (what, path, by, exc.strerror or exc))
    if len(data) > max_size:
        raise _too_big(what, path, by, None, max_size, limit_name)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise FileError('%s %s is not UTF-8 text%s' % (what, path, by))


def _too_big(what, path, by, size, max_size, limit_name):
    size = 'more than %d' % max_size if size is None else '%d' % size
    return FileError('%s %s%s is %s bytes, more than the limit of %d bytes ([DEFAULT] %s)'
                     % (what, path, by, size, max_size, limit_name))


def _parse(text, name, limits):
    """The YAML/JSON document in text, parsed under the engine's budgets; None when the
    parser refuses it (the engine reports that, with file and line)."""
    try:
        return parser.load(text, name, limits)[0]
    except TemplateError:
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
    without a suffix (``nested/server``); elsewhere only a suffix marks one. Walked with an
    explicit stack, in document order, so no nesting exhausts Python's recursion limit.
    """
    stack = [(node, resource)]
    while stack:
        node, resource = stack.pop()
        if isinstance(node, dict):
            later = []
            for key, value in node.items():
                if key == 'get_file' and isinstance(value, str):
                    yield 'get_file', value
                elif key == 'type' and isinstance(value, str) and (
                        value.endswith(TEMPLATE_SUFFIXES)
                        or (resource and is_template_file(value))):
                    yield 'type', value
                elif isinstance(value, (dict, list)):
                    later.append((value, False))
            stack.extend(reversed(later))
        elif isinstance(node, list):
            stack.extend((item, False) for item in reversed(node)
                         if isinstance(item, (dict, list)))


def _resource_refs(doc):
    """Yield (kind, reference) for a whole template, resources first."""
    resources = doc.get('resources')
    if isinstance(resources, dict):
        for definition in resources.values():
            yield from _template_refs(definition, resource=True)
    yield from _template_refs({k: v for k, v in doc.items() if k != 'resources'})


def _registry_refs(node):
    """Yield every template file named in a resource_registry (not type names or hooks)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        later = []
        for key, value in node.items():
            if key in REGISTRY_SKIP_KEYS:
                continue
            if isinstance(value, dict):
                later.append(value)
            elif isinstance(value, str) and is_template_file(value):
                yield value
        stack.extend(reversed(later))


def _inside(path, root):
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


class FilesCollector:
    """Builds one files map, following references from templates and environments.

    ``limits`` (template.limits.Limits) bounds every read and parse; with ``allow_outside``
    false, references must resolve inside the directory tree of a document the user gave
    (``add_root``).
    """

    def __init__(self, limits=None, allow_outside=False):
        self.files = {}
        self.limits = limits or limits_mod.DEFAULT
        self.allow_outside = allow_outside
        self.roots = []
        self.files_size = 0
        self._origin = {}   # key -> (absolute path, who referred to it first)

    def add_root(self, path):
        """Allow references into the directory tree holding path (a document the user gave)."""
        root = os.path.dirname(os.path.realpath(path))
        if root not in self.roots:
            self.roots.append(root)

    def _check_inside(self, ref, path, referrer):
        if self.allow_outside:
            return
        real = os.path.realpath(path)
        if any(_inside(real, root) for root in self.roots):
            return
        raise FileError(
            '%s refers to %s (%s), outside the directory tree of the template and '
            'environment files given (%s); its content would be stored in the stack. Pass '
            '--allow-outside-files to read it anyway' % (
                referrer, ref, real, ', '.join(self.roots) or 'none'))

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
        self._check_inside(ref, path, referrer)
        self._origin[ref] = (path, referrer)
        room = self.limits.max_files_size - self.files_size
        if what == 'template' and room >= self.limits.max_template_size:
            text = _read_text(path, what, referrer, self.limits.max_template_size,
                              'max_template_size')
        else:
            text = _read_text(path, what, referrer, room,
                              'max_files_size, for the whole files map')
        self.files_size += len(text.encode('utf-8', 'surrogatepass'))
        self.files[ref] = text
        doc = None
        if what == 'template' or (len(text) <= self.limits.max_template_size
                                  and _may_be_template(text)):
            doc = _parse(text, ref, self.limits)
        if (what == 'template' and isinstance(doc, dict)) or _is_template(doc):
            self._follow_template(doc, os.path.dirname(path), ref)

    def _follow_template(self, doc, base_dir, name):
        for kind, ref in _resource_refs(doc):
            what = 'file' if kind == 'get_file' else 'template'
            self._add(ref, base_dir, name, what)

    def add_template(self, text, path, name):
        """Collect every file the template text (read from path) refers to."""
        self.add_root(path)
        doc = _parse(text, name, self.limits)
        if isinstance(doc, dict):
            self._follow_template(doc, os.path.dirname(path), name)

    def add_environment(self, text, path, name):
        """Collect every file the environment's resource_registry names."""
        self.add_root(path)
        doc = _parse(text, name, self.limits)
        if isinstance(doc, dict):
            base_dir = os.path.dirname(path)
            for ref in _registry_refs(doc.get('resource_registry')):
                self._add(ref, base_dir, name, 'template')


def _may_be_template(text):
    """A cheap test before parsing a get_file target: only a template is followed."""
    return any(key in text for key in TEMPLATE_VERSION_KEYS)


def _read_document(ref, what, limits):
    """(display name, absolute path, text) of a template or environment given by the user."""
    try:
        path = local_path(ref, expand_user=True)
    except ValueError as exc:
        raise FileError('%s %s: %s' % (what, ref, exc))
    name = ref if not ref.startswith('file:') else path
    return name, path, _read_text(path, what, None, limits.max_template_size,
                                  'max_template_size')


def read_parameter_file(key, ref, limits=None):
    """Content of the file given for a parameter with --parameter-file KEY=FILE (at most
    ``max_files_size`` bytes)."""
    limits = limits or limits_mod.DEFAULT
    try:
        path = local_path(ref, expand_user=True)
    except ValueError as exc:
        raise FileError('parameter file %s for %s: %s' % (ref, key, exc))
    return _read_text(path, 'parameter file', '--parameter-file %s' % key,
                      limits.max_files_size, 'max_files_size')


def load(template=None, environments=(), limits=None, allow_outside=False):
    """Read a template and environment files and everything they refer to.

    Returns ``(template_text, template_filename, files, [(env_filename, env_text), ...])``;
    the template parts are None when no template is given. ``limits`` (the defaults when
    None) bounds every read and parse; ``allow_outside`` lets references leave the
    directory trees of the template and environments given.
    """
    limits = limits or limits_mod.DEFAULT
    collector = FilesCollector(limits, allow_outside)
    template_text = template_name = None
    documents = []
    if template is not None:
        documents.append(('template', _read_document(template, 'template', limits)))
    for env in environments or ():
        documents.append(('environment', _read_document(env, 'environment', limits)))
    for _what, (_name, path, _text) in documents:
        collector.add_root(path)
    envs = []
    for what, (name, path, text) in documents:
        if what == 'template':
            template_name, template_text = name, text
            collector.add_template(text, path, name)
        else:
            collector.add_environment(text, path, name)
            envs.append((name, text))
    return template_text, template_name, collector.files, envs
