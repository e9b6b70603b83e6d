"""One Dagster asset per landing source, partitioned by delivery date.

Every asset uses a single-run backfill policy, so loading a date range is one run, not one
run per day. Within it, consecutive dates are loaded in batches of bounded size (all of a
small source's range at once; a big source a few days at a time), progress logged per batch.

Each asset then judges what it loaded: the Great Expectations gate validates the run's
deliveries of that source (orchestration/quality/delivery_gate.py) and writes a verdict per
delivery to `state.delivery_verdicts`. A delivery that fails a critical expectation is held
(invisible to dbt through the `visible.<source>` views) and the asset's `gx_critical` check
fails, naming it — but nothing downstream is skipped: every other delivery, source, model
and mart builds on the accepted data.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
    asset,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from orchestration.ingest.freshness import render_freshness, source_freshness
from orchestration.ingest.landing import batch_deliveries, files_for
from orchestration.ingest.loader import changed_deliveries, ensure_tables, load_deliveries
from orchestration.ingest.sources import SOURCES, Kind, Source
from orchestration.ingest.summary import render, summarise
from orchestration.ingest.user_agents import update_user_agents
from orchestration.partitions import RELOAD_TAG, delivery_dates, partition_dates
from orchestration.quality.delivery_gate import DeliveryVerdict, judge_deliveries, record_verdicts
from orchestration.resources import LandingResource
from orchestration.settings import Settings
from orchestration.state.holds import DeliveryStatus, delivery_statuses
from orchestration.state.schema import NEVER_HELD, ensure_state

GROUP = "raw"


def _schema(source: Source) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(f.column, "JSON" if f.kind is Kind.JSON else "VARCHAR", f.description)
            for f in source.fields
        ]
    )


def build_ingest_assets(
    settings: Settings,
) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The raw assets (one per source), the user-agent lookup and the run summary, on the
    delivery dates of `settings`, with the line-accounting checks."""
    partitions = delivery_dates(settings)
    assets = [build_raw_asset(s, partitions, settings.gx_project_dir) for s in SOURCES]
    assets += [build_user_agents(partitions), build_load_summary(partitions)]
    return assets, [build_accounting_check(s) for s in SOURCES]


def build_raw_asset(
    source: Source, partitions: PartitionsDefinition, gx_project_dir: Path
) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", source.name]),
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb"},
        description=f"{source.description} Landing: `landing/{source.name}/<date>/`. "
        "Bad records go to raw.quarantine with their reason.",
        metadata={
            "dagster/column_schema": _schema(source),
            "dagster/table_name": source.table,
            "format": source.format.value,
        },
        check_specs=_gate_specs(source),
    )
    def _load(
        context: AssetExecutionContext, warehouse: DuckDBResource, landing: LandingResource
    ) -> Iterator[MaterializeResult | AssetCheckResult]:
        dates = partition_dates(context.partition_keys)
        loaded_at = datetime.now(UTC)
        totals: Counter[str] = Counter()
        with warehouse.get_connection() as con:
            ensure_tables(con)
            ensure_state(con)
            delivered = [(d, files_for(landing.path, source.name, d)) for d in dates]
            if context.run.tags.get(RELOAD_TAG) != "true":
                delivered = changed_deliveries(con, source, delivered)
            with_files = [(d, files) for d, files in delivered if files]
            batches = batch_deliveries(delivered)
            for number, batch in enumerate(batches, start=1):
                audits = load_deliveries(con, source, batch, loaded_at, context.run.run_id)
                for a in audits:
                    totals.update(
                        files=1,
                        records=a.records_in,
                        loaded=a.raw_rows,
                        quarantined=a.quarantined_rows,
                    )
                context.log.info(
                    f"{source.name} {batch[0][0]} .. {batch[-1][0]}: "
                    f"{len(audits)} file(s), {sum(a.records_in for a in audits):,} records, "
                    f"{sum(a.quarantined_rows for a in audits):,} quarantined "
                    f"[batch {number}/{len(batches)}]"
                )
            loaded = [
                d
                for (d,) in con.execute(
                    "SELECT DISTINCT _partition FROM raw.load_audit WHERE source = ?",
                    [source.name],
                ).fetchall()
            ]
            (reasons,) = con.execute(
                """
                SELECT coalesce(string_agg(reason || ': ' || n, ', ' ORDER BY reason), '')
                FROM (SELECT reason, count(*) AS n FROM raw.quarantine
                      WHERE source = ? AND _partition BETWEEN ? AND ? GROUP BY reason)
                """,
                [source.name, dates[0], dates[-1]],
            ).fetchone()
        context.log.info(
            f"{source.name}: {len(with_files)} of {len(dates)} days had new or changed deliveries; "
            f"{totals['records']:,} records → {totals['loaded']:,} loaded, "
            f"{totals['quarantined']:,} quarantined"
        )
        # The gate opens the file itself: the loading connection is closed by now.
        verdicts, results = judge_deliveries(
            Path(warehouse.database),
            source.name,
            [d for d, _ in with_files],
            loaded,
            project=gx_project_dir,
        )
        for result in results:
            context.log.info(result.summary())
        with warehouse.get_connection() as con:
            record_verdicts(con, verdicts, context.run.run_id)
            held = [s for s in delivery_statuses(con, ("held",)) if s.source == source.name]
        yield MaterializeResult(
            metadata={
                "days_with_deliveries": len(with_files),
                "files": totals["files"],
                "records_in": totals["records"],
                "rows_loaded": totals["loaded"],
                "rows_quarantined": totals["quarantined"],
                "quarantine_reasons": reasons or "none",
                "dagster/partition_row_count": totals["loaded"],
                "deliveries_held": len(held),
            }
        )
        yield from _gate_results(source, verdicts, held, results)

    return _load


def _gate_specs(source: Source) -> list[AssetCheckSpec]:
    held = (
        "reported, never held (legal deadlines)"
        if source.name in NEVER_HELD
        else "a failing delivery is held back"
    )
    return [
        AssetCheckSpec(
            "gx_critical",
            asset=AssetKey(["raw", source.name]),
            description=f"Critical expectations of suite raw_{source.name} on each delivery "
            f"of the run ({held}; other deliveries and everything downstream still build).",
        ),
        AssetCheckSpec(
            "gx_warnings",
            asset=AssetKey(["raw", source.name]),
            description=f"Warning expectations of suite raw_{source.name} (reported only).",
        ),
    ]


def _gate_results(
    source: Source,
    verdicts: list[DeliveryVerdict],
    held: list[DeliveryStatus],
    results: list,
) -> Iterator[AssetCheckResult]:
    """The gate as the asset's two checks: counts, labels and dates only (no values).

    `gx_critical` fails while any delivery of the source is held (whichever run judged it:
    a hold stays red until it is re-delivered or released) and when a delivery judged in
    this run failed a critical expectation (for consent and privacy requests, which are
    never held, that is the only way it shows)."""
    key = AssetKey(["raw", source.name])
    failed = [v for v in verdicts if not v.passed_critical and not v.held]
    docs = next((str(r.data_docs_path) for r in reversed(results) if r.data_docs_path), "-")
    yield AssetCheckResult(
        check_name="gx_critical",
        asset_key=key,
        passed=not failed and not held,
        severity=AssetCheckSeverity.ERROR,
        description=(
            "; ".join(
                [f"{h.delivery_date} held: {', '.join(h.critical_failed)}" for h in held]
                + [f"{v.delivery_date} not held: {', '.join(v.critical_failed)}" for v in failed]
            )
            or None
        ),
        metadata={
            "deliveries_judged": len(verdicts),
            "held": MetadataValue.json([str(h.delivery_date) for h in held]),
            "failed_not_held": MetadataValue.json(
                {str(v.delivery_date): list(v.critical_failed) for v in failed}
            ),
            "validations": len(results),
            "data_docs": MetadataValue.path(docs),
        },
    )
    warned = [v for v in verdicts if v.warnings]
    yield AssetCheckResult(
        check_name="gx_warnings",
        asset_key=key,
        passed=not warned,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "failed": MetadataValue.json(sorted({w for v in warned for w in v.warnings})),
            "data_docs": MetadataValue.path(docs),
        },
    )


def build_accounting_check(source: Source):
    @asset_check(
        asset=AssetKey(["raw", source.name]),
        name="line_accounting",
        description="Every landed record is a raw row, a quarantine row or a suppression: "
        "records in (raw.load_audit) = rows counted in raw and quarantine, per file. A file "
        "that was not read has no records and is listed by name (files_not_read).",
    )
    def _check(warehouse: DuckDBResource) -> AssetCheckResult:
        with warehouse.get_connection() as con:
            rows = con.execute(
                f"""
                WITH raw_rows AS (
                    SELECT _partition, _file, count(*) AS n FROM {source.table} GROUP BY ALL
                ),
                quarantined AS (
                    SELECT _partition, _file, count(*) AS n FROM raw.quarantine
                    WHERE source = ? GROUP BY ALL
                )
                SELECT a._file, a.records_in, coalesce(r.n, 0), coalesce(q.n, 0),
                       a.suppressed_rows
                FROM raw.load_audit a
                LEFT JOIN raw_rows r USING (_partition, _file)
                LEFT JOIN quarantined q USING (_partition, _file)
                WHERE a.source = ?
                  AND a.records_in <> coalesce(r.n, 0) + coalesce(q.n, 0) + a.suppressed_rows
                ORDER BY a._file
                """,
                [source.name, source.name],
            ).fetchall()
            not_read = con.execute(
                "SELECT _file, refused_reason FROM raw.load_audit "
                "WHERE source = ? AND refused_reason IS NOT NULL ORDER BY _file",
                [source.name],
            ).fetchall()
        return AssetCheckResult(
            passed=not rows,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "unbalanced_files": len(rows),
                "first_unbalanced": MetadataValue.json(
                    [
                        {"file": f, "in": i, "raw": r, "quarantined": q, "suppressed": s}
                        for f, i, r, q, s in rows[:20]
                    ]
                ),
                "files_not_read": MetadataValue.json({f: reason for f, reason in not_read}),
            },
        )

    return _check


def build_user_agents(partitions: PartitionsDefinition) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", "user_agents"]),
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[AssetKey(["raw", "web_access"]), AssetKey(["raw", "events"])],
        kinds={"duckdb"},
        description="Lookup of every distinct user agent seen in web_access and events: "
        "browser, OS, device, and whether it is a crawler (ua-parser + crawlerdetect), "
        "parsed once each.",
    )
    def user_agents(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
        return _update_user_agents(context, warehouse)

    return user_agents


def _update_user_agents(
    context: AssetExecutionContext, warehouse: DuckDBResource
) -> MaterializeResult:
    dates = partition_dates(context.partition_keys)
    with warehouse.get_connection() as con:
        added = update_user_agents(con, dates[0], dates[-1])
        total, crawlers = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_crawler) FROM raw.user_agents"
        ).fetchone()
    context.log.info(f"user agents: {added:,} new, {total:,} known, {crawlers:,} crawlers")
    return MaterializeResult(
        metadata={"new_user_agents": added, "user_agents": total, "crawlers": crawlers}
    )


def build_load_summary(partitions: PartitionsDefinition) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", "load_summary"]),
        group_name=GROUP,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[AssetKey(["raw", s.name]) for s in SOURCES],
        kinds={"duckdb"},
        description="The run summary: per source, files, records, rows loaded, rows "
        "quarantined by reason (from raw.load_audit and raw.quarantine; counts only, no "
        "personal data).",
    )
    def load_summary(
        context: AssetExecutionContext, warehouse: DuckDBResource
    ) -> MaterializeResult:
        return _summarise_run(context, warehouse)

    return load_summary


def _summarise_run(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
    dates = partition_dates(context.partition_keys)
    today = datetime.now(UTC).date()
    with warehouse.get_connection() as con:
        summaries = summarise(con, dates[0], dates[-1], [s.name for s in SOURCES])
        freshness = source_freshness(con, today)
    text = render(summaries, dates[0], dates[-1], warehouse.database)
    context.log.info("\n" + text)
    stale = [f for f in freshness if not f.fresh]
    (context.log.warning if stale else context.log.info)(render_freshness(freshness, today))
    return MaterializeResult(
        metadata={
            "summary": MetadataValue.md(f"```\n{text}\n```"),
            "not_fresh": MetadataValue.json({f.source: f.verdict for f in stale}),
            "records_in": sum(s.records for s in summaries),
            "rows_loaded": sum(s.loaded for s in summaries),
            "rows_quarantined": sum(s.quarantined for s in summaries),
            "balanced": all(s.balanced for s in summaries),
            "warehouse": warehouse.database,
        }
    )
