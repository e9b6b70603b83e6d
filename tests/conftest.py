"""Shared fixtures. The real external data lives in ../shared/external (see DESIGN.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT

EXTERNAL = PROJECT_ROOT.parent / "shared" / "external"


@pytest.fixture(scope="session")
def external() -> Path:
    if not EXTERNAL.is_dir():
        pytest.fail(f"real external data not found at {EXTERNAL} (../shared beside the repo)")
    return EXTERNAL
