"""Fixtures of the hostile-input suite: a judging worker subprocess, shared per module."""

import pytest

from tests.hostile import runner

GIB = 1024 ** 3


@pytest.fixture(scope='module')
def pool():
    """Worker subprocesses (engine on a private SQLite), under a 1 GiB address-space limit."""
    workers = runner.Pool(memory_limit=GIB)
    try:
        yield workers
    finally:
        workers.close()
