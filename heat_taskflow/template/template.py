"""A parsed HOT template: its version, sections and definitions, every snippet parsed.

``Template.parse`` checks everything that can be checked from the template alone
(sections, keys, parameter declarations, function shapes, condition names); what needs
parameter values or the environment is checked by ``StackDefinition.validate``.
"""

from heat_taskflow.template import conditions as conds
from heat_taskflow.template import functions_base, parser, versions
from heat_taskflow.template import parameters as params
from heat_taskflow.template.definitions import OutputDefinition, ResourceDefinition
from heat_taskflow.template.errors import TemplateError

VERSION_KEY = 'heat_template_version'
_CFN_KEYS = ('HeatTemplateFormatVersion', 'AWSTemplateFormatVersion')

DELETION_POLICIES = ('Delete', 'Retain', 'Snapshot')
# From 2016-10-14 Heat also accepts the lower-case spellings.
_LOWER_POLICIES_SINCE = '2016-10-14'


class Template:
    """A HOT template; build it with ``Template.parse`` (text) or ``Template(data)``."""

    def __init__(self, data, filename='template.yaml', source_map=None):
        """Check and parse template ``data`` (a dict); raises a located TemplateError."""
        self.filename = filename
        self.source_map = source_map or parser.SourceMap()
        self.raw = data
        try:
            self._load(data)
        except TemplateError as exc:
            raise self.locate(exc)

    @classmethod
    def parse(cls, text, filename='template.yaml', limits=None, *, max_size=None,
              max_depth=None):
        """Parse template text (YAML or JSON) and check it; raises TemplateError.

        ``limits`` (template.limits.Limits; the defaults when None) bounds the parse;
        ``max_size`` and ``max_depth`` override its size and depth.
        """
        with parser.gc_paused():
            data, source_map = parser.load_mapping(text, filename, 'template', limits,
                                                   max_size=max_size, max_depth=max_depth)
            return cls(data, filename=filename, source_map=source_map)

    def locate(self, exc):
        """Fill in this template's file name and the line of the error's path."""
        return exc.locate(self.filename, self.source_map)

    # --- loading -------------------------------------------------------------------

    def _load(self, data):
        if not isinstance(data, dict):
            raise TemplateError('the template must be a map')
        if VERSION_KEY not in data:
            if any(k in data for k in _CFN_KEYS):
                raise TemplateError('CloudFormation-format templates are not supported; '
                                    'use a HOT template with heat_template_version')
            raise TemplateError('missing heat_template_version')
        version_value = data[VERSION_KEY]
        if not isinstance(version_value, (str, int, float)) or isinstance(version_value, bool):
            raise TemplateError('heat_template_version must be a date or a release name',
                                (VERSION_KEY,))
        self.version = versions.get(version_value)
        spec = self.version
        for key in data:
            if key not in spec.sections:
                raise TemplateError('"%s" is not a valid template section; valid sections: %s'
                                    % (key, ', '.join(sorted(spec.sections))), (key,))
        self.description = data.get('description')
        self.parameter_schemas = params.parse_schemas(data.get('parameters'), spec.name)
        self.parameter_groups = self._parameter_groups(data.get('parameter_groups'))
        self.conditions = conds.parse_section(data.get('conditions'), spec)
        for name, definition in self.conditions.items():
            self._check_condition_names(definition, ('conditions', name))
        self.resources = self._resources(data.get('resources'))
        self.outputs = self._outputs(data.get('outputs'))
        self._index_references()

    # --- references between definitions, indexed once ---------------------------------

    def _index_references(self):
        """Find every resource, attribute and parameter reference, checking the names.

        ``resource_refs[name]`` holds (target, path) pairs read from properties and
        metadata, the fields Heat orders by, plus depends_on; ``other_refs[name]`` those
        in the remaining fields; ``attribute_refs[name]`` (target, attribute) pairs.
        """
        self.resource_refs = {}
        self.other_refs = {}
        self.attribute_refs = {}
        for name, rdef in self.resources.items():
            deps, attrs = [], []
            for field in ('properties', 'metadata'):
                self._collect(getattr(rdef, field), deps, attrs)
            deps.extend(self._depends_on_refs(rdef))
            others = []
            for field in ('update_policy', 'deletion_policy', 'external_id'):
                self._collect(getattr(rdef, field), others, attrs)
            self.resource_refs[name] = tuple(deps)
            self.other_refs[name] = tuple(others)
            self.attribute_refs[name] = tuple(attrs)
        self.output_refs = {}
        self.output_attribute_refs = {}
        for name, odef in self.outputs.items():
            refs, attrs = [], []
            self._collect(odef.value, refs, attrs)
            self.output_refs[name] = tuple(refs)
            self.output_attribute_refs[name] = tuple(attrs)
        for definition in self.conditions.values():
            self._collect(definition, [], [])
        for rdef in self.resources.values():
            if isinstance(rdef.condition, functions_base.Function):
                self._collect(rdef.condition, [], [])
        for odef in self.outputs.values():
            if isinstance(odef.condition, functions_base.Function):
                self._collect(odef.condition, [], [])

    def _collect(self, snippet, refs, attrs):
        for fn in functions_base.walk(snippet):
            for target in fn.resource_refs():
                if getattr(fn, 'may_be_parameter', False) and target in self.parameter_schemas \
                        and target not in self.resources:
                    continue        # Ref to a parameter (2013-05-23)
                if target not in self.resources:
                    raise TemplateError('%s refers to resource "%s", which is not defined'
                                        % (fn.fn_name, target), fn.path)
                refs.append((target, fn.path))
            attrs.extend(fn.attribute_refs())
            if fn.fn_name == 'get_param':
                self._check_param_ref(fn)

    def _check_param_ref(self, fn):
        # Only a literal name can be checked before resolution; computed names are
        # checked when resolved.
        name = fn.args[0] if isinstance(fn.args, list) and fn.args else fn.args
        if (isinstance(name, str) and name not in self.parameter_schemas
                and name not in params.PSEUDO_PARAMETERS):
            raise TemplateError('get_param refers to parameter "%s", which is not defined'
                                % name, fn.path)

    def _depends_on_refs(self, rdef):
        raw = rdef.raw.get('depends_on')
        base = rdef.path + ('depends_on',)
        out = []
        for target in rdef.depends_on:
            path = base if isinstance(raw, str) else base + (raw.index(target),)
            if target not in self.resources:
                raise TemplateError('depends_on refers to resource "%s", which is not '
                                    'defined' % target, path)
            out.append((target, path))
        return out

    def _check_condition_names(self, ref, path):
        for name in conds.referenced_names(ref):
            if name not in self.conditions:
                raise TemplateError('condition "%s" is not defined in the conditions section'
                                    % name, path)

    def _parameter_groups(self, groups):
        if groups is None:
            return []
        path = ('parameter_groups',)
        if not isinstance(groups, list):
            raise TemplateError('parameter_groups must be a list', path)
        seen = {}
        for i, group in enumerate(groups):
            gpath = path + (i,)
            if not isinstance(group, dict):
                raise TemplateError('each parameter group must be a map', gpath)
            for key in group:
                if key not in ('label', 'description', 'parameters'):
                    raise TemplateError('"%s" is not a valid parameter group key' % key,
                                        gpath + (key,))
            names = group.get('parameters')
            if not isinstance(names, list):
                raise TemplateError('each parameter group needs a "parameters" list',
                                    gpath + ('parameters',))
            for j, name in enumerate(names):
                ppath = gpath + ('parameters', j)
                if not isinstance(name, str) or name not in self.parameter_schemas:
                    raise TemplateError('parameter group refers to %r, which is not a '
                                        'parameter of this template' % (name,), ppath)
                if name in seen:
                    raise TemplateError("parameter '%s' is in more than one parameter group"
                                        % name, ppath)
                seen[name] = i
        return groups

    def _resources(self, section):
        if section is None:
            return {}
        if not isinstance(section, dict):
            raise TemplateError('the resources section must be a map of resource '
                                'definitions', ('resources',))
        return {name: self._resource(name, snippet) for name, snippet in section.items()}

    def _resource(self, name, snippet):
        spec = self.version
        path = ('resources', name)
        if not isinstance(name, str) or not name:
            raise TemplateError('resource names must be non-empty strings, not %r' % (name,),
                                path)
        if '/' in name:
            raise TemplateError('resource name "%s" may not contain "/"' % name, path)
        if not isinstance(snippet, dict):
            raise TemplateError("resource '%s' must be a map with at least a type" % name,
                                path)
        for key in snippet:
            if key not in spec.resource_keys:
                raise TemplateError('"%s" is not a valid keyword inside a resource '
                                    'definition; valid keywords: %s'
                                    % (key, ', '.join(sorted(spec.resource_keys))),
                                    path + (key,))
        rtype = snippet.get('type')
        if not isinstance(rtype, str) or not rtype.strip():
            raise TemplateError("resource '%s' needs a type, a non-empty string" % name,
                                path + ('type',) if 'type' in snippet else path)

        def parsed(key, kinds, what):
            if snippet.get(key) is None:
                return None
            value = functions_base.parse(snippet[key], spec, path + (key,))
            if not isinstance(value, kinds + (functions_base.Function,)):
                raise TemplateError('%s must be %s' % (key, what), path + (key,))
            return value

        properties = parsed('properties', (dict,), 'a map')
        metadata = parsed('metadata', (dict,), 'a map')
        update_policy = parsed('update_policy', (dict,), 'a map')
        external_id = parsed('external_id', (str,), 'a string')
        deletion_policy = parsed('deletion_policy', (str,), 'a string')
        if isinstance(deletion_policy, str):
            deletion_policy = self._deletion_policy(deletion_policy,
                                                    path + ('deletion_policy',))
        condition = None
        if 'condition' in snippet:
            condition = conds.parse_reference(snippet['condition'], spec,
                                              path + ('condition',))
            self._check_condition_names(condition, path + ('condition',))
        return ResourceDefinition(
            name=name, type=rtype, properties=properties, metadata=metadata,
            depends_on=self._depends_on(snippet.get('depends_on'), path + ('depends_on',)),
            deletion_policy=deletion_policy, update_policy=update_policy,
            external_id=external_id, condition=condition,
            description=snippet.get('description'), path=path, raw=snippet)

    def _deletion_policy(self, value, path):
        if value in DELETION_POLICIES:
            return value
        if (self.version.name >= _LOWER_POLICIES_SINCE
                and value.capitalize() in DELETION_POLICIES and value == value.lower()):
            return value.capitalize()
        raise TemplateError('invalid deletion_policy "%s"; valid policies: %s'
                            % (value, ', '.join(DELETION_POLICIES)), path)

    @staticmethod
    def _depends_on(value, path):
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            raise TemplateError('depends_on must be a resource name or a list of names', path)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise TemplateError('depends_on entries must be resource names, not %r'
                                    % (item,), path + (i,))
        # duplicates are harmless; keep the first occurrence's order
        return tuple(dict.fromkeys(value))

    def _outputs(self, section):
        if section is None:
            return {}
        if not isinstance(section, dict):
            raise TemplateError('the outputs section must be a map', ('outputs',))
        out = {}
        spec = self.version
        for name, snippet in section.items():
            path = ('outputs', name)
            if not isinstance(name, str) or not name:
                raise TemplateError('output names must be non-empty strings, not %r'
                                    % (name,), path)
            if not isinstance(snippet, dict) or not snippet:
                raise TemplateError("output '%s' must be a map with a value" % name, path)
            for key in snippet:
                if key not in spec.output_keys:
                    raise TemplateError('"%s" is not a valid keyword inside an output '
                                        'definition; valid keywords: %s'
                                        % (key, ', '.join(sorted(spec.output_keys))),
                                        path + (key,))
            condition = None
            if 'condition' in snippet:
                condition = conds.parse_reference(snippet['condition'], spec,
                                                  path + ('condition',))
                self._check_condition_names(condition, path + ('condition',))
            out[name] = OutputDefinition(
                name=name,
                value=functions_base.parse(snippet.get('value'), spec, path + ('value',)),
                description=snippet.get('description'), condition=condition, path=path,
                raw=snippet)
        return out

    def __repr__(self):
        return '<Template %s (%s), %d resources>' % (self.filename, self.version.name,
                                                     len(self.resources))
