"""The raw layer as one Dagster step: one asset per landing source, partitioned by delivery
date, plus the user-agent lookup and the run summary, all materialized by one multi-asset.

One step, not one per source: each Dagster step costs its own bookkeeping, and each Great
Expectations validation rendered its Data Docs on its own (about a second each). Here the
step loads every selected source (consecutive dates in batches of bounded size; unchanged
deliveries skipped), then judges what it loaded: the gate validates the run's deliveries
of each source (orchestration/quality/delivery_gate.py), renders every result's Data Docs
page in one pass, and writes a verdict per delivery to `state.delivery_verdicts`. A
delivery that fails a critical expectation is held (invisible to dbt through the
`visible.<source>` views) and the source's `gx_critical` check fails, naming it — but
nothing downstream is skipped: every other delivery, source, model and mart builds on the
accepted data. The assets are subsettable (`can_subset`): materializing one source from
the UI loads and judges only that source. A single-run backfill policy makes a date range
one run, not one run per day.
"""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from orchestration.ingest.freshness import render_freshness, source_freshness
from orchestration.ingest.landing import batch_deliveries, files_for
from orchestration.ingest.loader import (
    changed_deliveries,
    ensure_tables,
    load_deliveries,
    unvalidated_dates,
)
from orchestration.ingest.sources import SOURCES, Kind, Source
from orchestration.ingest.summary import render, summarise
from orchestration.ingest.user_agents import update_user_agents
from orchestration.partitions import RELOAD_TAG, delivery_dates, partition_dates
from orchestration.quality.delivery_gate import DeliveryVerdict, judge_sources, record_verdicts
from orchestration.resources import LandingResource
from orchestration.settings import Settings
from orchestration.state.holds import DeliveryStatus, delivery_statuses
from orchestration.state.schema import NEVER_HELD, ensure_state

GROUP = "raw"
USER_AGENTS = AssetKey(["raw", "user_agents"])
LOAD_SUMMARY = AssetKey(["raw", "load_summary"])


def raw_key(source: Source) -> AssetKey:
    return AssetKey(["raw", source.name])


def _schema(source: Source) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(f.column, "JSON" if f.kind is Kind.JSON else "VARCHAR", f.description)
            for f in source.fields
        ]
    )


def build_ingest_assets(settings: Settings) -> list[AssetsDefinition]:
    """The raw layer on the delivery dates of `settings`, judged with its GX project (results
    and Data Docs in the warehouse's artefacts folder)."""
    return [
        build_raw_deliveries(
            delivery_dates(settings),
            settings.gx_project_dir,
            settings.first_delivery_date,
            settings.gx_artefacts_dir,
        )
    ]


def _source_spec(source: Source) -> AssetSpec:
    return AssetSpec(
        raw_key(source),
        group_name=GROUP,
        kinds={"duckdb"},
        skippable=True,
        description=f"{source.description} Landing: `landing/{source.name}/<date>/`. "
        "Bad records go to raw.quarantine with their reason.",
        metadata={
            "dagster/column_schema": _schema(source),
            "dagster/table_name": source.table,
            "format": source.format.value,
        },
    )


def _specs() -> list[AssetSpec]:
    return [
        *(_source_spec(s) for s in SOURCES),
        AssetSpec(
            USER_AGENTS,
            group_name=GROUP,
            kinds={"duckdb"},
            skippable=True,
            deps=[AssetKey(["raw", "web_access"]), AssetKey(["raw", "events"])],
            description="Lookup of every distinct user agent seen in web_access and events: "
            "browser, OS, device, and whether it is a crawler (ua-parser + crawlerdetect), "
            "parsed once each.",
        ),
        AssetSpec(
            LOAD_SUMMARY,
            group_name=GROUP,
            kinds={"duckdb"},
            skippable=True,
            deps=[raw_key(s) for s in SOURCES],
            description="The run summary: per source, files, records, rows loaded, rows "
            "quarantined by reason (from raw.load_audit and raw.quarantine; counts only, no "
            "personal data), and each source's freshness.",
        ),
    ]


@dataclass
class SourceLoad:
    """What the step loaded of one source: the deliveries to judge and the totals."""

    judged: list[date] = field(default_factory=list)  # dates with new or changed files
    loaded: list[date] = field(default_factory=list)  # every date of the source in raw
    totals: Counter[str] = field(default_factory=Counter)
    reasons: str = ""


def build_raw_deliveries(
    partitions: PartitionsDefinition,
    gx_project_dir: Path,
    first_delivery_date: date,
    gx_artefacts_dir: Path | None = None,
) -> AssetsDefinition:
    """`first_delivery_date` bounds the plausible range of timestamps (the loader
    quarantines earlier ones as `implausible_timestamp`)."""

    @multi_asset(
        name="raw_deliveries",
        specs=_specs(),
        check_specs=[c for s in SOURCES for c in _check_specs(s)],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=True,
    )
    def raw_deliveries(
        context: AssetExecutionContext, warehouse: DuckDBResource, landing: LandingResource
    ) -> Iterator[MaterializeResult | AssetCheckResult]:
        selected = context.selected_asset_keys
        sources = [s for s in SOURCES if raw_key(s) in selected]
        dates = partition_dates(context.partition_keys)
        reload = context.run.tags.get(RELOAD_TAG) == "true"
        started = time.perf_counter()
        with warehouse.get_connection() as con:
            ensure_tables(con)
            ensure_state(con)
            loads = {
                s.name: _load_source(
                    context, con, landing.path, s, dates, reload, first_delivery_date
                )
                for s in sources
            }
        loading = time.perf_counter() - started
        judged = sum(len(load.judged) for load in loads.values())
        context.log.info(f"gate: judging {judged} delivery(ies) with Great Expectations")
        # The gate opens the file itself: the loading connection is closed by now.
        verdicts, results = _judge(
            context, Path(warehouse.database), sources, loads, gx_project_dir, gx_artefacts_dir
        )
        context.log.info(
            f"load {loading:.1f}s, gate {time.perf_counter() - started - loading:.1f}s "
            f"({len(results)} validation(s) of {len(sources)} source(s))"
        )
        with warehouse.get_connection() as con:
            record_verdicts(con, verdicts, context.run.run_id)
            held = delivery_statuses(con, ("held",))
            unbalanced = {s.name: unbalanced_files(con, s, dates) for s in sources}
            not_read = {s.name: _files_not_read(con, s, dates) for s in sources}
            if USER_AGENTS in selected:
                user_agents = _update_user_agents(context, con, dates)
            if LOAD_SUMMARY in selected:
                summary = _summarise_run(context, con, dates, warehouse.database)
        for source in sources:
            load = loads[source.name]
            source_verdicts = [v for v in verdicts if v.source == source.name]
            source_held = [h for h in held if h.source == source.name]
            yield MaterializeResult(
                asset_key=raw_key(source),
                metadata={
                    "days_with_deliveries": len(load.judged),
                    "files": load.totals["files"],
                    "records_in": load.totals["records"],
                    "rows_loaded": load.totals["loaded"],
                    "rows_quarantined": load.totals["quarantined"],
                    "quarantine_reasons": load.reasons or "none",
                    "dagster/partition_row_count": load.totals["loaded"],
                    "deliveries_held": len(source_held),
                },
            )
            source_results = [r for r in results if r.suite == f"raw_{source.name}"]
            checks = [
                *_gate_results(source, source_verdicts, source_held, source_results),
                _accounting_result(source, unbalanced[source.name], not_read[source.name]),
            ]
            yield from (
                c
                for c in checks
                if AssetCheckKey(raw_key(source), c.check_name) in context.selected_asset_check_keys
            )
        if USER_AGENTS in selected:
            yield user_agents
        if LOAD_SUMMARY in selected:
            yield summary

    return raw_deliveries


def _load_source(
    context: AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: Source,
    dates: list[date],
    reload: bool,
    first_delivery_date: date,
) -> SourceLoad:
    loaded_at = datetime.now(UTC)
    load = SourceLoad()
    delivered = [(d, files_for(landing_dir, source.name, d)) for d in dates]
    if not reload:
        delivered = changed_deliveries(con, source, delivered)
    # Loaded by an earlier run that ended before its gate (killed, crashed): judged now.
    unjudged = unvalidated_dates(con, source.name, dates)
    load.judged = sorted({d for d, files in delivered if files} | set(unjudged))
    batches = batch_deliveries(delivered)
    for number, batch in enumerate(batches, start=1):
        audits = load_deliveries(
            con, source, batch, loaded_at, context.run.run_id, first_delivery_date
        )
        for a in audits:
            load.totals.update(
                files=1, records=a.records_in, loaded=a.raw_rows, quarantined=a.quarantined_rows
            )
        context.log.info(
            f"{source.name} {batch[0][0]} .. {batch[-1][0]}: "
            f"{len(audits)} file(s), {sum(a.records_in for a in audits):,} records, "
            f"{sum(a.quarantined_rows for a in audits):,} quarantined "
            f"[batch {number}/{len(batches)}]"
        )
    load.loaded = [
        d
        for (d,) in con.execute(
            "SELECT DISTINCT _partition FROM raw.load_audit WHERE source = ?", [source.name]
        ).fetchall()
    ]
    (load.reasons,) = con.execute(
        """
        SELECT coalesce(string_agg(reason || ': ' || n, ', ' ORDER BY reason), '')
        FROM (SELECT reason, count(*) AS n FROM raw.quarantine
              WHERE source = ? AND _partition BETWEEN ? AND ? GROUP BY reason)
        """,
        [source.name, dates[0], dates[-1]],
    ).fetchone()
    totals = load.totals
    context.log.info(
        f"{source.name}: {len(load.judged)} of {len(dates)} days had new or changed deliveries; "
        f"{totals['records']:,} records → {totals['loaded']:,} loaded, "
        f"{totals['quarantined']:,} quarantined"
    )
    return load


def _judge(
    context: AssetExecutionContext,
    warehouse_path: Path,
    sources: list[Source],
    loads: dict[str, SourceLoad],
    gx_project_dir: Path,
    gx_artefacts_dir: Path | None = None,
) -> tuple[list[DeliveryVerdict], list]:
    """Every source's verdicts (one Great Expectations session), then every validation's
    Data Docs page in one pass."""
    judged = {
        source.name: (loads[source.name].judged, loads[source.name].loaded)
        for source in sources
        if loads[source.name].judged
    }
    if not judged:
        return [], []
    verdicts, results = judge_sources(
        warehouse_path, judged, project=gx_project_dir, artefacts=gx_artefacts_dir
    )
    if results:
        from orchestration.quality.gx_gate import render_data_docs  # importing GX takes seconds

        results = render_data_docs(results, gx_project_dir, gx_artefacts_dir)
    for result in results:
        context.log.info(result.summary())
    return verdicts, results


def _check_specs(source: Source) -> list[AssetCheckSpec]:
    return [
        *_gate_specs(source),
        AssetCheckSpec(
            "line_accounting",
            asset=raw_key(source),
            description="Every landed record is a raw row, a quarantine row or a suppression: "
            "records in (raw.load_audit) = rows counted in raw and quarantine, per file of "
            "the run's delivery dates. A file that was not read has no records and is listed "
            "by name (files_not_read).",
        ),
    ]


def _gate_specs(source: Source) -> list[AssetCheckSpec]:
    held = (
        "reported, never held (legal deadlines)"
        if source.name in NEVER_HELD
        else "a failing delivery is held back"
    )
    return [
        AssetCheckSpec(
            "gx_critical",
            asset=raw_key(source),
            description=f"Critical expectations of suite raw_{source.name} on each delivery "
            f"of the run ({held}; other deliveries and everything downstream still build).",
        ),
        AssetCheckSpec(
            "gx_warnings",
            asset=raw_key(source),
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
    key = raw_key(source)
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


def unbalanced_files(
    con: duckdb.DuckDBPyConnection, source: Source, dates: list[date]
) -> list[tuple]:
    """Files of the run's dates whose records in differ from the rows counted in raw,
    quarantine and suppressions (recounted from the tables, not taken from the audit)."""
    return con.execute(
        f"""
        WITH raw_rows AS (
            SELECT _partition, _file, count(*) AS n FROM {source.table}
            WHERE _partition BETWEEN $first AND $last GROUP BY ALL
        ),
        quarantined AS (
            SELECT _partition, _file, count(*) AS n FROM raw.quarantine
            WHERE source = $source AND _partition BETWEEN $first AND $last GROUP BY ALL
        )
        SELECT a._file, a.records_in, coalesce(r.n, 0), coalesce(q.n, 0), a.suppressed_rows
        FROM raw.load_audit a
        LEFT JOIN raw_rows r USING (_partition, _file)
        LEFT JOIN quarantined q USING (_partition, _file)
        WHERE a.source = $source AND a._partition BETWEEN $first AND $last
          AND a.records_in <> coalesce(r.n, 0) + coalesce(q.n, 0) + a.suppressed_rows
        ORDER BY a._file
        """,
        {"source": source.name, "first": dates[0], "last": dates[-1]},
    ).fetchall()


def _files_not_read(
    con: duckdb.DuckDBPyConnection, source: Source, dates: list[date]
) -> list[tuple]:
    """Files of the run's dates the loader refused or could not read, with the reason."""
    return con.execute(
        "SELECT _file, refused_reason FROM raw.load_audit WHERE source = $source "
        "AND _partition BETWEEN $first AND $last AND refused_reason IS NOT NULL ORDER BY _file",
        {"source": source.name, "first": dates[0], "last": dates[-1]},
    ).fetchall()


def _accounting_result(
    source: Source, rows: list[tuple], not_read: list[tuple]
) -> AssetCheckResult:
    return AssetCheckResult(
        check_name="line_accounting",
        asset_key=raw_key(source),
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


def _update_user_agents(
    context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, dates: list[date]
) -> MaterializeResult:
    added = update_user_agents(con, dates[0], dates[-1])
    total, crawlers = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_crawler) FROM raw.user_agents"
    ).fetchone()
    context.log.info(f"user agents: {added:,} new, {total:,} known, {crawlers:,} crawlers")
    return MaterializeResult(
        asset_key=USER_AGENTS,
        metadata={"new_user_agents": added, "user_agents": total, "crawlers": crawlers},
    )


def _summarise_run(
    context: AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    dates: list[date],
    warehouse: str,
) -> MaterializeResult:
    today = datetime.now(UTC).date()
    summaries = summarise(con, dates[0], dates[-1], [s.name for s in SOURCES])
    freshness = source_freshness(con, today)
    text = render(summaries, dates[0], dates[-1], warehouse)
    context.log.info("\n" + text)
    stale = [f for f in freshness if not f.fresh]
    (context.log.warning if stale else context.log.info)(render_freshness(freshness, today))
    return MaterializeResult(
        asset_key=LOAD_SUMMARY,
        metadata={
            "summary": MetadataValue.md(f"```\n{text}\n```"),
            "not_fresh": MetadataValue.json({f.source: f.verdict for f in stale}),
            "records_in": sum(s.records for s in summaries),
            "rows_loaded": sum(s.loaded for s in summaries),
            "rows_quarantined": sum(s.quarantined for s in summaries),
            "balanced": all(s.balanced for s in summaries),
            "warehouse": warehouse,
        },
    )
