"""The budgets every input is held to, in one place.

A ``Limits`` is plain data: the template package takes one wherever it parses or resolves
(parsing, alias expansion, resolution, yaql, regular expressions) and knows nothing of
where the numbers came from. ``Limits.from_conf`` builds one from the ``[DEFAULT]``
options (it only reads attributes of the object it is given), so the command line, the API
and a conductor loading a stored stack apply the same numbers. docs/hostile-input.md has
the table and the reasons.
"""

import dataclasses

KIB = 1024
MIB = 1024 * KIB


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on the work any one input may cause; each checked before the expensive step."""

    # bytes of one template, environment or child template, before it is parsed
    max_template_size: int = 512 * KIB
    # nesting of maps and lists in any parsed document or JSON parameter value
    max_template_depth: int = 100
    # YAML nodes once every alias is expanded
    max_template_nodes: int = 1_000_000
    # bytes of scalar text once every alias is expanded
    max_template_expanded_size: int = 8 * MIB
    # bytes of all files-map entries (get_file targets and child templates) together
    max_files_size: int = 10 * MIB
    # bytes of the data one resolution (a resource's properties, an output, ...) may build
    max_resolved_size: int = 8 * MIB
    # wall-clock seconds and bytes of memory for one yaql evaluation
    yaql_timeout: float = 2.0
    yaql_memory: int = 512 * MIB
    # wall-clock seconds for one regular-expression match (allowed_pattern, yaql regex)
    regex_timeout: float = 1.0
    # resources in one stack (not counting nested stacks); -1 for no limit
    max_resources_per_stack: int = 10000

    @classmethod
    def from_conf(cls, conf):
        """The budgets of a configuration object: each field read from the ``[DEFAULT]``
        option of the same name."""
        return cls(**{field.name: getattr(conf, field.name)
                      for field in dataclasses.fields(cls)})

    def replace(self, **changes):
        """A copy with some budgets changed."""
        return dataclasses.replace(self, **changes)


DEFAULT = Limits()
