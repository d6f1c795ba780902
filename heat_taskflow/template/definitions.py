"""Value types describing one resource, one output and one stack's identity."""

import dataclasses
import typing


@dataclasses.dataclass(frozen=True)
class ResourceDefinition:
    """One entry of the resources section, with its snippets already parsed.

    ``properties``, ``metadata``, ``update_policy``, ``deletion_policy`` and
    ``external_id`` may hold Function instances; ``raw`` is the snippet as written, so
    the engine can store it and compare definitions across updates.
    """

    name: str
    type: str
    properties: typing.Any = None
    metadata: typing.Any = None
    depends_on: tuple = ()
    deletion_policy: typing.Any = None
    update_policy: typing.Any = None
    external_id: typing.Any = None
    condition: typing.Any = None        # None, a condition name, a bool, or a Function
    description: typing.Any = None
    path: tuple = ()
    raw: typing.Any = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class OutputDefinition:
    """One entry of the outputs section; ``value`` may hold Function instances."""

    name: str
    value: typing.Any = None
    description: typing.Any = None
    condition: typing.Any = None
    path: tuple = ()
    raw: typing.Any = dataclasses.field(default=None, compare=False)


class StackIdentity(typing.NamedTuple):
    """Who the stack is: the values of the OS::stack_name/stack_id/project_id parameters."""

    stack_name: typing.Optional[str] = None
    stack_id: typing.Optional[str] = None
    project_id: typing.Optional[str] = None


class ResourceState(typing.NamedTuple):
    """What a resource has produced: its reference id and stored attribute values."""

    reference_id: typing.Any = None
    attributes: typing.Mapping = {}


class ResolvedType(typing.NamedTuple):
    """A resource type after the environment's resource_registry.

    ``template_file`` is set when the type is implemented by a template (a template
    resource); ``type_name`` is then the name the template implements.
    """

    type_name: str
    template_file: typing.Optional[str] = None
