"""Fixtures of the unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance

from orchestration.settings import PROJECT_ROOT


@pytest.fixture
def project_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A DagsterInstance from the project's own dagster.yaml, in a scratch DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        yield instance
