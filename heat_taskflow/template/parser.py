"""Parse template and environment text (YAML or JSON) into data plus a map of lines.

Only safe YAML loading is used. The loader records the line of every mapping key and
list item so an error found later at a path such as ``('resources', 'web', 'type')``
can name its line. Limits on size, nesting depth and alias expansion keep a hostile
document from exhausting memory or the stack.
"""

import contextlib
import gc
import json
import math

import yaml

from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.limits import DEFAULT as DEFAULT_LIMITS

DEFAULT_MAX_SIZE = DEFAULT_LIMITS.max_template_size
DEFAULT_MAX_DEPTH = DEFAULT_LIMITS.max_template_depth
# An upper bound on nodes after expanding aliases: far above what a 512 KiB document can
# hold without aliases, far below what an alias bomb needs.
DEFAULT_MAX_NODES = DEFAULT_LIMITS.max_template_nodes


class SourceMap:
    """Maps path tuples inside a parsed document to 1-based line numbers."""

    def __init__(self, lines=None):
        self._lines = dict(lines or {})

    def add(self, path, line):
        """Record the line of ``path`` unless it is already known."""
        self._lines.setdefault(tuple(path), line)

    def line_of(self, path):
        """The line of ``path``, or of its closest ancestor that has one; None if none."""
        path = tuple(path)
        while True:
            line = self._lines.get(path)
            if line is not None:
                return line
            if not path:
                return None
            path = path[:-1]

    def __len__(self):
        return len(self._lines)


class _LimitedLoader(yaml.SafeLoader):
    """Pure-Python SafeLoader that bounds nesting depth while composing the node tree."""

    max_depth = DEFAULT_MAX_DEPTH

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        """Compose one node, refusing to nest deeper than ``max_depth``."""
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark
                raise _TooDeep(mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, line):
        super().__init__(line)
        self.line = line


def _construct_str(loader, node):
    # Heat keeps every scalar tagged as str, and every timestamp, as the text written:
    # heat_template_version: 2018-08-31 must stay the string '2018-08-31'.
    return loader.construct_scalar(node)


_LimitedLoader.add_constructor('tag:yaml.org,2002:timestamp', _construct_str)
_LimitedLoader.add_constructor('tag:yaml.org,2002:str', _construct_str)

# libyaml, when PyYAML was built with it, scans and composes several times faster. Its
# composer recurses in C without the Python recursion check, so depth is checked first
# on the event stream (libyaml's parser itself is not recursive).
if getattr(yaml, '__with_libyaml__', False):
    class _FastLoader(yaml.CSafeLoader):
        """SafeLoader on libyaml; depth is checked by _check_depth_events beforehand."""

    _FastLoader.add_constructor('tag:yaml.org,2002:timestamp', _construct_str)
    _FastLoader.add_constructor('tag:yaml.org,2002:str', _construct_str)
else:  # pragma: no cover - depends on how PyYAML was built
    _FastLoader = None

# Plain data in and out, without line numbers (a child stack's template as plugins and the
# engine hand it on): libyaml's safe loader and dumper when PyYAML has them, several times
# faster than the pure-Python ones (a group of 250 member stacks parses and dumps them often).
_DATA_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
_DATA_DUMPER = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)


def load_data(text):
    """yaml.safe_load(text), on libyaml when available."""
    return yaml.load(text, Loader=_DATA_LOADER)


def dump_data(data, **kwargs):
    """yaml.safe_dump(data, **kwargs), on libyaml when available."""
    return yaml.dump(data, Dumper=_DATA_DUMPER, **kwargs)


_START_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent) + _START_EVENTS


def _check_depth_events(text, max_depth):
    """Raise _TooDeep when a node lies inside more than ``max_depth - 1`` collections.

    Returns the number of aliases seen: without any, no expansion check is needed.
    """
    depth = 0
    aliases = 0
    for event in yaml.parse(text, Loader=_FastLoader):
        if isinstance(event, _NODE_EVENTS) and depth + 1 > max_depth:
            raise _TooDeep(event.start_mark.line + 1)
        if isinstance(event, _START_EVENTS):
            depth += 1
        elif isinstance(event, _END_EVENTS):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
    return aliases


def _check_expansion(root, limits):
    """Count nodes and scalar bytes as if every alias were expanded; refuse more than
    ``limits.max_template_nodes`` nodes or ``limits.max_template_expanded_size`` bytes.

    PyYAML shares one node object for an anchor and all its aliases, so the graph is a
    DAG; sizes and depths are memoised per node, making this linear in the text.
    """
    max_nodes = limits.max_template_nodes
    max_bytes = limits.max_template_expanded_size
    max_depth = limits.max_template_depth
    sizes = {}
    nbytes = {}
    depths = {}
    visiting = set()
    # Iterative post-order walk: the depth bound protects the stack elsewhere, but an
    # explicit stack keeps this independent of the recursion limit.
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not done:
            if key in visiting:
                # only an alias inside its own anchor can bring a node back here
                raise TemplateError('recursive YAML alias', line=node.start_mark.line + 1)
            visiting.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        visiting.discard(key)
        size = 1
        depth = 0
        text = _scalar_bytes(node)
        for child in children:
            size += sizes[id(child)]
            text += nbytes[id(child)]
            depth = max(depth, depths[id(child)])
        sizes[key] = size
        nbytes[key] = text
        depths[key] = depth + 1
        if size > max_nodes:
            raise TemplateError(
                'document expands to more than %d nodes (YAML aliases?); refusing it '
                '([DEFAULT] max_template_nodes)' % max_nodes, line=node.start_mark.line + 1)
        if text > max_bytes:
            raise TemplateError(
                'document expands to more than %d bytes of text (YAML aliases?); refusing '
                'it ([DEFAULT] max_template_expanded_size)' % max_bytes,
                line=node.start_mark.line + 1)
        if depth + 1 > max_depth:
            raise TemplateError('document nests deeper than %d levels (YAML aliases?)'
                                % max_depth, line=node.start_mark.line + 1)


def _scalar_bytes(node):
    if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
        return len(node.value.encode('utf-8', 'surrogatepass'))
    return 0


def _children(node):
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            out.append(k)
            out.append(v)
        return out
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _record_lines(loader, root, data, source_map):
    """Walk the node tree beside the constructed data, recording each path's line."""
    source_map.add((), root.start_mark.line + 1)
    seen = set()
    stack = [(root, data, ())]
    while stack:
        node, value, path = stack.pop()
        # An aliased node is walked once: deeper paths under later aliases fall back
        # to the line of the alias's parent key, which is where the reader looks.
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
            for key_node, value_node in node.value:
                key = _key_of(loader, key_node)
                if key is _NO_KEY or key not in value:
                    continue
                child = path + (key,)
                source_map.add(child, key_node.start_mark.line + 1)
                stack.append((value_node, value[key], child))
        elif isinstance(node, yaml.SequenceNode) and isinstance(value, list):
            for i, (item_node, item) in enumerate(zip(node.value, value, strict=False)):
                child = path + (i,)
                source_map.add(child, item_node.start_mark.line + 1)
                stack.append((item_node, item, child))


_NO_KEY = object()
_STR_TAG = 'tag:yaml.org,2002:str'


def _key_of(loader, key_node):
    if not isinstance(key_node, yaml.ScalarNode):
        return _NO_KEY
    if key_node.tag == _STR_TAG:
        return key_node.value
    try:
        key = loader.construct_object(key_node, deep=True)
    except yaml.YAMLError:
        return _NO_KEY
    try:
        hash(key)
    except TypeError:
        return _NO_KEY
    return key


def _yaml_error(exc, filename):
    mark = getattr(exc, 'problem_mark', None) or getattr(exc, 'context_mark', None)
    problem = getattr(exc, 'problem', None) or str(exc)
    context = getattr(exc, 'context', None)
    message = 'invalid YAML: %s' % (problem if not context else '%s %s' % (context, problem))
    return TemplateError(message, line=mark.line + 1 if mark is not None else None,
                         filename=filename)


def _load_yaml(text, filename, limits, want_lines=True):
    max_depth = limits.max_template_depth
    source_map = SourceMap()
    if _FastLoader is not None:
        loader = _FastLoader(text)
    else:
        loader = type('_Loader', (_LimitedLoader,), {'max_depth': max_depth})(text)
    try:
        aliases = None
        if _FastLoader is not None:
            aliases = _check_depth_events(text, max_depth)
        root = loader.get_single_node()
        if root is None:
            return None, source_map
        if aliases != 0:
            _check_expansion(root, limits)
        data = loader.construct_document(root)
        if want_lines:
            _record_lines(loader, root, data, source_map)
        check_storable(data, source_map)
        return data, source_map
    except _TooDeep as exc:
        raise TemplateError('document nests deeper than %d levels' % max_depth,
                            line=exc.line, filename=filename)
    except TemplateError as exc:
        raise exc.locate(filename)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, filename)
    except (ValueError, TypeError, RecursionError) as exc:
        # e.g. an integer literal too long to convert, or a merge key of the wrong kind
        raise TemplateError('invalid YAML: %s' % exc, filename=filename)
    finally:
        loader.dispose()


def _json_depth(text, max_depth):
    """Nesting depth of JSON text, stopping early once it passes ``max_depth``."""
    depth = 0
    line = 1
    in_string = False
    escaped = False
    for ch in text:
        if ch == '\n':
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == '\\':
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in '[{':
            depth += 1
            if depth > max_depth:
                return depth, line
        elif ch in ']}':
            depth -= 1
    return depth, None


def _load_json(text, filename, limits):
    max_depth = limits.max_template_depth
    _depth, too_deep_line = _json_depth(text, max_depth)
    if too_deep_line is not None:
        raise TemplateError('document nests deeper than %d levels' % max_depth,
                            line=too_deep_line, filename=filename)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError('invalid JSON: %s' % exc.msg, line=exc.lineno, filename=filename)
    except (ValueError, RecursionError) as exc:
        raise TemplateError('invalid JSON: %s' % exc, filename=filename)
    # JSON is (nearly always) valid YAML; composing it again is the cheapest way to learn
    # the line of every key. If the YAML reading differs or fails, lines are just unknown.
    try:
        _ignored, source_map = _load_yaml(text, filename, limits)
    except TemplateError:
        source_map = SourceMap({(): 1})
    try:
        check_storable(data, source_map)
    except TemplateError as exc:
        raise exc.locate(filename)
    return data, source_map


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a block that allocates many objects.

    Building a large document allocates hundreds of thousands of objects none of which
    is garbage yet; each automatic full collection would rescan all of them, making
    parsing quadratic in practice (5,000 resources: 1.1 s with, 0.45 s without).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def limits_of(limits=None, max_size=None, max_depth=None, max_nodes=None):
    """``limits`` (the defaults when None) with any of the older keyword budgets applied."""
    limits = DEFAULT_LIMITS if limits is None else limits
    changes = {}
    if max_size is not None:
        changes['max_template_size'] = max_size
    if max_depth is not None:
        changes['max_template_depth'] = max_depth
    if max_nodes is not None:
        changes['max_template_nodes'] = max_nodes
    return limits.replace(**changes) if changes else limits


def load(text, filename='template.yaml', limits=None, *, max_size=None, max_depth=None,
         max_nodes=None):
    """Parse YAML or JSON ``text`` into (data, SourceMap); raises TemplateError.

    Text starting with '{' is read as JSON, like Heat; anything else as YAML. An empty
    document gives None. ``limits`` (a template.limits.Limits, the defaults when None)
    bounds the size, depth, nodes and expanded text; ``max_size``, ``max_depth`` and
    ``max_nodes`` override single budgets. A value that cannot be stored as JSON (binary
    data, a set, NaN or an infinite number, keys that collide once they are strings) is
    refused with its line.
    """
    limits = limits_of(limits, max_size, max_depth, max_nodes)
    with gc_paused():
        return _load(text, filename, limits)


def _load(text, filename, limits):
    max_size = limits.max_template_size
    if isinstance(text, bytes):
        if len(text) > max_size:
            raise _too_big(len(text), max_size, filename)
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise TemplateError('not valid UTF-8 text: %s' % exc, filename=filename)
    if not isinstance(text, str):
        raise TemplateError('expected text, got %s' % type(text).__name__, filename=filename)
    size = len(text.encode('utf-8', 'surrogatepass'))
    if size > max_size:
        raise _too_big(size, max_size, filename)
    if text.lstrip().startswith('{'):
        return _load_json(text, filename, limits)
    return _load_yaml(text, filename, limits)


def load_mapping(text, filename, what='template', limits=None, **budgets):
    """Like load(), requiring a mapping at the top (an empty document gives {})."""
    data, source_map = load(text, filename, limits, **budgets)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TemplateError('the %s is not a YAML mapping or JSON object (found %s)'
                            % (what, _kind(data)), line=source_map.line_of(()) or 1,
                            filename=filename)
    return data, source_map


_SCALARS = (str, int, bool, type(None))


def _json_key(key):
    """The string json.dumps writes for a mapping key, or None when it refuses the key."""
    if isinstance(key, str):
        return key
    if key is True:
        return 'true'
    if key is False:
        return 'false'
    if key is None:
        return 'null'
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return repr(key) if math.isfinite(key) else None
    return None


def _unstorable(value):
    """Why a (non-container) value cannot be stored as JSON, or None when it can."""
    if isinstance(value, _SCALARS):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else 'the number %r is not finite' % value
    if isinstance(value, (bytes, bytearray)):
        return 'binary data (!!binary) cannot be stored; use a string'
    if isinstance(value, (set, frozenset)):
        return 'a set (!!set) cannot be stored; use a list or a map'
    if isinstance(value, tuple):
        return 'an ordered map (!!omap or !!pairs) cannot be stored; use a list or a map'
    return 'a value of type %s cannot be stored' % type(value).__name__


def check_storable(data, source_map=None):
    """Refuse what cannot be stored as JSON: binary data, sets, NaN and infinite numbers,
    and map keys that collide once written as JSON strings ({1: a, "1": b}).

    Raises a TemplateError with the value's path (and its line from ``source_map``).
    Containers shared through YAML aliases are checked once, so this is linear in the
    document's text, not in its expansion.
    """
    seen = set()
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, dict):
            keys = {}
            for key, item in value.items():
                written = _json_key(key)
                if written is None:
                    reason = _unstorable(key) or 'a map key of type %s cannot be stored' \
                        % type(key).__name__
                    _refuse('map key: %s' % reason, path, source_map)
                if written in keys:
                    _refuse('map keys %r and %r are the same once stored as JSON ("%s")'
                            % (keys[written], key, written), path + (key,), source_map)
                keys[written] = key
                stack.append((item, path + (key,)))
        elif isinstance(value, list):
            stack.extend((item, path + (i,)) for i, item in enumerate(value))
        else:
            reason = _unstorable(value)
            if reason is not None:
                _refuse(reason, path, source_map)


def _refuse(message, path, source_map):
    line = source_map.line_of(path) if source_map is not None else None
    raise TemplateError(message, path=path, line=line)


def _kind(value):
    if isinstance(value, list):
        return 'a list'
    if isinstance(value, str):
        return 'a string'
    return type(value).__name__


def _too_big(size, max_size, filename):
    return TemplateError('document is %d bytes, more than the limit of %d bytes'
                         % (size, max_size), filename=filename)
