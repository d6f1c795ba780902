"""Fixtures of the hostile-input suite: a judging worker subprocess, shared per module."""

import os
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.hostile import runner

# Hypothesis keeps caches (charmaps, constants) in its home directory even without an
# example database: keep them out of the source tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), 'heat-taskflow-hypothesis'))

GIB = 1024 ** 3


@pytest.fixture(scope='module')
def pool():
    """Worker subprocesses (engine on a private SQLite), under a 1 GiB address-space limit."""
    workers = runner.Pool(memory_limit=GIB)
    try:
        yield workers
    finally:
        workers.close()
