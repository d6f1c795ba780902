"""HOT template library: parsing, parameters, environments, conditions, graph, resolution.

Pure: its only inputs are template text, environment texts and the files map. It is the
lowest layer: it imports nothing else of heat_taskflow, and resources/ builds on it (its
property constraints are ``constraints``' classes). ``register_custom_constraint`` is the
one way in code to add a custom constraint, for parameters and resource properties alike.
"""

from heat_taskflow.template.constraints import register_custom_constraint
from heat_taskflow.template.definitions import (
    OutputDefinition,
    ResolvedType,
    ResourceDefinition,
    ResourceState,
    StackIdentity,
)
from heat_taskflow.template.environment import Environment
from heat_taskflow.template.errors import TemplateError
from heat_taskflow.template.parameters import immutable_changes
from heat_taskflow.template.stack import StackDefinition
from heat_taskflow.template.template import Template

__all__ = [
    'Environment',
    'OutputDefinition',
    'ResolvedType',
    'ResourceDefinition',
    'ResourceState',
    'StackDefinition',
    'StackIdentity',
    'Template',
    'TemplateError',
    'immutable_changes',
    'register_custom_constraint',
]
