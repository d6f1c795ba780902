"""Heat's policy rules with their new defaults, in code (oslo.policy), one module per scope.

``list_rules()`` is the ``oslo.policy.policies`` entry point ``heat_taskflow``, so
``oslopolicy-sample-generator --namespace heat_taskflow`` writes every rule with its default,
and a policy file ([oslo_policy] policy_file) overrides any of them.
"""

import itertools

from heat_taskflow.api.policies import (
    actions,
    base,
    build_info,
    events,
    resource,
    resource_types,
    service,
    software_configs,
    software_deployments,
    stacks,
)

MODULES = (base, actions, build_info, events, resource, resource_types, service,
           software_configs, software_deployments, stacks)


def list_rules():
    """Every rule heat-taskflow's API enforces, with its default."""
    return list(itertools.chain.from_iterable(module.list_rules() for module in MODULES))
