"""Helpers for the engine's tests: student-like code written to files and loaded through
the shim, as the grader loads a submission."""
from __future__ import annotations

import textwrap
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

from grader.concurrency import Engine, load_module


@pytest.fixture
def student_code(tmp_path: Path) -> Callable[[str, str], ModuleType]:
    def write(name: str, source: str) -> ModuleType:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return load_module(name, path)

    return write


def engine(schedules: int = 300, **options: object) -> Engine:
    return Engine("test_engine", schedules=schedules, seconds=60, **options)  # type: ignore[arg-type]
