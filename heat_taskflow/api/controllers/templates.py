"""Templates and resource types: validate, template versions and their functions, resource
type list, schema and generated template (Heat's StackController, the template half)."""

import pydoc
import re

from heat_taskflow.api import faults
from heat_taskflow.api.controllers import base
from heat_taskflow.api.controllers.stacks import Instantiation
from heat_taskflow.common.text import shown
from heat_taskflow.engine import exceptions as engine_exc
from heat_taskflow.resources import exceptions as res_exc
from heat_taskflow.resources import registry
from heat_taskflow.template import versions as tpl_versions
from heat_taskflow.template.errors import TemplateError

ROUTES = [
    ('/validate', 'POST', 'validate_template'),
    ('/resource_types', 'GET', 'list_resource_types'),
    ('/resource_types/{type_name}', 'GET', 'resource_schema'),
    ('/resource_types/{type_name}/template', 'GET', 'generate_template'),
    ('/template_versions', 'GET', 'list_template_versions'),
    ('/template_versions/{template_version}/functions', 'GET', 'list_template_functions'),
]

VERSION_PREFIX = 'heat_template_version.'
SUPPORT_STATUSES = ('UNKNOWN', 'SUPPORTED', 'DEPRECATED', 'UNSUPPORTED', 'HIDDEN')
TEMPLATE_TYPES = ('cfn', 'hot')
# Every plugin shipped is supported; none records the Heat version that added it.
SUPPORT_STATUS = {'status': 'SUPPORTED', 'version': None, 'message': None,
                  'previous_status': None}


class ValidationFailed(faults.APIError):
    """The template does not validate (Heat's StackValidationFailed, 400)."""

    code = 400
    error_type = 'StackValidationFailed'


class Controller(base.Controller):
    """Template and resource type routes."""

    # -- validate ----------------------------------------------------------------------

    def validate_template(self, req, tenant_id):
        """POST /validate: Heat's validate body, or 400 naming file, line and path."""
        self.authorize(req, 'stacks:validate_template', tenant_id)
        if 'show_nested' in req.GET:                    # checked, as Heat; not used
            base.extract_bool('show_nested', req.GET['show_nested'])
        data = Instantiation(req.json_body())
        text, filename = data.template()
        try:
            return self.engine(req).validate_template(
                text, filename, files=data.files(), environments=data.environments(),
                parameters=data.parameters())
        except (TemplateError, engine_exc.InvalidInput) as exc:
            raise ValidationFailed(str(exc)) from exc

    # -- template versions -------------------------------------------------------------

    def list_template_versions(self, req, tenant_id):
        """Every heat_template_version heat-taskflow knows, with its release aliases."""
        self.authorize(req, 'stacks:list_template_versions', tenant_id)
        specs = sorted(tpl_versions.VERSIONS.values(), key=lambda s: s.name)
        return {'template_versions': [
            {'version': VERSION_PREFIX + spec.name, 'type': 'hot',
             'aliases': [VERSION_PREFIX + a for a in spec.aliases]} for spec in specs]}

    def list_template_functions(self, req, tenant_id, template_version):
        """The functions of one template version (and its condition functions with
        with_condition_func=true)."""
        self.authorize(req, 'stacks:list_template_functions', tenant_id)
        with_condition = False
        if req.GET.get('with_condition_func') is not None:
            with_condition = base.extract_bool('with_condition_func',
                                               req.GET['with_condition_func'])
        name = template_version
        if name.startswith(VERSION_PREFIX):
            name = name[len(VERSION_PREFIX):]
        try:
            spec = tpl_versions.get(name)
        except TemplateError:
            raise faults.APIError('Template with version %s not found'
                                  % shown(template_version),
                                  code=404) from None
        functions = dict(spec.functions)
        if with_condition:
            functions.update(spec.condition_functions)
        return {'template_functions': [
            {'functions': fname, 'description': _summary(cls)}
            for fname, cls in sorted(functions.items())]}

    # -- resource types ----------------------------------------------------------------

    def list_resource_types(self, req, tenant_id):
        """The registered resource types, filtered by name (a regular expression),
        version and support_status; with_description gives {resource_type, description}."""
        self.authorize(req, 'stacks:list_resource_types', tenant_id)
        name = req.GET.get('name')
        version = req.GET.get('version')
        status = req.GET.get('support_status')
        if status is not None and status.upper() not in SUPPORT_STATUSES:
            raise faults.BadRequest('Invalid support status %s; valid statuses: %s'
                                    % (status, ', '.join(SUPPORT_STATUSES)))
        with_description = False
        if req.GET.get('with_description') is not None:
            with_description = base.extract_bool('with_description',
                                                 req.GET['with_description'])
        try:
            pattern = re.compile(name) if name else None
        except re.error as exc:
            raise faults.BadRequest('Invalid name filter "%s": %s' % (name, exc)) from None
        classes = registry.classes(self.conf.enable_test_resource_types)
        names = []
        for type_name in sorted(classes):
            if pattern is not None and not pattern.search(type_name):
                continue
            if version is not None and SUPPORT_STATUS['version'] != version:
                continue
            if status is not None and status.upper() != SUPPORT_STATUS['status']:
                continue
            names.append(type_name)
        if with_description:
            return {'resource_types': [{'resource_type': n,
                                        'description': _description(classes[n])}
                                       for n in names]}
        return {'resource_types': names}

    def resource_schema(self, req, tenant_id, type_name):
        """The schema of a resource type: properties, attributes, support status."""
        self.authorize(req, 'stacks:resource_schema', tenant_id)
        with_description = base.extract_bool('with_description',
                                             req.GET.get('with_description', 'false'))
        cls = _resource_class(type_name, self.conf.enable_test_resource_types)
        out = {
            'resource_type': type_name,
            'properties': {n: s.to_dict() for n, s in (cls.properties_schema or {}).items()},
            'attributes': {n: s.to_dict() for n, s in cls.attributes().items()},
            'support_status': dict(SUPPORT_STATUS),
        }
        if with_description:
            out['description'] = _description(cls)
        return out

    def generate_template(self, req, tenant_id, type_name):
        """A template with one resource of the type, its properties as parameters and its
        attributes as outputs (template_type hot or cfn, Heat's default cfn)."""
        self.authorize(req, 'stacks:generate_template', tenant_id)
        template_type = req.GET.get('template_type', 'cfn')
        if template_type not in TEMPLATE_TYPES:
            raise faults.BadRequest('Template type is not supported: Invalid template type '
                                    '"%s", valid types are: %s.'
                                    % (template_type, ', '.join(TEMPLATE_TYPES)))
        cls = _resource_class(type_name, self.conf.enable_test_resource_types)
        props = cls.properties_schema or {}
        attrs = cls.attributes()
        res_name = type_name.replace('::', '')
        params = {n: _parameter(s) for n, s in props.items()}
        if template_type == 'hot':
            return {
                'heat_template_version': '2016-10-14',
                'description': 'Initial template of %s' % res_name,
                'parameters': params,
                'resources': {res_name: {
                    'type': type_name,
                    'properties': {n: {'get_param': n} for n in props}}},
                'outputs': {n: {'description': a.description,
                                'value': {'get_attr': [res_name, n]}}
                            for n, a in attrs.items()},
            }
        return {
            'HeatTemplateFormatVersion': '2012-12-12',
            'Description': 'Initial template of %s' % res_name,
            'Parameters': {n: {('Type' if k == 'type' else k.capitalize()): v
                               for k, v in p.items()} for n, p in params.items()},
            'Resources': {res_name: {'Type': type_name,
                                     'Properties': {n: {'Ref': n} for n in props}}},
            'Outputs': {n: {'Description': a.description,
                            'Value': {'Fn::GetAtt': [res_name, n]}}
                        for n, a in attrs.items()},
        }


def _resource_class(type_name, test_types):
    try:
        return registry.get_class(type_name, test_types=test_types)
    except res_exc.ResourceTypeNotFound:
        raise faults.APIError('The Resource Type (%s) could not be found.' % type_name,
                              code=404) from None


# Property types and the parameter types that carry them.
_PARAM_TYPES = {'string': 'string', 'integer': 'number', 'number': 'number',
                'boolean': 'boolean', 'list': 'comma_delimited_list', 'map': 'json',
                'any': 'json'}


def _parameter(schema):
    out = {'type': _PARAM_TYPES.get(schema.type, 'string')}
    if schema.description:
        out['description'] = schema.description
    if schema.default is not None:
        out['default'] = schema.default
    return out


def _summary(cls):
    """The first line of a class's docstring."""
    return pydoc.splitdoc(pydoc.getdoc(cls))[0]


def _description(cls):
    return pydoc.getdoc(cls) or ''
