"""One small generated warehouse for every test of the GX gate (session scope).

150 customers × 5 days go through the real nightly Dagster job (load and per-delivery gate,
dbt build) with the GX project pointed at a copy of the committed one, so the job's own
validations and every test's stay out of the repository's Data Docs. The modules here
(test_gx_gate.py, test_data_docs_browser.py) share this one build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance

from orchestration.definitions import build_definitions
from orchestration.quality.gx_gate import GateResult, validate_all_raw
from orchestration.schedules.sensors import range_run_request
from orchestration.settings import Settings
from sample_data import GeneratorConfig, generate

CONFIG = GeneratorConfig(customers=150, days=5, end_date=date(2026, 1, 10), seed=5)


@dataclass(frozen=True)
class Nightly:
    """What the nightly job did on the generated deliveries."""

    settings: Settings
    success: bool
    checks: dict[tuple[str, str], bool]  # (asset key, check name) → passed
    steps: list[str] = field(default_factory=list)  # step keys, in the order they started


@pytest.fixture(scope="session")
def delivery_range() -> tuple[date, date]:
    """Every delivery date of CONFIG."""
    return CONFIG.end_date - timedelta(days=CONFIG.days - 1), CONFIG.end_date


@pytest.fixture(scope="session")
def project(scratch_gx_project: Path) -> Path:
    """The session's copy of the committed GX project (tests/conftest.py)."""
    return scratch_gx_project


@pytest.fixture(scope="session")
def nightly(
    tmp_path_factory: pytest.TempPathFactory, project: Path, delivery_range: tuple[date, date]
) -> Nightly:
    root = tmp_path_factory.mktemp("gx_warehouse")
    settings = Settings.under(root)
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    request = range_run_request(*delivery_range, run_key=None)
    with pytest.MonkeyPatch.context() as patch:
        # The job's GX checks validate into the copy (gx_gate.project_dir()).
        patch.setenv("CDW_GX_PROJECT_DIR", str(project))
        result = (
            build_definitions(settings)
            .resolve_job_def("nightly")
            .execute_in_process(
                instance=DagsterInstance.ephemeral(), tags=request.tags, raise_on_error=False
            )
        )
    return Nightly(
        settings=settings,
        success=result.success,
        checks={
            (e.asset_key.to_user_string(), e.check_name): e.passed
            for e in result.get_asset_check_evaluations()
        },
        steps=[
            e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START
        ],
    )


@pytest.fixture(scope="session")
def build(nightly: Nightly) -> Settings:
    """The settings of the built warehouse (the nightly job succeeded on it)."""
    assert nightly.success, nightly.checks
    return nightly.settings


@pytest.fixture(scope="session")
def clean(build: Settings, project: Path, delivery_range: tuple[date, date]) -> list[GateResult]:
    """Every raw suite on the clean warehouse, the run's whole range."""
    return validate_all_raw(build.warehouse_path, *delivery_range, project=project)
