"""OperationRuntime's look at the stack row before each legacy action."""

from heat_taskflow.common import states
from heat_taskflow.flows import runtime as rt
from heat_taskflow.persistence import api as db


def test_superseded_lately_reads_the_row_at_most_once_per_max_age(database):
    raw = db.raw_template_create(database, {})
    stack = db.stack_create(database, name='s', project_id='p', raw_template_id=raw.id,
                            current_traversal='t1')
    runtime = rt.OperationRuntime(database, stack, states.CREATE, 't1', None, None, 'engine')
    assert runtime.superseded_lately(max_age=60) is False
    # A cancel swaps the traversal away: a look younger than max_age is trusted...
    assert db.stack_update(database, stack.id, {'current_traversal': 't2'},
                           expected_traversal='t1')
    assert runtime.superseded_lately(max_age=60) is False
    # ...an older one is not; and once superseded, always superseded without reading.
    assert runtime.superseded_lately(max_age=0) is True
    db.stack_update(database, stack.id, {'current_traversal': 't1'})
    assert runtime.superseded_lately(max_age=60) is True
    assert runtime.superseded() is False        # the exact look still reads the row
