"""Every validation gets its Data Docs page: GX titles a page by reading the run name as a
time, and a run name `2026-10-24..2026-10-24` (any range ending on the 24th to the 31st)
made it fail and skip the page (orchestration/quality/gx_gate.py, validation_run_name)."""

from __future__ import annotations

from datetime import date

import pytest
from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer

from orchestration.quality.gx_gate import validation_run_name


@pytest.mark.parametrize("last_day", [1, 9, 23, 24, 28, 31])
def test_every_run_name_gets_a_page_title(last_day: int) -> None:
    first, last = date(2026, 10, 1), date(2026, 10, last_day)
    name = validation_run_name(first, last)
    assert name == f"partitions_{first}..{last}"
    title = ValidationResultsPageRenderer()._determine_page_title(
        name, "20261208T005527.997742Z", "raw.events", "raw_events"
    )
    assert title == f"Validations / raw_events / raw.events / {name} / 20261208T005527.997742Z"


def test_the_bare_range_is_what_failed() -> None:
    with pytest.raises(ValueError, match="offset must be a timedelta"):
        ValidationResultsPageRenderer()._determine_page_title(
            "2026-10-24..2026-10-24", "20261208T005527.997742Z", "raw.events", "raw_events"
        )
