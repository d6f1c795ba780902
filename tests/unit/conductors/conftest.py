"""Fixtures for conductor tests: the engine tests' private configuration."""

from tests.unit.engine.conftest import conf  # noqa: F401 - a pytest fixture
