"""Crash safety (issue 18, item 4; docs/reliability.md): a night killed with SIGKILL at a
point of loading and of dbt's identity models, then run again, leaves the warehouse a run
that was never killed leaves, with the killed run marked failed. `cdw chaos --kills 20`
does the same at random points."""

from __future__ import annotations

import pytest

from orchestration.chaos import BUILT, Workspace, differences, kill_when, prepare

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base_and_reference(tmp_path_factory: pytest.TempPathFactory):
    scratch = tmp_path_factory.mktemp("chaos")
    base, _ = prepare(scratch, customers=40, days=4, seed=11)
    reference = base.copy_to(scratch / "reference")
    assert reference.run("run", log=scratch / "reference.log") in BUILT
    return scratch, base, reference.outcome()


@pytest.mark.parametrize(
    "marker",
    [
        "Loading deliveries",  # start-up: before its Dagster run exists
        "raw_deliveries - events",  # loading: the first sources are in, the rest not yet
        "model intermediate.int_identity__observations",  # dbt, the identity models
    ],
)
def test_a_killed_night_converges_when_run_again(base_and_reference, marker: str) -> None:
    scratch, base, expected = base_and_reference
    name = marker.split()[-1].split(".")[-1]
    work: Workspace = base.copy_to(scratch / f"kill-{name}")
    log = scratch / f"kill-{name}.log"
    log.touch()
    runs_before = work.run_count()
    assert kill_when(work.start("run", log=log), log, marker, timeout=600), "not reached"
    created = work.run_count() > runs_before
    assert work.run("run", log=log) in BUILT
    output = log.read_text()
    # the rerun found the dead run, if the killed one had got as far as creating it …
    assert ("marked failed in Dagster" in output) == created
    assert created == (marker != "Loading deliveries")
    got = work.outcome()
    assert got.unfinished_runs == 0  # … and no run is left shown as started
    assert differences(expected, got) == []
    assert sum(len(t) for t in got.fingerprints.values()) > 20  # something was compared


def test_the_phase_of_a_kill_is_read_from_the_output() -> None:
    from orchestration.chaos import phase_of

    assert phase_of("") == "start-up"
    assert phase_of("Loading deliveries …\n… raw_deliveries - web_access …") == "loading"
    assert phase_of("… raw_deliveries - gate: judging 12 delivery(ies) with …") == "validation"
    text = "… dbt build: … START sql table model intermediate.int_identity__edges"
    assert phase_of(text) == "dbt identity"
