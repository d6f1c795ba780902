"""Intrinsic functions that build strings, lists and maps from their arguments.

Unknown values: a None argument where the whole input is needed makes the
result None (validation walks templates before resources exist).  Where Heat
defines a meaning for None (an item of list_join, a param of str_replace, a
map in map_merge, a list in list_concat or repeat) that meaning is kept.
"""

import collections.abc
import hashlib
import itertools
import json
import urllib.parse

from heat_taskflow.template.functions_base import (
    ITEM_OVERHEAD,
    Function,
    human_size,
    is_list,
    resolve,
    resolve_each,
    size_of,
)


def _json(value):
    """JSON text Heat substitutes for a map or list (sorted keys, so results are stable)."""
    return json.dumps(value, sort_keys=True)


def _key(item):
    """A hashable stand-in for an item when comparing items of lists (maps by content)."""
    try:
        hash(item)
    except TypeError:
        return ('json', json.dumps(item, sort_keys=True, default=repr))
    return ('value', item)


def _charge_sizes(fn, ctx, values):
    """Charge the total size_of ``values``, measured no further than the budget left."""
    cap = ctx.budget.remaining
    total = 0
    for value in values:
        total += size_of(value, cap - total)
        if total > cap:
            break
    fn.charge(ctx, total, measured=total <= cap)


def _require_list(fn, value, what, subpath=()):
    if not is_list(value):
        raise fn.error('%s must be a list' % what, subpath)


def _require_map(fn, value, what, subpath=()):
    if not isinstance(value, collections.abc.Mapping):
        raise fn.error('%s must be a map' % what, subpath)


# -- list_join ---------------------------------------------------------------

class ListJoin(Function):
    """list_join: [delimiter, [str, ...]] joined with the delimiter (before 2015-10-15)."""

    usage = '[delimiter, [string, ...]]'

    def validate(self):
        """Two arguments: a delimiter and one list."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form %s' % self.usage)
        self._check_static(self.args)

    def _check_static(self, args):
        if not isinstance(args[0], (str, Function)):
            raise self.error('delimiter must be a string', (0,))
        for i, lst in enumerate(args[1:], 1):
            if not isinstance(lst, (list, Function)) and lst is not None:
                raise self.error('must operate on a list', (i,))

    def _item(self, item):
        if item is None:
            return ''
        if not isinstance(item, str):
            raise self.error('items to join must be strings, not %r' % (item,))
        return item

    def result(self, ctx):
        """The joined string; None when the delimiter is unknown."""
        delim, *lists = resolve_each(self.args, ctx)
        if delim is None:
            return None
        if not isinstance(delim, str):
            raise self.error('delimiter must be a string')
        items = []
        for lst in lists:
            if lst is None:       # Heat joins a missing list as an empty one
                continue
            if not is_list(lst):
                raise self.error('must operate on a list, not %r' % (lst,))
            items.extend(lst)
        texts = [self._item(i) for i in items]
        self.charge(ctx, sum(len(t) for t in texts) + max(len(texts) - 1, 0) * len(delim))
        return delim.join(texts)


class ListJoinMultiple(ListJoin):
    """list_join from 2015-10-15: several lists; map and list items are joined as JSON."""

    usage = '[delimiter, [string, ...], ...]'

    def validate(self):
        """A delimiter and at least one list."""
        if not is_list(self.args) or len(self.args) < 2:
            raise self.error('arguments must be of the form %s' % self.usage)
        self._check_static(self.args)

    def _item(self, item):
        if isinstance(item, (collections.abc.Mapping, list, tuple)):
            return _json(item)
        return super()._item(item)


# -- str_replace family --------------------------------------------------------

class StrReplace(Function):
    """str_replace: {template, params}; params values must be strings or numbers."""

    strict = False          # every param must occur in the template
    allow_empty = True      # params may be None or empty
    json_values = False     # maps/lists are substituted as JSON

    def _template_and_params(self):
        return self.args['template'], self.args['params']

    def validate(self):
        """A map with template and params (params a map)."""
        if not isinstance(self.args, collections.abc.Mapping):
            raise self.error('arguments must be a map with "template" and "params"')
        missing = [k for k in ('template', 'params') if k not in self.args]
        if missing:
            raise self.error('missing "%s"; the form is {template: "...", params: {...}}'
                             % '", "'.join(missing))
        self._check_static()

    def _check_static(self):
        template, params = self._template_and_params()
        where = self._subpaths()
        if not isinstance(template, (str, Function)) and template is not None:
            raise self.error('template must be a string', where[0])
        if not isinstance(params, (collections.abc.Mapping, Function)):
            raise self.error('params must be a map', where[1])

    def _subpaths(self):
        return ('template',), ('params',)

    def _value(self, key, value):
        empty = self.error('param "%s" has an undefined or empty value' % key)
        if value is None:
            if not self.allow_empty:
                raise empty
            return ''
        if isinstance(value, (str, int, float, bool)):
            text = str(value)
        elif self.json_values and isinstance(value, (collections.abc.Mapping, list, tuple)):
            if not self.allow_empty and not value:
                raise empty
            text = _json(value)
        else:
            kinds = 'strings, numbers, lists or maps' if self.json_values else 'strings or numbers'
            raise self.error('param "%s" must be one of %s, not %r' % (key, kinds, value))
        if not self.allow_empty and not text:
            raise empty
        return text

    def result(self, ctx):
        """The template with every param replaced; longer keys win over shorter ones."""
        template, params = resolve_each(self._template_and_params(), ctx)
        if template is None or params is None:
            return None
        if not isinstance(template, str):
            raise self.error('template must be a string, not %r' % (template,))
        if not isinstance(params, collections.abc.Mapping):
            raise self.error('params must be a map, not %r' % (params,))
        for key in params:
            if not isinstance(key, str):
                raise self.error('param placeholders must be strings, not %r' % (key,))
        # Longest key first, ties alphabetically, as Heat does; a replaced value
        # is never searched again for other keys.
        keys = sorted(params, key=lambda k: (-len(k), k))
        values = {k: self._value(k, params[k]) for k in keys}
        # No key matches more often in a part of the template than in the whole of it
        # (greedy counting finds the most non-overlapping matches), so this bounds the
        # result before it is built.
        self.charge(ctx, len(template) + sum(template.count(k) * len(values[k])
                                             for k in keys if k))
        found = set()

        def substitute(text, remaining):
            if not remaining:
                return text
            key, rest = remaining[0], remaining[1:]
            parts = text.split(key) if key else [text]
            if len(parts) > 1:
                found.add(key)
            return values[key].join(substitute(p, rest) for p in parts)

        out = substitute(template, keys)
        if self.strict:
            unused = [k for k in keys if k not in found]
            if unused:
                raise self.error('params not found in the template: %s' % ', '.join(unused))
        return out


class StrReplaceJson(StrReplace):
    """str_replace from 2015-10-15: map and list params are substituted as JSON."""

    json_values = True


class StrReplaceStrict(StrReplaceJson):
    """str_replace_strict: like str_replace, but every param must occur in the template."""

    strict = True


class StrReplaceVeryStrict(StrReplaceStrict):
    """str_replace_vstrict: like str_replace_strict, and no param may be None or empty."""

    allow_empty = False


# -- digest, str_split -----------------------------------------------------------

DIGEST_ALGORITHMS = ('md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512')


class Digest(Function):
    """digest: [algorithm, value] gives the hex digest of the value."""

    def validate(self):
        """Two arguments; a literal algorithm must be one we support."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [algorithm, value]')
        algorithm = self.args[0]
        if isinstance(algorithm, str):
            self._check_algorithm(algorithm)
        elif not isinstance(algorithm, Function):
            raise self.error('algorithm must be a string', (0,))
        if not isinstance(self.args[1], (str, Function)):
            raise self.error('value must be a string', (1,))

    def _check_algorithm(self, algorithm):
        if algorithm.lower() not in DIGEST_ALGORITHMS:
            raise self.error('algorithm must be one of %s, not "%s"'
                             % (', '.join(DIGEST_ALGORITHMS), algorithm), (0,))

    def result(self, ctx):
        """The hex digest; None while the value is unknown."""
        algorithm, value = resolve_each(self.args, ctx)
        if algorithm is None or value is None:
            return None
        if not isinstance(algorithm, str) or not isinstance(value, str):
            raise self.error('arguments must be strings, not %r' % ([algorithm, value],))
        self._check_algorithm(algorithm)
        return hashlib.new(algorithm.lower(), value.encode('utf-8')).hexdigest()


class StrSplit(Function):
    """str_split: [delimiter, string] gives a list; [delimiter, string, index] one item."""

    usage = '[delimiter, string, (index)]'

    def validate(self):
        """Two or three arguments."""
        if not is_list(self.args) or len(self.args) not in (2, 3):
            raise self.error('arguments must be of the form %s' % self.usage)
        if not isinstance(self.args[0], (str, Function)):
            raise self.error('delimiter must be a string', (0,))

    def result(self, ctx):
        """The pieces, or the piece at the index."""
        args = resolve_each(self.args, ctx)
        delim, text = args[0], args[1]
        if delim is None or text is None:
            return None
        if not isinstance(delim, str) or not delim:
            raise self.error('delimiter must be a non-empty string')
        if not isinstance(text, str):
            raise self.error('the value to split must be a string, not %r' % (text,))
        self.charge(ctx, len(text) + (text.count(delim) + 1) * ITEM_OVERHEAD)
        pieces = text.split(delim)
        if len(args) == 2:
            return pieces
        index = args[2]
        if index is None:
            return None
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise self.error('index must be an integer, not %r' % (index,), (2,))
        if not 0 <= index < len(pieces):
            raise self.error('index %d is out of range; it must be between 0 and %d'
                             % (index, len(pieces) - 1), (2,))
        return pieces[index]


# -- repeat ----------------------------------------------------------------------

class Repeat(Function):
    """repeat: {template, for_each: {placeholder: list}}; every combination of the lists."""

    # Several long lists multiply; bound the copies one template can ask for.
    MAX_ITEMS = 10000
    allow_maps = False       # for_each values may be maps (their keys are used)
    has_permutations = False  # the `permutations` key exists

    def validate(self):
        """A map with for_each (a map of lists) and template."""
        if not isinstance(self.args, collections.abc.Mapping):
            raise self.error('arguments must be a map with "template" and "for_each"')
        for key in ('for_each', 'template'):
            if key not in self.args:
                raise self.error('missing "%s"; the form is {template: ..., for_each: '
                                 '{"%%var%%": [...]}}' % key)
        permutations = self.args.get('permutations', True)
        if 'permutations' in self.args and not self.has_permutations:
            raise self.error('"permutations" is not supported in heat_template_version %s'
                             % self.version.name, ('permutations',))
        if not isinstance(permutations, bool):
            raise self.error('"permutations" must be a boolean', ('permutations',))
        for_each = self.args['for_each']
        if isinstance(for_each, Function):
            return
        if not isinstance(for_each, collections.abc.Mapping) or not for_each:
            raise self.error('"for_each" must be a map of placeholders to lists',
                             ('for_each',))
        for key, values in for_each.items():
            if not isinstance(values, Function) and values is not None:
                self._check_values(values, permutations, ('for_each', key))

    def _check_values(self, values, permutations, subpath):
        maps_ok = self.allow_maps and permutations
        if is_list(values):
            return
        if maps_ok and isinstance(values, collections.abc.Mapping):
            return
        raise self.error('the values of "for_each" must be lists%s'
                         % (' or maps' if maps_ok else ''), subpath)

    def _substitute(self, ctx, template, pairs):
        if isinstance(template, str):
            for key, value in pairs:
                if key and len(value) > len(key):
                    # what this replace would grow the string to, before it does
                    self.check_size(ctx, len(template)
                                    + template.count(key) * (len(value) - len(key)))
                template = template.replace(key, value)
            return template
        if isinstance(template, collections.abc.Mapping):
            return {self._substitute(ctx, k, pairs): self._substitute(ctx, v, pairs)
                    for k, v in template.items()}
        if is_list(template):
            return [self._substitute(ctx, v, pairs) for v in template]
        return template

    def result(self, ctx):
        """A list with one copy of the template per combination of values."""
        for_each = resolve(self.args['for_each'], ctx)
        permutations = self.args.get('permutations', True)
        if for_each is None:
            return None
        if not isinstance(for_each, collections.abc.Mapping) or not for_each:
            raise self.error('"for_each" must be a map of placeholders to lists')
        keys, lists = [], []
        for key, values in for_each.items():
            if not isinstance(key, str):
                raise self.error('placeholders must be strings, not %r' % (key,))
            if values is None:          # as in Heat: an unknown list repeats nothing
                values = []
            self._check_values(values, permutations, ('for_each', key))
            items = []
            for item in values:
                if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                    raise self.error('for_each values must be strings or numbers, not %r'
                                     % (item,), ('for_each', key))
                items.append(str(item))
            keys.append(key)
            lists.append(items)
        if not permutations and len({len(v) for v in lists}) > 1:
            raise self.error('with "permutations: false" every for_each list must have '
                             'the same length')
        count = 1
        for items in lists:
            count = count * len(items) if permutations else len(items)
        if count > self.MAX_ITEMS:
            raise self.error('would make %d copies of the template; the limit is %d'
                             % (count, self.MAX_ITEMS))
        template = resolve(self.args['template'], ctx)
        combos = itertools.product(*lists) if permutations else zip(*lists, strict=True)
        out = []
        for combo in combos:
            copy = self._substitute(ctx, template, list(zip(keys, combo, strict=True)))
            size = size_of(copy, ctx.budget.remaining)
            if size > ctx.budget.remaining:
                raise self.error('would build at least %s (%d copies of %s or more); the '
                                 'limit of one resolution is %s ([DEFAULT] max_resolved_size)'
                                 % (human_size(ctx.budget.used + size * (count - len(out))),
                                    count, human_size(size), human_size(ctx.budget.limit)))
            self.charge(ctx, size)
            out.append(copy)
        return out


class RepeatWithMap(Repeat):
    """repeat from 2016-10-14: a for_each value may be a map, whose keys are used."""

    allow_maps = True


class RepeatNested(RepeatWithMap):
    """repeat from 2017-09-01: `permutations: false` pairs the lists item by item."""

    has_permutations = True


# -- maps --------------------------------------------------------------------------

class MapMerge(Function):
    """map_merge: [map, map, ...] merged left to right (later keys win)."""

    def validate(self):
        """A list of maps."""
        if isinstance(self.args, Function):
            return
        _require_list(self, self.args, 'argument')
        for i, m in enumerate(self.args):
            if not isinstance(m, (collections.abc.Mapping, Function)) and m is not None:
                raise self.error('items to merge must be maps', (i,))

    def result(self, ctx):
        """The merged map; a None item counts as an empty map, as in Heat."""
        maps = resolve(self.args, ctx)
        if maps is None:
            return None
        _require_list(self, maps, 'argument')
        for m in maps:
            if m is not None and not isinstance(m, collections.abc.Mapping):
                raise self.error('items to merge must be maps, not %r' % (m,))
        _charge_sizes(self, ctx, [m for m in maps if m is not None])
        merged = {}
        for m in maps:
            if m is not None:
                merged.update(m)
        return merged


class MapReplace(Function):
    """map_replace: [map, {keys: {old: new}, values: {old: new}}] renames keys and values."""

    usage = '[{key: value, ...}, {keys: {old: new}, values: {old: new}}]'

    def validate(self):
        """Two arguments; the second has only keys and values."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form %s' % self.usage)
        for i, m in enumerate(self.args):
            if not isinstance(m, (collections.abc.Mapping, Function)) and m is not None:
                raise self.error('arguments must be maps; the form is %s' % self.usage, (i,))
        replacements = self.args[1]
        if isinstance(replacements, collections.abc.Mapping):
            self._check_replacements(replacements)

    def _check_replacements(self, replacements):
        extra = sorted(set(replacements) - {'keys', 'values'})
        if extra:
            raise self.error('unknown key "%s"; only "keys" and "values" are allowed'
                             % extra[0], (1, extra[0]))
        for part in ('keys', 'values'):
            value = replacements.get(part)
            if (value is not None and not isinstance(value, (collections.abc.Mapping,
                                                             Function))):
                raise self.error('"%s" must be a map' % part, (1, part))

    def result(self, ctx):
        """The input map with its keys and values replaced; key collisions are errors."""
        source, replacements = resolve_each(self.args, ctx)
        if source is None:
            return None
        if replacements is None:
            replacements = {}
        _require_map(self, source, 'the first argument')
        _require_map(self, replacements, 'the second argument')
        self._check_replacements(replacements)
        new_keys = replacements.get('keys') or {}
        new_values = replacements.get('values') or {}
        for key, target in new_keys.items():
            if not isinstance(target, (str, int, float, bool)) and target is not None:
                raise self.error('a key replacement must be a string or a number, not %r'
                                 % (target,), (1, 'keys', key))
        _charge_sizes(self, ctx, [source, new_values])
        out = {}
        for key, value in source.items():
            target = new_keys.get(key)
            if target is None:
                target = key
            elif target in source and target != key:
                raise self.error('key replacement "%s" collides with a key in the input map'
                                 % target)
            elif target in out:
                raise self.error('key replacement "%s" collides with a key in the output map'
                                 % target)
            try:
                out[target] = new_values.get(value, value)
            except TypeError:       # unhashable values (maps, lists) are kept as they are
                out[target] = value
        return out


# -- lists ---------------------------------------------------------------------------

class Filter(Function):
    """filter: [values, list] gives the list without the values."""

    def validate(self):
        """Two arguments, each a list when given literally."""
        if not is_list(self.args) or len(self.args) != 2:
            raise self.error('arguments must be of the form [values_to_remove, list]')
        for i, v in enumerate(self.args):
            if not isinstance(v, (list, Function)) and v is not None:
                raise self.error('argument must be a list', (i,))

    def result(self, ctx):
        """The filtered list (an empty or missing list is returned as it is)."""
        values, sequence = resolve_each(self.args, ctx)
        if not sequence:
            return sequence
        _require_list(self, sequence, 'the list to filter', (1,))
        if not values:
            return list(sequence)
        _require_list(self, values, 'the values to remove', (0,))
        removed = {_key(v) for v in values}
        return [item for item in sequence if _key(item) not in removed]


class ListConcat(Function):
    """list_concat: [list, list, ...] concatenated."""

    unique = False

    def validate(self):
        """A list of lists."""
        if isinstance(self.args, Function):
            return
        _require_list(self, self.args, 'argument')
        for i, lst in enumerate(self.args):
            if not isinstance(lst, (list, Function)) and lst is not None:
                raise self.error('items to concatenate must be lists', (i,))

    def result(self, ctx):
        """The concatenation; a None list counts as empty, as in Heat."""
        lists = resolve(self.args, ctx)
        if lists is None:
            return None
        _require_list(self, lists, 'argument')
        for lst in lists:
            if lst is not None and not is_list(lst):
                raise self.error('items to concatenate must be lists, not %r' % (lst,))
        _charge_sizes(self, ctx, [lst for lst in lists if lst is not None])
        out = []
        for lst in lists:
            if lst is not None:
                out.extend(lst)
        if self.unique:
            # Keep the last occurrence of each item, as Heat does; items may be maps,
            # compared by content through _key (a set, so long lists stay linear).
            seen = set()
            kept = []
            for item in reversed(out):
                key = _key(item)
                if key not in seen:
                    seen.add(key)
                    kept.append(item)
            out = kept[::-1]
        return out


class ListConcatUnique(ListConcat):
    """list_concat_unique: list_concat with each item once."""

    unique = True


# -- make_url --------------------------------------------------------------------------

class MakeUrl(Function):
    """make_url: {scheme, username, password, host, port, path, query, fragment} to a URL."""

    keys = ('scheme', 'username', 'password', 'host', 'port', 'path', 'query', 'fragment')

    def validate(self):
        """A map with only the known keys, each of the right type when literal."""
        if not isinstance(self.args, collections.abc.Mapping):
            raise self.error('arguments must be a map with keys %s' % ', '.join(self.keys))
        extra = sorted(set(self.args) - set(self.keys))
        if extra:
            raise self.error('unknown key "%s"; allowed: %s'
                             % (extra[0], ', '.join(self.keys)), (extra[0],))
        self._check(self.args)

    def _check(self, args):
        for key, value in args.items():
            if isinstance(value, Function) or value is None:
                continue
            if key == 'query':
                if not isinstance(value, collections.abc.Mapping):
                    raise self.error('"query" must be a map', (key,))
            elif key == 'port':
                try:
                    port = int(value)
                except (TypeError, ValueError):
                    raise self.error('invalid port "%s"' % (value,), (key,))
                if isinstance(value, bool) or not 0 < port <= 65535:
                    raise self.error('invalid port %s; it must be in range 1-65535'
                                     % (value,), (key,))
            elif not isinstance(value, str):
                raise self.error('"%s" must be a string' % key, (key,))

    def result(self, ctx):
        """The escaped URL; None while a part is unknown."""
        args = resolve(self.args, ctx)
        if any(v is None for v in args.values()):
            return None
        self._check(args)
        scheme = args.get('scheme', '')
        if ':' in scheme:
            raise self.error('"scheme" must not contain ":"', ('scheme',))
        netloc = ''
        user = urllib.parse.quote(args.get('username', ''), safe='')
        password = urllib.parse.quote(args.get('password', ''), safe='')
        if user or password:
            netloc = user + (':' + password if password else '') + '@'
        host = args.get('host', '')
        if host.startswith('[') and host.endswith(']'):
            host = host[1:-1]
        host = urllib.parse.quote(host, safe=':')
        netloc += '[%s]' % host if ':' in host else host
        if args.get('port'):
            netloc += ':%s' % args['port']
        path = urllib.parse.quote(args.get('path', ''))
        query = urllib.parse.urlencode(args.get('query', {})).replace('%2F', '/')
        fragment = urllib.parse.quote(args.get('fragment', ''))
        self.charge(ctx, len(netloc) + len(path) + len(query) + len(fragment) + len(scheme))
        return urllib.parse.urlunsplit((scheme, netloc, path, query, fragment))
