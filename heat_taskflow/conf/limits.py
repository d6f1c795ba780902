"""The Limits (template/limits.py) the configured [DEFAULT] options give."""

from heat_taskflow.template.limits import Limits


def from_conf(conf):
    """A Limits with every budget read from ``conf`` ([DEFAULT] options)."""
    return Limits(
        max_template_size=conf.max_template_size,
        max_template_depth=conf.max_template_depth,
        max_template_nodes=conf.max_template_nodes,
        max_template_expanded_size=conf.max_template_expanded_size,
        max_files_size=conf.max_files_size,
        max_resolved_size=conf.max_resolved_size,
        yaql_timeout=conf.yaql_timeout,
        yaql_memory=conf.yaql_memory,
        regex_timeout=conf.regex_timeout,
        max_resources_per_stack=conf.max_resources_per_stack,
    )
