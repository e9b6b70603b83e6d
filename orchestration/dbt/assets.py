"""dbt seeds, models, snapshots and tests as Dagster assets and asset checks (dagster-dbt).

The whole project is one `@dbt_assets` definition and one `dbt build` per run, downstream of
the raw assets it reads through the dbt sources (`raw/<table>`); dbt's own DAG decides the
order, and a failing dbt test stops only that model's descendants (dbt build's own rule).
Bad deliveries never reach it: the per-delivery gate holds them back in raw (the dbt
sources read the `visible.<source>` views), so a bad delivery blocks nothing but itself.
"""

import importlib.metadata
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, OpExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    dbt_assets,
)
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from orchestration.dbt.build_inputs import (
    WITHOUT_UNIT_TESTS,
    BuildPlan,
    build_inputs_key,
    last_build_key,
    plan_build,
    record_build,
)
from orchestration.dbt.project import DBT_PROJECT_DIR, PARTIAL_PARSE, ensure_manifest
from orchestration.dbt.target_dirs import prune_invocation_dirs
from orchestration.partitions import FULL_REFRESH_TAG
from orchestration.settings import Settings
from privacy import key_environment


class Translator(DagsterDbtTranslator):
    """Raw sources map to the ingest assets `raw/<table>`; models to `<schema>/<name>`;
    groups follow the dbt folder (staging, intermediate, marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


TRANSLATOR = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_dbt_assets(settings: Settings) -> list[AssetsDefinition]:
    manifest_path = ensure_manifest(settings)

    @dbt_assets(manifest=manifest_path, name="dbt_build", dagster_dbt_translator=TRANSLATOR)
    def dbt_build(
        context: AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource
    ) -> Iterator[Any]:
        # dbt reads the warehouse path from the environment (profiles.yml): the same file
        # the ingest assets wrote, released by them before this step starts.
        os.environ["CDW_WAREHOUSE_PATH"] = warehouse.database
        full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"
        # Only a build of the whole project is skipped, trimmed or recorded (a subset from
        # the UI leaves other models as they were, and builds what was selected).
        whole = not context.is_subset
        with warehouse.get_connection() as con:
            key = build_inputs_key(con, manifest_path, settings.pseudonym_key.key_id)
            plan = plan_build(key, last_build_key(con), full_refresh=full_refresh)
        if not whole:
            refresh = ("--full-refresh",) if full_refresh else ()
            plan = BuildPlan(False, (*refresh, *WITHOUT_UNIT_TESTS), "a subset")
        command = "dbt build skipped" if plan.skip else " ".join(["dbt build", *plan.args])
        context.log.info(f"{command}: {plan.reason} (orchestration/dbt/build_inputs.py)")
        if settings.pseudonym_key.is_development:  # privacy/pseudonyms.py, docs/privacy.md
            context.log.warning(settings.pseudonym_key.describe())
        if plan.skip:
            return
        # Assets left out of the build (the seeds, when the project did not change) are not
        # materialized this run: dagster-dbt's outputs are optional (the multi-asset can
        # subset), so the run succeeds and the models downstream still build.
        with key_environment(settings.pseudonym_key):  # dbt reads CDW_PSEUDONYM_KEY
            invocation = dbt.cli(["build", *plan.args], context=context)
        try:
            yield from invocation.stream()
        finally:
            removed = prune_invocation_dirs(invocation.target_path.parent)
            if removed:
                context.log.info(
                    f"removed {len(removed)} older dbt invocation folder(s) of "
                    f"{invocation.target_path.parent} (orchestration/dbt/target_dirs.py)"
                )
        if whole:
            with warehouse.get_connection() as con:  # dbt's subprocess released the file
                record_build(con, key, context.run.run_id)

    return [dbt_build]


class InstalledDbtCliResource(DbtCliResource):
    """DbtCliResource for the dbt-core installed in this interpreter's environment, writing
    into the warehouse's own dbt target folder.

    dagster-dbt learns the dbt version by running `dbt --version`, a dbt start-up of 2-3 s
    on every invocation (ten per nightly run). The executable is this environment's, so the
    installed dbt-core package says the same. This overrides a private member of dagster-dbt
    0.29 (`_cli_version`): recheck it when upgrading.

    dagster-dbt puts each invocation's folder under $DBT_TARGET_PATH (default the project's
    `target/`, shared by every warehouse on the checkout) and seeds it with the
    partial-parse file found there. Here each invocation gets a folder under `target_dir`
    (`Settings.dbt_target_dir`), named as dagster-dbt names them, seeded with that folder's
    partial-parse file (orchestration/dbt/project.py made it for this warehouse); dbt logs
    into the same folder (dagster-dbt sets DBT_LOG_PATH to it).
    """

    target_dir: str

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: OpExecutionContext | AssetExecutionContext | None = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        if target_path is None:
            name = uuid.uuid4().hex[:7]
            if context is not None:
                op = context.op_execution_context
                name = f"{op.op.name}-{op.run.run_id[:7]}-{name}"
            target_path = Path(self.target_dir) / name
        partial_parse = Path(self.target_dir) / PARTIAL_PARSE
        if partial_parse.exists() and not (target_path / PARTIAL_PARSE).exists():
            target_path.mkdir(parents=True, exist_ok=True)
            shutil.copy(partial_parse, target_path / PARTIAL_PARSE)
        return super().cli(
            args,
            raise_on_error=raise_on_error,
            manifest=manifest,
            dagster_dbt_translator=dagster_dbt_translator,
            context=context,
            target_path=target_path,
        )


def dbt_resource(settings: Settings) -> DbtCliResource:
    # The dbt of this interpreter's environment, whether or not the venv is on PATH.
    return InstalledDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
        target_dir=str(settings.dbt_target_dir),
        # dbt.log at info, not debug: the debug lines (every query's SQL, every connection)
        # cost ~15% of dbt's CPU in a build of 300 small tests. The run's own log keeps
        # every node's status; `dbt --debug` from a shell shows the SQL.
        global_config_flags=["--log-level-file", "info"],
    )
