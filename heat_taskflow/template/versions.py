"""Template versions: for each heat_template_version, the functions and sections it allows.

Contract: ``get(version)`` answers a ``VersionSpec``, whose ``functions`` and
``condition_functions`` tables map a function name to its class. This is the one module
that assembles the function families (``functions_ref``, ``functions_data``,
``functions_logic``, ``functions_cfn``); adding a version is adding a table here.
"""

import dataclasses
import types

from heat_taskflow.template import functions_cfn as cfn
from heat_taskflow.template import functions_data as data
from heat_taskflow.template import functions_logic as logic
from heat_taskflow.template import functions_ref as ref
from heat_taskflow.template.errors import TemplateError


@dataclasses.dataclass(frozen=True)
class VersionSpec:
    """What one heat_template_version allows."""

    name: str                       # canonical date, e.g. '2018-08-31'
    aliases: tuple                  # e.g. ('rocky',)
    functions: types.MappingProxyType          # name -> Function subclass
    condition_functions: types.MappingProxyType  # allowed in the conditions section
    sections: frozenset             # top-level keys
    resource_keys: frozenset        # keys allowed in a resource definition
    output_keys: frozenset          # keys allowed in an output definition
    all_function_names: frozenset   # every function name known to any version


# ---------------------------------------------------------------------------
# The tables, transcribed from Heat's heat/engine/hot/template.py.  Each version
# is the previous one plus what it added, minus what it removed; a function a
# version removed is simply absent, so parse() reports it with the version name.
# ---------------------------------------------------------------------------

_CFN_REMOVED_2014 = ('Fn::GetAZs', 'Fn::Join', 'Fn::Split', 'Fn::Replace', 'Fn::Base64',
                     'Fn::MemberListToMap', 'Fn::ResourceFacade', 'Ref')

# CFN functions Heat never accepted in HOT (only in CFN templates).  They are
# known names, so using one in a HOT template is an error naming the version
# instead of being taken silently as a one-key map.
_CFN_NEVER_IN_HOT = ('Fn::GetAtt', 'Fn::FindInMap', 'Fn::If', 'Fn::Equals', 'Fn::Not',
                     'Fn::And', 'Fn::Or')

_SECTIONS = frozenset(('heat_template_version', 'description', 'parameter_groups',
                       'parameters', 'resources', 'outputs'))
_RESOURCE_KEYS = frozenset(('type', 'properties', 'metadata', 'depends_on',
                            'deletion_policy', 'update_policy', 'description'))
_OUTPUT_KEYS = frozenset(('description', 'value'))


def _derive(base, add=None, remove=()):
    """A new table: ``base`` with ``add`` merged in (replacing) and ``remove`` dropped."""
    table = {k: v for k, v in base.items() if k not in remove}
    table.update(add or {})
    return table


def _version_data():
    """(name, aliases, functions, condition_functions, sections, resource_keys, output_keys)."""
    t20130523 = {
        'get_param': ref.GetParam,
        'get_resource': ref.GetResource,
        'get_attr': ref.GetAttr,
        'get_file': ref.GetFile,
        'list_join': data.ListJoin,
        'str_replace': data.StrReplace,
        'resource_facade': ref.ResourceFacade,
        # CFN functions HOT 2013-05-23 still accepts
        'Fn::GetAZs': cfn.GetAZs,
        'Fn::Select': cfn.Select,
        'Fn::Join': cfn.Join,
        'Fn::Split': cfn.Split,
        'Fn::Replace': cfn.Replace,
        'Fn::Base64': cfn.Base64,
        'Fn::MemberListToMap': cfn.MemberListToMap,
        'Fn::ResourceFacade': cfn.ResourceFacade,
        'Ref': cfn.Ref,
    }
    # The CFN functions except Fn::Select are gone.  (Heat also starts handing
    # get_attr's path to the resource instead of selecting from the value; with
    # stored attribute values both come to the same, so get_attr is unchanged.)
    t20141016 = _derive(t20130523, remove=_CFN_REMOVED_2014)
    t20150430 = _derive(t20141016, {'digest': data.Digest, 'repeat': data.Repeat})
    t20151015 = _derive(t20150430, {
        'get_attr': ref.GetAttrAll,          # [resource] alone: all attributes
        'list_join': data.ListJoinMultiple,  # several lists; items may be maps/lists (JSON)
        'str_replace': data.StrReplaceJson,  # non-string params are JSON-encoded
        'str_split': data.StrSplit,
    }, remove=('Fn::Select',))
    t20160408 = _derive(t20151015, {'map_merge': data.MapMerge})
    t20161014 = _derive(t20160408, {
        'repeat': data.RepeatWithMap,        # for_each values may be a map's keys
        'yaql': logic.Yaql,
        'map_replace': data.MapReplace,
        'if': logic.If,
    })
    t20170224 = _derive(t20161014, {
        'filter': data.Filter,
        'str_replace_strict': data.StrReplaceStrict,
    })
    t20170901 = _derive(t20170224, {
        'repeat': data.RepeatNested,         # adds permutations: false
        'make_url': data.MakeUrl,
        'list_concat': data.ListConcat,
        'list_concat_unique': data.ListConcatUnique,
        'str_replace_vstrict': data.StrReplaceVeryStrict,
        'contains': logic.Contains,
    })
    # Queens changed only the parameter schema (HOTParamSchema20180302), Rocky
    # nothing in the tables: same functions as Pike.
    t20180302 = _derive(t20170901)
    t20180831 = _derive(t20180302)
    # Wallaby: `if` may omit the false branch (the value is then None, i.e. as if
    # the property were not given) and `if` is allowed in the conditions section.
    t20210416 = _derive(t20180831, {'if': logic.IfNullable})

    c20161014 = {'get_param': ref.GetParam, 'equals': logic.Equals, 'not': logic.Not,
                 'and': logic.And, 'or': logic.Or}
    c20170901 = _derive(c20161014, {'yaql': logic.Yaql, 'contains': logic.Contains})
    c20210416 = _derive(c20170901, {'if': logic.If})

    sections_2016 = _SECTIONS | {'conditions'}
    rkeys_2016 = _RESOURCE_KEYS | {'external_id', 'condition'}
    okeys_2016 = _OUTPUT_KEYS | {'condition'}
    before = (_SECTIONS, _RESOURCE_KEYS, _OUTPUT_KEYS)
    after = (sections_2016, rkeys_2016, okeys_2016)
    return [
        ('2013-05-23', (), t20130523, {}) + before,
        ('2014-10-16', (), t20141016, {}) + before,
        ('2015-04-30', (), t20150430, {}) + before,
        ('2015-10-15', (), t20151015, {}) + before,
        ('2016-04-08', (), t20160408, {}) + before,
        ('2016-10-14', ('newton',), t20161014, c20161014) + after,
        ('2017-02-24', ('ocata',), t20170224, c20161014) + after,
        ('2017-09-01', ('pike',), t20170901, c20170901) + after,
        ('2018-03-02', ('queens',), t20180302, c20170901) + after,
        ('2018-08-31', ('rocky',), t20180831, c20170901) + after,
        ('2021-04-16', ('wallaby',), t20210416, c20210416) + after,
    ]


def _build():
    data = _version_data()
    names = frozenset(_CFN_NEVER_IN_HOT).union(*(set(d[2]) | set(d[3]) for d in data))
    return {
        name: VersionSpec(name=name, aliases=aliases,
                          functions=types.MappingProxyType(fns),
                          condition_functions=types.MappingProxyType(conds),
                          sections=frozenset(sections),
                          resource_keys=frozenset(rkeys),
                          output_keys=frozenset(okeys),
                          all_function_names=names)
        for name, aliases, fns, conds, sections, rkeys, okeys in data
    }


VERSIONS = _build()


def get(version):
    """The VersionSpec for a heat_template_version value (a date or a release alias)."""
    key = str(version)
    spec = VERSIONS.get(key)
    if spec is None:
        for candidate in VERSIONS.values():
            if key in candidate.aliases:
                return candidate
        valid = ', '.join(sorted(VERSIONS))
        raise TemplateError('unknown heat_template_version "%s"; valid versions: %s'
                            % (key, valid), ('heat_template_version',))
    return spec
