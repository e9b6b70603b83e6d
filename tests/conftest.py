"""Shared fixtures. The real external data lives in ../shared/external (see DESIGN.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT

EXTERNAL = PROJECT_ROOT.parent / "shared" / "external"


@pytest.fixture(scope="session")
def external() -> Path:
    if not EXTERNAL.is_dir():
        pytest.fail(f"real external data not found at {EXTERNAL} (../shared beside the repo)")
    return EXTERNAL


@pytest.fixture(scope="session", autouse=True)
def scratch_gx_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test validates into its own copy of the GX project: validation results and
    Data Docs of test data never land in the project's expectations/uncommitted/."""
    from orchestration.quality import gx_project

    copy = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(gx_project.PROJECT_DIR, copy, ignore=shutil.ignore_patterns("uncommitted"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDW_GX_PROJECT_DIR", str(copy))
        yield copy
