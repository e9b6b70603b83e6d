"""The dbt project's cut into Dagster steps (orchestration/dbt/steps.py) loses nothing.

Every seed, model and test is selected by exactly one step, with the same dbt selection
and indirect selection the steps run with — a test reading two steps' models would
otherwise be run by neither. And the Dagster graph orders the steps the way the refs do.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from dbt.cli.main import dbtRunner

from orchestration.dbt.project import DBT_PROJECT
from orchestration.dbt.steps import (
    INDIRECT_SELECTION,
    SOURCE_STEPS,
    WAREHOUSE_STEP,
    warehouse_exclude,
)
from orchestration.definitions import build_definitions
from orchestration.settings import Settings

BUILT = ("model", "seed", "snapshot", "test", "unit_test")


def dbt_ls(*args: str) -> list[str]:
    result = dbtRunner().invoke(
        [
            *("ls", "--quiet", "--output", "json", "--output-keys", "unique_id"),
            *("--project-dir", str(DBT_PROJECT.project_dir)),
            *("--profiles-dir", str(DBT_PROJECT.profiles_dir)),
            *(arg for kind in BUILT for arg in ("--resource-type", kind)),
            *args,
        ]
    )
    assert result.success, result.exception
    return sorted(json.loads(line)["unique_id"] for line in result.result)


@pytest.fixture(scope="module")
def steps_by_node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    steps: dict[str, list[str]] = defaultdict(list)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDW_WAREHOUSE_PATH", str(tmp_path_factory.mktemp("ls") / "w.duckdb"))
        for step in (*SOURCE_STEPS, WAREHOUSE_STEP):
            args = ["--indirect-selection", INDIRECT_SELECTION, "--select", *step.select.split()]
            if step is WAREHOUSE_STEP:
                args += ["--exclude", *warehouse_exclude().split()]
            for node in dbt_ls(*args):
                steps[node].append(step.name)
        everything = dbt_ls()
    return {node: steps.get(node, []) for node in everything}


def test_every_node_is_built_by_exactly_one_step(steps_by_node) -> None:
    assert len(steps_by_node) > 200  # seeds, models, data and unit tests
    lost_or_twice = {node: steps for node, steps in steps_by_node.items() if len(steps) != 1}
    assert lost_or_twice == {}


def test_each_source_step_reads_only_its_sources() -> None:
    definitions = build_definitions(Settings.from_env())
    raw_upstream = {}
    for assets_def in definitions.assets:
        name = getattr(getattr(assets_def, "node_def", None), "name", "")
        if name.startswith("dbt_"):
            raw_upstream[name] = sorted(
                {
                    key.path[-1]
                    for deps in assets_def.asset_deps.values()
                    for key in deps
                    if key.path[0] == "raw"
                }
            )
    assert raw_upstream == {
        "dbt_reference": [],
        "dbt_web_access": ["user_agents", "web_access"],
        "dbt_people": ["consent", "crm_customers", "events", "privacy_requests"],
        "dbt_commerce": ["orders", "products", "reviews"],
        "dbt_subscriptions": ["subscriptions"],
        "dbt_support": ["support_tickets"],
        "dbt_surveys": ["surveys"],
        "dbt_social": ["social"],
        "dbt_warehouse": [],  # staging only
    }
