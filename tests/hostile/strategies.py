"""Hypothesis strategies for hostile HOT templates: the grammar, its mutations, YAML tricks.

A drawn ``Case`` is everything a user submits for one stack: template text, files map,
environments and parameter values. Every case has a hidden parameter ``secret`` whose
value (``Case.secret``) is a recognisable random token passed as a parameter value, so
the oracle can search every output for it.

The grammar is deliberately loose: functions are drawn with arguments of the right shape
and of wrong shapes, references name resources, parameters and conditions that may not
exist, and mutations (deleting, duplicating, retyping and swapping keys, deep nesting,
YAML aliases and tags, big scalars) are applied to the rendered document. Sizes are
bounded so that one case is small to build; what it asks the engine to build is not.
"""

import copy
import dataclasses
import json

import yaml
from hypothesis import strategies as st

VERSIONS = ('2013-05-23', '2014-10-16', '2015-04-30', '2015-10-15', '2016-04-08',
            '2016-10-14', '2017-02-24', '2017-09-01', '2018-03-02', '2018-08-31',
            '2021-04-16', 'newton', 'pike', 'wallaby', '2099-01-01', 20180831)

PARAMS = ('p0', 'p1', 'p2', 'secret')
RESOURCES = ('r0', 'r1', 'r2')
SANE_VERSIONS = ('2017-09-01', '2018-08-31', '2021-04-16', 'wallaby', 'rocky')
SANE_TYPES = ('string', 'number', 'comma_delimited_list', 'json', 'boolean')
SANE_DEFAULTS = {'string': ('a', 'abc', '', 'x y'), 'number': (0, 1, 2.5, -3, '4'),
                 'comma_delimited_list': ('a,b', '', ['x', 'y']),
                 'json': ({'a': 1}, [1, 2], {}), 'boolean': (True, False, 'yes', 'off')}
SANE_VALUES = {'string': ('abc', 'aaa', 'x'), 'number': ('1', '0', '-2', '3.5'),
               'comma_delimited_list': ('a,b,c', 'a'), 'json': ('{"k": "v"}', '[1, 2]'),
               'boolean': ('true', 'false', '0')}
CONDITIONS = ('c0', 'c1')
SECRET_PREFIX = 'HIDDENVAL'

RESOURCE_TYPES = ('OS::Heat::None', 'OS::Heat::Value', 'OS::Heat::RandomString',
                  'OS::Heat::TestResource', 'OS::Heat::ResourceGroup', 'child.yaml',
                  'OS::Heat::Stack', 'OS::Heat::None', 'OS::Heat::TestResource',
                  'OS::Bogus::Type', 'missing.yaml', 'data.txt')
ATTRIBUTES = ('value', 'output', 'show', 'refs', 'resource.0', 'attributes', 'nope',
              'refs_map', 'outputs', 'outputs_list')
PARAM_TYPES = ('string', 'number', 'comma_delimited_list', 'json', 'boolean', 'String',
               'list', 7)
PATTERNS = ('[a-z]+', '.*', '[A-Z0-9]{3,8}', '(', '^[a-z]*$', '(a|aa)+$', '(a+)+b',
            '\\d+', '[\\x00-\\xff]*')
YAQL = ('$.data', '$.data.len()', '$.data.select($ * 2)', 'range(0, 10).sum()',
        'pow(2, 10)', '$.data.keys()', 'let(x => 1) -> $x', '$.nope.foo', 'invalid((',
        '1 / 0', "'ab' * 3", 'dict(a => 1)', 'str($.data)', '$.data.where($ > 1)',
        "regex('a+').matches('aaa')", 'max($.data)', '$.data.toList()[0]', '',
        'range(0, 100000).len()', 'pow(10, 100000000)', 'range(0, 1000000000).len()',
        "regex('^(a|aa)+$').matches('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab')",
        '$.data.join(",")', "'x'.repeat(1000)")
STRINGS = ('', 'a', 'abc', ' ', '%x%', '$a', '${b}', '1', '1.5', 'true', 'null', 'a,b,c',
           '{"a": 1}', '[1, 2]', 'nan', 'inf', '-inf', '1e400', '\u00e9', '\x00', '\t',
           '\U0001f600', '../etc/passwd', '/proc/self/environ', 'aaaaaaaaaaaaaaaaaaaaab')

# Placeholders the YAML-level mutations replace in the rendered text.
TAGGED = ('!!binary aGVsbG8=', '!!set {a, b}', '!!float .nan', '!!float .inf', '.nan',
          '-.inf', '1e400', '!!timestamp 2001-12-14', '2001-12-14', '!!int 0x1F',
          '!!python/object:os.system', '!!str 5', '!!omap [a: 1, b: 2]',
          '!!pairs [a: 1]', '!!null ""', '!!bool yes', '0o17', '!foo bar', '~',
          '!!merge <<', '&a [1]', '*undefined', '!!binary', '"\\ud800"')
DUP_KEYS = ('type', 'value', 'properties', 'resources', 'r0', 'get_param', 'p0')


@dataclasses.dataclass
class Case:
    """One submission: what a user can hand the engine for a stack."""

    template: str
    secret: str
    files: dict = dataclasses.field(default_factory=dict)
    environments: list = dataclasses.field(default_factory=list)   # [(filename, text)]
    parameters: dict = dataclasses.field(default_factory=dict)

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        data['environments'] = [tuple(e) for e in data.get('environments', [])]
        return cls(**data)

    def size(self):
        return (len(self.template) + sum(len(v) for v in self.files.values())
                + sum(len(t) for _, t in self.environments)
                + sum(len(str(v)) for v in self.parameters.values()))


# -- leaves and references ------------------------------------------------------------

scalars = st.one_of(
    st.sampled_from(STRINGS),
    st.text(alphabet='abcXYZ019 %$,.:-_{}[]"\'\n\\', max_size=12),
    st.integers(min_value=-3, max_value=10),
    st.sampled_from((0, -1, 2 ** 31, 2 ** 64, 10 ** 30, 1.5, -0.0, True, False, None)),
)
names = st.sampled_from(PARAMS + RESOURCES + CONDITIONS + ('', 'OS::stack_name',
                                                            'OS::stack_id', 'OS::project_id'))
references = st.one_of(
    st.builds(lambda p: {'get_param': p}, st.sampled_from(PARAMS + ('OS::stack_name', 'nope'))),
    st.builds(lambda p, i: {'get_param': [p, i]}, st.sampled_from(PARAMS),
              st.one_of(st.integers(-1, 3), st.sampled_from(('a', 'key')))),
    st.builds(lambda r: {'get_resource': r}, st.sampled_from(RESOURCES + ('nope',))),
    st.builds(lambda r, a: {'get_attr': [r, a]}, st.sampled_from(RESOURCES),
              st.sampled_from(ATTRIBUTES)),
    st.builds(lambda r: {'get_attr': [r]}, st.sampled_from(RESOURCES)),
    st.builds(lambda f: {'get_file': f}, st.sampled_from(('data.txt', 'child.yaml', 'nope',
                                                          '/etc/hostname'))),
    st.builds(lambda: {'get_param': 'secret'}),
)
leaves = st.one_of(scalars, references, references)


def _functions(inner):
    """Every intrinsic function, with arguments of the right shape and of wrong ones."""
    lists = st.lists(inner, max_size=4)
    maps = st.dictionaries(st.sampled_from(('a', 'b', '%x%', 'key', '1')), inner, max_size=3)
    right = st.one_of(
        st.builds(lambda t, p: {'str_replace': {'template': t, 'params': p}}, inner, maps),
        st.builds(lambda t, p: {'str_replace_strict': {'template': t, 'params': p}},
                  inner, maps),
        st.builds(lambda t, p: {'str_replace_vstrict': {'template': t, 'params': p}},
                  inner, maps),
        st.builds(lambda d, items: {'list_join': [d, items]}, inner, lists),
        st.builds(lambda d, a, b: {'list_join': [d, a, b]}, inner, lists, lists),
        st.builds(lambda v, t, p: {'repeat': {'for_each': {v: p}, 'template': t}},
                  st.sampled_from(('%x%', '<%y%>', 'a')), inner, lists),
        st.builds(lambda t, p, q: {'repeat': {'for_each': {'%a%': p, '%b%': q},
                                              'template': t, 'permutations': False}},
                  inner, lists, lists),
        st.builds(lambda a: {'map_merge': a}, st.lists(maps, max_size=3)),
        st.builds(lambda m, k, v: {'map_replace': [m, {'keys': k, 'values': v}]},
                  maps, maps, maps),
        st.builds(lambda e, d: {'yaql': {'expression': e, 'data': d}},
                  st.sampled_from(YAQL), inner),
        st.builds(lambda c, a, b: {'if': [c, a, b]}, inner, inner, inner),
        st.builds(lambda c, a: {'if': [c, a]}, inner, inner),
        st.builds(lambda a, b: {'equals': [a, b]}, inner, inner),
        st.builds(lambda a: {'not': a}, inner),
        st.builds(lambda a: {'and': a}, lists),
        st.builds(lambda a: {'or': a}, lists),
        st.builds(lambda d, s: {'str_split': [d, s]}, inner, inner),
        st.builds(lambda d, s, i: {'str_split': [d, s, i]}, inner, inner, inner),
        st.builds(lambda a, s: {'digest': [a, s]},
                  st.sampled_from(('sha256', 'md5', 'nope', 'sha512')), inner),
        st.builds(lambda a: {'list_concat': a}, st.lists(lists, max_size=3)),
        st.builds(lambda a: {'list_concat_unique': a}, st.lists(lists, max_size=3)),
        st.builds(lambda v, s: {'contains': [v, s]}, inner, lists),
        st.builds(lambda v, s: {'filter': [v, s]}, lists, lists),
        st.builds(lambda m: {'make_url': m}, st.fixed_dictionaries(
            {}, optional={'scheme': inner, 'host': inner, 'port': inner, 'path': inner,
                          'query': maps, 'fragment': inner})),
        st.builds(lambda i, s: {'Fn::Select': [i, s]}, inner, lists),
        st.builds(lambda d, s: {'Fn::Join': [d, s]}, inner, lists),
        st.builds(lambda s: {'Fn::Base64': s}, inner),
        st.builds(lambda s: {'resource_facade': s}, st.sampled_from(('metadata', 'x'))),
    )
    # A function name with an argument of any shape.
    wrong = st.builds(lambda name, arg: {name: arg}, st.sampled_from((
        'get_param', 'get_attr', 'get_resource', 'str_replace', 'list_join', 'repeat',
        'map_merge', 'map_replace', 'yaql', 'if', 'equals', 'str_split', 'digest',
        'list_concat', 'list_concat_unique', 'contains', 'filter', 'make_url', 'get_file',
        'not', 'and', 'or', 'Fn::Select', 'Ref', 'Fn::GetAtt', 'str_replace_vstrict')),
        st.one_of(inner, lists, maps))
    return st.one_of(right, right, wrong, lists, maps)


expressions = st.recursive(leaves, _functions, max_leaves=12)


def _data_functions(inner):
    """The value functions of 2018-08-31 with arguments of the right shape."""
    strings = st.one_of(st.sampled_from(('a', 'b c', '%x%', '')),
                        st.builds(lambda: {'get_param': 'secret'}),
                        st.builds(lambda p: {'get_param': p}, st.sampled_from(PARAMS)))
    lists = st.lists(inner, max_size=3)
    maps = st.dictionaries(st.sampled_from(('a', 'b', '%x%')), inner, max_size=3)
    return st.one_of(
        st.builds(lambda t, p: {'str_replace': {'template': t, 'params': p}}, strings, maps),
        st.builds(lambda d, items: {'list_join': [d, items]}, strings,
                  st.lists(strings, max_size=3)),
        st.builds(lambda t, p: {'repeat': {'for_each': {'%x%': p}, 'template': t}},
                  inner, st.lists(strings, max_size=3)),
        st.builds(lambda a: {'map_merge': a}, st.lists(maps, max_size=3)),
        st.builds(lambda m, k: {'map_replace': [m, {'keys': k}]}, maps,
                  st.dictionaries(st.sampled_from('ab'), st.sampled_from('cd'), max_size=2)),
        st.builds(lambda e, d: {'yaql': {'expression': e, 'data': d}},
                  st.sampled_from(YAQL[:16]), inner),
        st.builds(lambda c, a, b: {'if': [c, a, b]}, st.sampled_from(CONDITIONS + (True,)),
                  inner, inner),
        st.builds(lambda d, s: {'str_split': [d, s]}, strings, strings),
        st.builds(lambda s: {'digest': ['sha256', s]}, strings),
        st.builds(lambda a: {'list_concat': a}, st.lists(lists, max_size=3)),
        st.builds(lambda a: {'list_concat_unique': a}, st.lists(lists, max_size=3)),
        st.builds(lambda v, s: {'filter': [v, s]}, lists, lists),
        st.builds(lambda h, p: {'make_url': {'scheme': 'http', 'host': h, 'path': p}},
                  strings, strings),
        lists, maps)


def _condition_functions(inner):
    return st.one_of(
        st.builds(lambda a, b: {'equals': [a, b]}, inner, inner),
        st.builds(lambda a: {'not': a}, inner),
        st.builds(lambda a: {'and': a}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda a: {'or': a}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda v, s: {'contains': [v, s]}, inner, st.lists(inner, max_size=3)))


sane_values = st.recursive(
    st.one_of(st.sampled_from(('a', 'abc', '', 0, 1, True)),
              st.builds(lambda p: {'get_param': p}, st.sampled_from(PARAMS)),
              st.builds(lambda r: {'get_resource': r}, st.sampled_from(RESOURCES)),
              st.builds(lambda r, a: {'get_attr': [r, a]}, st.sampled_from(RESOURCES),
                        st.sampled_from(('value', 'output'))),
              st.builds(lambda: {'get_param': 'secret'}),
              st.builds(lambda: {'get_file': 'data.txt'})),
    _data_functions, max_leaves=8)
sane_conditions = st.recursive(
    st.one_of(st.booleans(),
              st.builds(lambda p, v: {'equals': [{'get_param': p}, v]},
                        st.sampled_from(PARAMS), st.sampled_from(('a', 1, 'abc')))),
    _condition_functions, max_leaves=6)


# -- the document -------------------------------------------------------------------

def _constraint():
    return st.one_of(
        st.builds(lambda a, b: {'length': {'min': a, 'max': b}},
                  st.integers(-1, 5), st.integers(0, 40)),
        st.builds(lambda a, b: {'range': {'min': a, 'max': b}},
                  st.one_of(st.integers(-5, 5), st.floats(allow_nan=True)), st.integers(0, 100)),
        st.builds(lambda v: {'allowed_values': v}, st.lists(scalars, max_size=4)),
        st.builds(lambda p: {'allowed_pattern': p}, st.sampled_from(PATTERNS)),
        st.builds(lambda p: {'allowed_pattern': p, 'description': 'must match %s' % p},
                  st.sampled_from(PATTERNS)),
        st.builds(lambda c: {'custom_constraint': c}, st.sampled_from(('nova.flavor', 'x'))),
        st.builds(lambda k, v: {k: v}, st.sampled_from(('length', 'range', 'modulo', 'x')),
                  scalars),
    )


@st.composite
def sane_parameter_defs(draw):
    ptype = draw(st.sampled_from(SANE_TYPES))
    defn = {'type': ptype}
    if draw(st.booleans()):
        defn['default'] = _fresh(draw(st.sampled_from(SANE_DEFAULTS[ptype])))
    if draw(st.integers(0, 3)) == 0:
        defn['hidden'] = True
    if draw(st.integers(0, 2)) == 0:
        choices = {'string': ({'length': {'min': 0, 'max': 20}}, {'allowed_pattern': '[a-z ]*'},
                              {'allowed_values': ['a', 'abc', 'x', 'aaa']}),
                   'number': ({'range': {'min': -5, 'max': 5}}, {'allowed_values': [0, 1, 2]}),
                   'comma_delimited_list': ({'length': {'max': 3}},),
                   'json': ({'length': {'max': 3}},),
                   'boolean': ()}[ptype]
        if choices:
            defn['constraints'] = [_fresh(draw(st.sampled_from(choices)))]
    return defn, draw(st.sampled_from(SANE_VALUES[ptype]))


@st.composite
def parameter_defs(draw, name):
    defn = {'type': draw(st.sampled_from(PARAM_TYPES))}
    if draw(st.booleans()):
        defn['default'] = draw(st.one_of(scalars, st.lists(scalars, max_size=3),
                                         st.dictionaries(st.sampled_from('ab'), scalars,
                                                         max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        defn['hidden'] = draw(st.sampled_from((True, False, 'yes', 1)))
    if draw(st.booleans()):
        defn['constraints'] = draw(st.lists(_constraint(), max_size=3))
    if draw(st.integers(0, 5)) == 0:
        defn['immutable'] = True
    if draw(st.integers(0, 5)) == 0:
        defn['label'] = draw(scalars)
    return defn


@st.composite
def secret_def(draw):
    """The hidden parameter: a string, sometimes constrained so that its value is refused."""
    defn = {'type': draw(st.sampled_from(('string', 'string', 'string', 'json', 'number',
                                          'comma_delimited_list', 'boolean'))),
            'hidden': True}
    if draw(st.booleans()):
        defn['constraints'] = draw(st.lists(_constraint(), min_size=1, max_size=2))
    return defn


def _properties(rtype, expr):
    """Properties for a built-in type: the right keys with values from ``expr``."""
    known = {
        'OS::Heat::Value': ('value', 'type'),
        'OS::Heat::RandomString': ('length', 'sequence', 'character_classes',
                                   'character_sequences', 'salt'),
        'OS::Heat::TestResource': ('value', 'fail', 'update_replace', 'attr_wait_secs',
                                   'client_name', 'entity_name', 'constraint_prop_secs'),
        'OS::Heat::ResourceGroup': ('count', 'resource_def', 'index_var', 'removal_policies'),
        'OS::Heat::Stack': ('template', 'parameters', 'timeout'),
        'child.yaml': ('value', 'secret_in', 'count'),
        'OS::Heat::None': ('anything', 'value'),
    }.get(rtype, ('value', 'x'))
    special = {
        'length': st.one_of(st.integers(-1, 64), st.sampled_from((0, 512, 10 ** 6, 10 ** 12,
                                                                  '8', 1.5))),
        'count': st.one_of(st.integers(-1, 4), st.sampled_from((0, 100, 10 ** 6, '2', 1.5))),
        'resource_def': st.fixed_dictionaries(
            {'type': st.sampled_from(RESOURCE_TYPES)},
            optional={'properties': st.dictionaries(st.sampled_from(('value', 'length')),
                                                    expr, max_size=2)}),
        'fail': st.one_of(st.just(False), st.booleans(), scalars),
        'character_classes': st.lists(st.fixed_dictionaries(
            {}, optional={'class': st.sampled_from(('lettersdigits', 'octdigits', 'x')),
                          'min': st.integers(-1, 100)}), max_size=2),
        'character_sequences': st.lists(st.fixed_dictionaries(
            {}, optional={'sequence': st.sampled_from(('', 'ab', '!')),
                          'min': st.integers(-1, 100)}), max_size=2),
    }
    keys = st.lists(st.sampled_from(known), unique=True, max_size=4)
    return keys.flatmap(lambda ks: st.fixed_dictionaries(
        {k: special.get(k, expr) for k in ks}))


@st.composite
def resource_defs(draw, conditions=True, sane=False):
    expressions_ = sane_values if sane else expressions
    rtype = draw(st.sampled_from(RESOURCE_TYPES[:7] if sane else RESOURCE_TYPES))
    defn = {'type': rtype}
    if draw(st.integers(0, 4)):
        defn['properties'] = draw(_properties(rtype, expressions_))
    if draw(st.integers(0, 4)) == 0:
        defn['depends_on'] = draw(st.one_of(st.sampled_from(RESOURCES + ('nope',)),
                                            st.lists(st.sampled_from(RESOURCES), max_size=2)))
    if conditions and draw(st.integers(0, 5)) == 0:
        defn['condition'] = draw(st.one_of(st.sampled_from(CONDITIONS), expressions)
                                 if not sane else st.sampled_from(CONDITIONS))
    if draw(st.integers(0, 6)) == 0:
        defn['metadata'] = draw(expressions if not sane else
                                st.dictionaries(st.sampled_from('ab'), sane_values, max_size=2))
    if draw(st.integers(0, 8)) == 0:
        defn['deletion_policy'] = draw(st.sampled_from(('Delete', 'Retain', 'Snapshot', 'x')))
    if conditions and draw(st.integers(0, 8)) == 0:
        defn['external_id'] = draw(scalars)
    return defn


CHILD = {
    'heat_template_version': '2018-08-31',
    'parameters': {'value': {'type': 'string', 'default': 'v'},
                   'secret_in': {'type': 'string', 'default': 'd', 'hidden': True},
                   'count': {'type': 'number', 'default': 1}},
    'resources': {'inner': {'type': 'OS::Heat::TestResource',
                            'properties': {'value': {'get_param': 'value'}}}},
    'outputs': {'out': {'value': {'get_attr': ['inner', 'output']}},
                'secret_out': {'value': {'get_param': 'secret_in'}}},
}


@st.composite
def documents(draw):
    """A template document (a dict), a files map and parameter values, before mutation."""
    sane = draw(st.integers(0, 9)) < 8
    version = draw(st.sampled_from(SANE_VERSIONS if sane else VERSIONS))
    modern = str(version) in SANE_VERSIONS
    doc = {'heat_template_version': version}
    if draw(st.integers(0, 4)) == 0:
        doc['description'] = draw(scalars)
    params = {'secret': {'type': 'string', 'hidden': True} if sane and draw(st.booleans())
              else draw(secret_def())}
    values = {}
    chosen = (PARAMS[:-1] if sane else
              draw(st.lists(st.sampled_from(PARAMS[:-1]), unique=True, max_size=3)))
    for name in chosen:
        if sane:
            params[name], value = draw(sane_parameter_defs())
            if 'default' not in params[name] or draw(st.booleans()):
                values[name] = value
        else:
            params[name] = draw(parameter_defs(name))
    doc['parameters'] = params
    resources = {}
    for name in (RESOURCES if sane else
                 draw(st.lists(st.sampled_from(RESOURCES), unique=True, max_size=3))):
        resources[name] = draw(resource_defs(modern or not sane, sane))
    doc['resources'] = resources
    if draw(st.booleans()):
        doc['outputs'] = {name: {'value': draw(sane_values if sane else expressions)}
                          for name in draw(st.lists(st.sampled_from(('o0', 'o1', 'o2')),
                                                    unique=True, max_size=3))}
    if (modern or not sane) and draw(st.integers(0, 3)) == 0:
        doc['conditions'] = {name: draw(sane_conditions if sane else expressions)
                             for name in draw(st.lists(st.sampled_from(CONDITIONS),
                                                       unique=True, max_size=2))}
    if sane and modern:
        for name in CONDITIONS:
            doc.setdefault('conditions', {}).setdefault(name, draw(sane_conditions))
    if not sane and draw(st.integers(0, 10)) == 0:
        doc['parameter_groups'] = draw(st.lists(st.fixed_dictionaries(
            {'parameters': st.lists(st.sampled_from(PARAMS), max_size=3)}), max_size=2))
    files = {}
    if draw(st.booleans()):
        files['data.txt'] = draw(st.text(max_size=40))
    if draw(st.booleans()):
        child = dict(CHILD)
        if draw(st.booleans()):
            child = _mutated_child(draw(sane_values if sane else expressions))
        files['child.yaml'] = yaml.safe_dump(child)
    for name in params:
        if sane or name == 'secret' or draw(st.integers(0, 2)) == 0:
            continue
        values[name] = draw(st.one_of(st.sampled_from(STRINGS), st.text(max_size=10)))
    return doc, files, values, sane


def _mutated_child(expr):
    child = json.loads(json.dumps(CHILD))
    child['resources']['inner']['properties']['value'] = expr
    return child


# -- mutations ------------------------------------------------------------------------

MAX_PATHS = 2000
MAX_PATH_DEPTH = 40


def _paths(node):
    """(path, value) of a document's nodes, breadth first: at most MAX_PATHS of them, none
    deeper than MAX_PATH_DEPTH (earlier mutations may have nested or shared a lot)."""
    found = []
    queue = [((), node)]
    while queue and len(found) < MAX_PATHS:
        path, value = queue.pop(0)
        found.append((path, value))
        if len(path) >= MAX_PATH_DEPTH:
            continue
        if isinstance(value, dict):
            queue.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            queue.extend((path + (i,), v) for i, v in enumerate(value))
    return found


def _fresh(value):
    """A deep copy of a drawn value: a strategy may hand out the same object on every draw
    (a module constant, a cached example), and a mutation that edits it in place would
    change later draws (Hypothesis: FlakyStrategyDefinition) or make it contain itself."""
    return copy.deepcopy(value)


def _cyclic(node):
    """Whether a container holds itself (a swap or an alias through a shared node can make
    one). Linear in the distinct containers, however much they are shared."""
    done, active = set(), set()
    stack = [(node, False)]
    while stack:
        value, leaving = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if leaving:
            active.discard(id(value))
            done.add(id(value))
            continue
        if id(value) in active:
            return True
        if id(value) in done:
            continue
        active.add(id(value))
        stack.append((value, True))
        stack.extend((v, False) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _container(doc, path):
    node = doc
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated(draw, doc):
    """The document with 0-3 structural mutations; placeholders for the text-level ones."""
    doc = json.loads(json.dumps(doc, default=str))
    tags = []
    for _ in range(draw(st.integers(0, 3))):
        paths = [p for p, _ in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _container(doc, path)
        key = path[-1]
        kind = draw(st.sampled_from(('delete', 'retype', 'swap', 'nest', 'big', 'tag',
                                     'alias', 'bomb', 'collide', 'dupkey', 'add')))
        if kind == 'delete':
            del parent[key]
        elif kind == 'retype':
            parent[key] = _fresh(draw(st.one_of(
                scalars, st.lists(scalars, max_size=2),
                st.dictionaries(st.sampled_from('ab'), scalars, max_size=2), expressions)))
        elif kind == 'swap':
            other = draw(st.sampled_from(paths))
            if other[:len(path)] == path or path[:len(other)] == other:
                continue        # one holds the other: swapping would make a cycle
            try:
                oparent = _container(doc, other)
                mine, theirs = parent[key], oparent[other[-1]]
            except (KeyError, IndexError, TypeError):
                continue
            parent[key] = theirs
            try:
                oparent[other[-1]] = mine
            except (KeyError, IndexError, TypeError):
                parent[key] = mine
                continue
            if _cyclic(doc):    # the two paths met through a shared node: undo
                oparent[other[-1]], parent[key] = theirs, mine
        elif kind == 'nest':
            depth = draw(st.sampled_from((5, 50, 99, 101, 150, 300)))
            value = parent[key]
            for i in range(depth):
                value = [value] if i % 2 else {'k': value}
            parent[key] = value
        elif kind == 'big':
            size = draw(st.sampled_from((1000, 100_000, 600_000)))
            parent[key] = draw(st.sampled_from('ax%$')) * size
        elif kind == 'tag':
            tags.append(draw(st.sampled_from(TAGGED)))
            parent[key] = '@@TAG%d@@' % (len(tags) - 1)
        elif kind == 'alias':
            # The same object in two places: PyYAML writes an anchor and an alias.
            shared = _fresh(draw(st.lists(expressions, min_size=1, max_size=3)))
            parent[key] = shared
            other = draw(st.sampled_from(paths))
            if other[:len(path)] == path:
                continue        # inside the shared list itself: a cycle
            try:
                oparent = _container(doc, other)
                before = oparent[other[-1]]
                oparent[other[-1]] = shared
            except (KeyError, IndexError, TypeError):
                pass
            else:
                if _cyclic(doc):    # reached the shared list through another alias: undo
                    oparent[other[-1]] = before
            tags.append(('shared',))
        elif kind == 'bomb':
            levels = draw(st.integers(2, 7))
            width = draw(st.integers(2, 9))
            value = ['lol' * draw(st.sampled_from((1, 100)))]
            for _ in range(levels):
                value = [value] * width
            parent[key] = value
            tags.append(('shared',))
        elif kind == 'collide':
            parent[key] = {1: 'a', '1': 'b', 1.5: 'c', '1.5': 'd'}
        elif kind == 'dupkey' and isinstance(parent, dict):
            name = draw(st.sampled_from(DUP_KEYS))
            parent['@@DUPA@@'] = parent.pop(key)
            parent['@@DUPB@@'] = _fresh(draw(expressions))
            tags.append(('dup', name))
        elif kind == 'add' and isinstance(parent, dict):
            parent[draw(st.sampled_from(('x', 'type', 'value', 'properties', 'hidden',
                                         'constraints', 'condition', 'get_param')))] = \
                _fresh(draw(expressions))
    return doc, tags


def render(doc, tags, as_json=False):
    """The document as YAML (or JSON) text, with placeholders replaced by raw YAML."""
    if as_json and not any(t == ('shared',) for t in tags):
        # (JSON has no aliases: a shared object would be written out in full.)
        try:
            text = json.dumps(doc, default=str, indent=1)
        except (ValueError, TypeError):
            text = yaml.safe_dump(doc, sort_keys=False)
    else:
        text = yaml.dump(doc, Dumper=yaml.SafeDumper, sort_keys=False, width=4096)
    for i, tag in enumerate(tags):
        if tag == ('shared',):
            continue
        if isinstance(tag, tuple):
            text = text.replace('\'@@DUPA@@\'', tag[1]).replace('@@DUPA@@', tag[1])
            text = text.replace('\'@@DUPB@@\'', tag[1]).replace('@@DUPB@@', tag[1])
            continue
        for quoted in ("'@@TAG%d@@'" % i, '"@@TAG%d@@"' % i, '@@TAG%d@@' % i):
            text = text.replace(quoted, tag)
    return text


@st.composite
def text_mutations(draw, text):
    """Byte-level damage to the rendered text: truncation, insertion of odd characters."""
    kind = draw(st.sampled_from(('none', 'none', 'none', 'none', 'truncate', 'insert',
                                 'tabs', 'bom')))
    if kind == 'truncate' and text:
        return text[:draw(st.integers(0, len(text)))]
    if kind == 'insert':
        at = draw(st.integers(0, len(text)))
        ch = draw(st.sampled_from(('\t', '\x00', '\x85', '\ufeff', '\u2028', '&', '*', '!',
                                   '%', '{', ']', ':', '- ', '? ', '|', '>', '"', '\\')))
        return text[:at] + ch + text[at:]
    if kind == 'tabs':
        return text.replace('  ', '\t', 1)
    if kind == 'bom':
        return '\ufeff' + text
    return text


@st.composite
def environments(draw, sane=False):
    env = {}
    if draw(st.booleans()):
        env['parameters'] = draw(st.dictionaries(st.sampled_from(PARAMS[:-1] + ('x',)),
                                                 scalars, max_size=2))
    if draw(st.booleans()):
        env['parameter_defaults'] = draw(st.dictionaries(st.sampled_from(PARAMS[:-1]),
                                                         scalars, max_size=2))
    if draw(st.booleans()):
        env['resource_registry'] = draw(st.dictionaries(
            st.sampled_from(('My::Type', 'OS::Heat::None', 'OS::*', 'r0')),
            st.sampled_from(('child.yaml', 'OS::Heat::None', '/etc/passwd', 'missing.yaml')),
            max_size=2))
    if draw(st.integers(0, 3)) == 0:
        env['encrypted_param_names'] = draw(st.lists(st.sampled_from(PARAMS), max_size=2))
    if not sane and draw(st.integers(0, 6)) == 0:
        env[draw(st.sampled_from(('event_sinks', 'bogus', 'parameter_merge_strategies')))] = \
            draw(scalars)
    return yaml.safe_dump(env)


@st.composite
def cases(draw, mutate=True):
    """A Case: a generated template, mutated, with files, environment and parameters."""
    token = draw(st.integers(min_value=0, max_value=16 ** 12 - 1))
    secret = '%s%012x' % (SECRET_PREFIX, token)
    doc, files, values, sane = draw(documents())
    tags = []
    if mutate and draw(st.integers(0, 2)):
        doc, tags = draw(mutated(doc))
    text = render(doc, tags, as_json=draw(st.integers(0, 9)) == 0)
    if mutate:
        text = draw(text_mutations(text))
    envs = []
    if draw(st.integers(0, 3)) == 0:
        envs.append(('env.yaml', draw(environments(sane))))
    values['secret'] = secret
    return Case(template=text, secret=secret, files=files, environments=envs,
                parameters={k: v if isinstance(v, str) else json.dumps(v)
                            for k, v in values.items()})
