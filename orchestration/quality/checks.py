"""The Great Expectations gate as Dagster asset checks on the raw and staging assets.

Raw: per source, one validation of `raw.<source>` (the run's delivery range) with the suite
`raw_<source>` yields two checks: `gx_critical` (blocking: a failed critical expectation
skips everything downstream of that source in the run) and `gx_warnings` (reported only).

Staging: the same two checks on every dbt staging view that has a suite
(`staging/<model>`, suite named like the model, validated whole). Dagster runs them after
the dbt step that builds the model, in the same run; a failed `gx_critical` skips every
later step downstream of it (models built inside the same `dbt build` step are not stopped
by it, see docs/quality.md).

The gate reads the warehouse by path; no other connection may be open meanwhile, which the
in-process executor (one step at a time) guarantees. GX is imported inside the check
functions only (importing it takes seconds), so loading the definitions stays fast.
"""

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)
from dagster_duckdb import DuckDBResource

from orchestration.ingest.sources import SOURCES
from orchestration.settings import PROJECT_ROOT

# Suites that read another raw table besides their own (docs/quality.md).
EXTRA_DEPS = {"reviews": [AssetKey(["raw", "products"])]}
STAGING_SCHEMA = "staging"
COMMITTED_SUITES = PROJECT_ROOT / "expectations" / "expectations"


def run_range(tags: dict[str, str]) -> tuple[date | None, date | None]:
    """The delivery dates of this run (None, None: no partition, validate everything)."""
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    return (
        date.fromisoformat(first) if first else None,
        date.fromisoformat(last) if last else None,
    )


def _specs(key: AssetKey, suite: str, extra: list[AssetKey]) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            "gx_critical",
            asset=key,
            blocking=True,
            additional_deps=extra,
            description=f"Critical expectations of suite {suite} (blocking).",
        ),
        AssetCheckSpec(
            "gx_warnings",
            asset=key,
            additional_deps=extra,
            description=f"Warning expectations of suite {suite} (reported only).",
        ),
    ]


def _results(context: AssetCheckExecutionContext, key: AssetKey, result) -> Iterator:
    """`gx_critical` and `gx_warnings` from one GateResult (counts only: no data values)."""
    context.log.info(result.summary())
    docs = str(result.data_docs_path) if result.data_docs_path else "-"
    yield AssetCheckResult(
        check_name="gx_critical",
        asset_key=key,
        passed=result.passed_critical,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "failed": MetadataValue.json([o.label for o in result.failed_critical]),
            "gate": MetadataValue.json(result.metadata()),
            "data_docs": MetadataValue.path(docs),
        },
    )
    yield AssetCheckResult(
        check_name="gx_warnings",
        asset_key=key,
        passed=result.passed_all,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "failed": MetadataValue.json([o.label for o in result.failed_warnings]),
            "data_docs": MetadataValue.path(docs),
        },
    )


def build_gx_check(source: str) -> AssetChecksDefinition:
    key = AssetKey(["raw", source])
    suite = f"raw_{source}"

    @multi_asset_check(
        name=f"gx_raw_{source}", specs=_specs(key, suite, EXTRA_DEPS.get(source, []))
    )
    def _check(context: AssetCheckExecutionContext, warehouse: DuckDBResource):
        from orchestration.quality.gx_gate import validate_raw  # importing GX takes seconds

        first, last = run_range(dict(context.run.tags))
        result = validate_raw(Path(warehouse.database), source, first, last)
        yield from _results(context, key, result)

    return _check


def committed_staging_models(suites_dir: Path = COMMITTED_SUITES) -> list[str]:
    """Models of the committed suites that validate a `staging.` view, in name order.

    Read from the suite JSON (`meta.cdw.table`) rather than gx_suites.py, which imports GX;
    the tests check that this agrees with gx_suites.STAGING_SUITES.
    """
    models = []
    for path in sorted(suites_dir.glob("*.json")):
        suite = json.loads(path.read_text())
        table = ((suite.get("meta") or {}).get("cdw") or {}).get("table") or ""
        schema, _, model = table.partition(".")
        if schema == STAGING_SCHEMA and model and suite.get("name") == model:
            models.append(model)
    return models


def build_gx_staging_check(model: str) -> AssetChecksDefinition:
    key = AssetKey([STAGING_SCHEMA, model])

    @multi_asset_check(name=f"gx_staging_{model}", specs=_specs(key, model, []))
    def _check(context: AssetCheckExecutionContext, warehouse: DuckDBResource):
        from orchestration.quality.gx_gate import validate_staging  # importing GX takes seconds

        # A view, validated whole whatever the run's range (docs/quality.md).
        result = validate_staging(Path(warehouse.database), model)
        yield from _results(context, key, result)

    return _check


gx_raw_checks = [build_gx_check(s.name) for s in SOURCES]
gx_staging_checks = [build_gx_staging_check(m) for m in committed_staging_models()]
