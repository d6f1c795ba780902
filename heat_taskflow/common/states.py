"""The status vocabulary: the actions and statuses stacks, resources and events record.

A stored state is an (action, status) pair, shown as ``ACTION_STATUS`` (CREATE_COMPLETE).
Every module spells these strings from here, with Heat's names, so that what one path
writes reads the same to the other and to the command line.
"""

# Actions.
INIT = 'INIT'           # a row no operation has touched yet (also the status of a new
                        # resource row whose create has not started)
CREATE = 'CREATE'
UPDATE = 'UPDATE'
DELETE = 'DELETE'
ROLLBACK = 'ROLLBACK'
CHECK = 'CHECK'

ACTIONS = (INIT, CREATE, UPDATE, DELETE, ROLLBACK, CHECK)

# Statuses.
IN_PROGRESS = 'IN_PROGRESS'
COMPLETE = 'COMPLETE'
FAILED = 'FAILED'

STATUSES = (IN_PROGRESS, COMPLETE, FAILED)

# The status of the event the observer records for a resource that drifted (CHECK_DRIFTED);
# the row itself keeps its state.
DRIFTED = 'DRIFTED'
