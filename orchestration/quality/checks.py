"""The Great Expectations gate as Dagster asset checks on the raw assets.

Per source, one validation of `raw.<source>` (the run's delivery range) with the suite
`raw_<source>` yields two checks: `gx_critical` (blocking: a failed critical expectation
skips everything downstream of that source in the run) and `gx_warnings` (reported only).
The gate reads the warehouse by path; no other connection may be open meanwhile, which the
in-process executor (one step at a time) guarantees.
"""

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

# Suites that read another raw table besides their own (docs/quality.md).
EXTRA_DEPS = {"reviews": [AssetKey(["raw", "products"])]}


def run_range(tags: dict[str, str]) -> tuple[date | None, date | None]:
    """The delivery dates of this run (None, None: no partition, validate everything)."""
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    return (
        date.fromisoformat(first) if first else None,
        date.fromisoformat(last) if last else None,
    )


def build_gx_check(source: str) -> AssetChecksDefinition:
    key = AssetKey(["raw", source])
    extra = EXTRA_DEPS.get(source, [])

    @multi_asset_check(
        name=f"gx_raw_{source}",
        specs=[
            AssetCheckSpec(
                "gx_critical",
                asset=key,
                blocking=True,
                additional_deps=extra,
                description=f"Critical expectations of suite raw_{source} (blocking).",
            ),
            AssetCheckSpec(
                "gx_warnings",
                asset=key,
                additional_deps=extra,
                description=f"Warning expectations of suite raw_{source} (reported only).",
            ),
        ],
    )
    def _check(context: AssetCheckExecutionContext, warehouse: DuckDBResource):
        from orchestration.quality.gx_gate import validate_raw  # importing GX takes seconds

        first, last = run_range(dict(context.run.tags))
        result = validate_raw(Path(warehouse.database), source, first, last)
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

    return _check


gx_raw_checks = [build_gx_check(s.name) for s in SOURCES]
