"""Shared fixtures: the small exercises under tests/fixtures/ the sandbox tests grade."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog import Catalog, load_catalog

FIXTURES = Path(__file__).parent / "fixtures"

# Fixture exercises' hidden tests and mutants are graded, not collected as our own tests.
collect_ignore = ["fixtures", "mutants"]


@pytest.fixture(scope="session")
def fixture_catalog() -> Catalog:
    return load_catalog(FIXTURES / "exercises", solutions_root=FIXTURES / "solutions")
