"""The Great Expectations gate: validate a table's run partitions, inside DuckDB, as SQL.

    result = validate_raw(warehouse_path, "events", first, last)
    if not result.passed_critical: ...stop the run...      (warnings: result.failed_warnings)

* `validate_table(warehouse_path, suite_name, table, first, last, build_docs=True)` runs the
  committed checkpoint `suite_name` (expectations/checkpoints/) on `table`'s partitions
  `first..last` (both None: the whole table) and returns a `GateResult`.
* `validate_raw(warehouse_path, source, first, last)` is the same for suite `raw_<source>`;
  `validate_all_raw(...)` runs every raw suite and builds Data Docs once.
* `GateSession(warehouse_path)` validates many tables and ranges with one GX context and
  one connection (the nightly gate's pass over every source); the functions above open
  one session each.
* `render_data_docs(results)` renders results validated with `build_docs=False` in one pass
  (what the nightly gate does after validating every source).
* `build_data_docs()` rebuilds the whole Data Docs site; `data_docs_index()` is its
  index.html (`<artefacts>/data_docs/local_site/index.html`).

Every function takes the GX project (`project`, default $CDW_GX_PROJECT_DIR or
expectations/) and the folder its results and Data Docs go to (`artefacts`: the pipeline
passes the warehouse's own, `Settings.gx_artefacts_dir`; default the project's
`uncommitted/`).

Connection rules (see gx_duckdb.py): call the gate while **no other connection to the
warehouse file is open in this process**. The gate opens the file read-only through GX and
closes everything before it returns (also on error), so the next step can open the file for
writing. Call it from one thread at a time.

Privacy: results hold counts only. GX is asked for no sample values (the checkpoints'
`result_format`), nothing here copies any, and GX error messages are stripped of quoted
literals. Data Docs therefore show no values of the data either.

    python -m orchestration.quality.gx_gate [--from D --to D] [--source S ...] [--no-docs]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import sqlalchemy as sa
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from orchestration.quality.gx_duckdb import (
    FIRST_VARIABLE,
    LAST_VARIABLE,
    release,
    set_partition_range,
)
from orchestration.quality.gx_project import (
    DATASOURCE,
    DOCS_SITE,
    docs_index,
    open_context,
)
from orchestration.quality.gx_suites import CRITICAL, WARNING, raw_suite_name

log = logging.getLogger(__name__)

UNEXPECTED_ROWS = "unexpected_rows_expectation"


class GateError(RuntimeError):
    """The gate could not validate (unknown suite, wrong table, GX not working)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: counts and verdict, never values of the data."""

    expectation_type: str
    column: str | None
    severity: str  # "critical" | "warning"
    success: bool
    observed_value: int | float | None
    unexpected_count: int | None
    element_count: int | None
    why: str
    description: str | None = None
    error: str | None = None  # GX could not evaluate it (counted as a failure)

    @property
    def label(self) -> str:
        if self.description:
            return self.description
        return f"{self.expectation_type}({self.column})" if self.column else self.expectation_type


@dataclass(frozen=True)
class GateResult:
    suite: str
    table: str
    first: date | None  # the partitions validated (None, None: the whole table)
    last: date | None
    passed_critical: bool
    passed_all: bool
    results: list[ExpectationOutcome]
    data_docs_path: Path | None
    seconds: float = 0.0
    run_name: str = ""
    notes: list[str] = field(default_factory=list)
    # Where GX stored the result (<artefacts>/validations/): what `render_data_docs` renders.
    identifier: ValidationResultIdentifier | None = field(default=None, compare=False)

    @property
    def failed_critical(self) -> list[ExpectationOutcome]:
        return [o for o in self.results if o.severity == CRITICAL and not o.success]

    @property
    def failed_warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.results if o.severity != CRITICAL and not o.success]

    def outcome(
        self, expectation_type: str, column: str | None = None, description: str | None = None
    ) -> ExpectationOutcome:
        """The one outcome of that type (and column / description); KeyError if not one."""
        found = [
            o
            for o in self.results
            if o.expectation_type == expectation_type
            and (column is None or o.column == column)
            and (description is None or o.description == description)
        ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} outcomes of {expectation_type} {column or ''}")
        return found[0]

    def summary(self) -> str:
        scope = f"{self.first}..{self.last}" if self.first else "all partitions"
        verdict = "PASSED" if self.passed_all else "FAILED" if not self.passed_critical else "WARN"
        lines = [
            f"{self.suite} on {self.table} ({scope}): {verdict} — "
            f"{len(self.results)} expectations, {len(self.failed_critical)} critical failed, "
            f"{len(self.failed_warnings)} warnings, {self.seconds:.2f}s"
        ]
        for o in self.failed_critical + self.failed_warnings:
            count = o.unexpected_count if o.unexpected_count is not None else o.observed_value
            detail = f"error: {o.error}" if o.error else f"unexpected: {count}"
            label = o.label if o.label.startswith("[") else f"[{o.severity}] {o.label}"
            lines.append(f"  {label}: {detail}")
        return "\n".join(lines)

    def metadata(self) -> dict[str, Any]:
        """JSON-able figures for an orchestrator (e.g. Dagster asset check metadata)."""
        return {
            "suite": self.suite,
            "table": self.table,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "passed_critical": self.passed_critical,
            "passed_all": self.passed_all,
            "expectations": len(self.results),
            "critical_failed": [o.label for o in self.failed_critical],
            "warnings": [o.label for o in self.failed_warnings],
            "seconds": round(self.seconds, 3),
            "data_docs": str(self.data_docs_path) if self.data_docs_path else None,
            "results": [{k: v for k, v in asdict(o).items() if k != "why"} for o in self.results],
        }


def project_dir() -> Path:
    """The GX project of the environment's settings ($CDW_GX_PROJECT_DIR, else
    expectations/ in the repository), for callers that pass none."""
    from orchestration.settings import Settings

    return Settings.from_env().gx_project_dir


def data_docs_index(project: Path | None = None, artefacts: Path | None = None) -> Path:
    """index.html of the Data Docs site (it exists once anything was validated or built)."""
    return docs_index(project or project_dir(), artefacts)


def build_data_docs(project: Path | None = None, artefacts: Path | None = None) -> Path:
    """Rebuild the whole Data Docs site (every suite, every stored result); its index."""
    project = project or project_dir()
    context = open_context(project, Path(os.devnull), artefacts)  # no connection is made
    context.build_data_docs(site_names=[DOCS_SITE])
    return docs_index(project, artefacts)


def validate_raw(
    warehouse_path: Path,
    source: str,
    first: date | None = None,
    last: date | None = None,
    build_docs: bool = True,
    project: Path | None = None,
    artefacts: Path | None = None,
) -> GateResult:
    """Validate `raw.<source>` (partitions first..last, or all) with suite `raw_<source>`."""
    return validate_table(
        warehouse_path,
        raw_suite_name(source),
        f"raw.{source}",
        first,
        last,
        build_docs,
        project,
        artefacts,
    )


def validate_all_raw(
    warehouse_path: Path,
    first: date | None = None,
    last: date | None = None,
    sources: Iterable[str] | None = None,
    build_docs: bool = True,
    project: Path | None = None,
    artefacts: Path | None = None,
) -> list[GateResult]:
    """Every raw suite (or those of `sources`), then one Data Docs update for all of them."""
    from orchestration.ingest.sources import SOURCES

    names = list(sources) if sources is not None else [s.name for s in SOURCES]
    targets = [(raw_suite_name(n), f"raw.{n}") for n in names]
    return _validate_many(warehouse_path, targets, first, last, build_docs, project, artefacts)


def _validate_many(
    warehouse_path: Path,
    targets: list[tuple[str, str]],
    first: date | None,
    last: date | None,
    build_docs: bool,
    project: Path | None,
    artefacts: Path | None = None,
) -> list[GateResult]:
    project = project or project_dir()
    with GateSession(warehouse_path, project, artefacts) as session:
        results = [session.validate(suite, table, first, last) for suite, table in targets]
    return render_data_docs(results, project, artefacts) if build_docs else results


def render_data_docs(
    results: list[GateResult], project: Path | None = None, artefacts: Path | None = None
) -> list[GateResult]:
    """Render the pages of `results` (validated with build_docs=False) and the Data Docs
    index in one pass; the results with their pages' paths.

    Rendering costs about a second a validation when done one by one (each rebuilds the
    index), so a run validates everything first and renders once."""
    stored = [r for r in results if r.identifier is not None]
    if not stored:
        return results
    project = project or project_dir()
    context = open_context(project, Path(os.devnull), artefacts)  # no connection is made
    # The results and their suites' pages (the index lists a suite once its page exists).
    suites = [ExpectationSuiteIdentifier(name=name) for name in sorted({r.suite for r in stored})]
    context.build_data_docs(
        site_names=[DOCS_SITE], resource_identifiers=[*(r.identifier for r in stored), *suites]
    )
    return [
        _with_docs(r, _docs_path(context, r.identifier)) if r.identifier is not None else r
        for r in results
    ]


def validate_table(
    warehouse_path: Path,
    suite_name: str,
    table: str,
    first: date | None = None,
    last: date | None = None,
    build_docs: bool = True,
    project: Path | None = None,
    artefacts: Path | None = None,
) -> GateResult:
    """Run checkpoint `suite_name` on `table`, partitions first..last (None, None: all).

    Writes the validation result to `<artefacts>/validations/` and, with
    `build_docs`, renders it (and the index) into Data Docs. Raises `GateError` when the
    suite is unknown, validates another table, or GX does not produce a result for every
    expectation; a failed expectation is a result, not an exception.
    """
    with GateSession(warehouse_path, project, artefacts) as session:
        return session.validate(suite_name, table, first, last, build_docs=build_docs)


class GateSession:
    """Validations of one warehouse file sharing one GX context and one DuckDB connection.

    Loading the file context and connecting cost about a third of a small validation, and
    the nightly gate validates every source's new deliveries (often a dozen small ones):
    it opens one session for all of them. The range of each validation is set on the
    connection before it runs. Leaving the session closes everything GX opened (also on
    error), so the file may be opened for writing afterwards. One thread at a time.
    """

    def __init__(
        self, warehouse_path: Path, project: Path | None = None, artefacts: Path | None = None
    ) -> None:
        self.warehouse_path = Path(warehouse_path)
        self.project = project or project_dir()
        self.artefacts = artefacts

    def __enter__(self) -> GateSession:
        if not self.warehouse_path.is_file():
            raise GateError(f"no warehouse at {self.warehouse_path}")
        self._context = open_context(self.project, self.warehouse_path, self.artefacts)
        self._datasource = self._context.data_sources.get(DATASOURCE)
        try:
            self._engine = self._datasource.get_execution_engine()
        except BaseException:
            release(self._datasource)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        release(self._datasource)

    def validate(
        self,
        suite_name: str,
        table: str,
        first: date | None = None,
        last: date | None = None,
        build_docs: bool = False,
    ) -> GateResult:
        """Run checkpoint `suite_name` on `table`, partitions first..last (see
        `validate_table`)."""
        if (first is None) != (last is None):
            raise ValueError("give both first and last, or neither (whole table)")
        if first is not None and last is not None and first > last:
            raise ValueError(f"first {first} is after last {last}")
        context = self._context
        try:
            definition = context.validation_definitions.get(suite_name)
            checkpoint = context.checkpoints.get(suite_name)
        except Exception as exc:
            raise GateError(
                f"no suite {suite_name!r} in {self.project} (add it to gx_suites.py and run "
                "`python -m orchestration.quality.gx_project sync`)"
            ) from exc
        asset = definition.asset
        if asset.name != table:
            raise GateError(f"suite {suite_name} validates {asset.name}, not {table}")
        notes: list[str] = []
        if first is not None and FIRST_VARIABLE not in asset.query:
            notes.append(f"{table} is not partitioned: validated the whole table")
            first = last = None

        run_name = validation_run_name(first, last)
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        started = time.perf_counter()
        engine = self._engine
        _set_range(engine, first, last)
        if build_docs:
            checkpoint_result = checkpoint.run(run_id=run_id)
            ((identifier, suite_result),) = checkpoint_result.run_results.items()
        else:
            suite_result = definition.run(result_format=checkpoint.result_format, run_id=run_id)
            identifier = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
                run_id=run_id,
                batch_identifier=suite_result.batch_id,
            )
        if self._datasource.get_execution_engine() is not engine:
            raise GateError("GX replaced its execution engine: the range may not apply")
        seconds = time.perf_counter() - started

        outcomes = [_outcome(r) for r in suite_result.results]
        expected = len(definition.suite.expectations)
        if len(outcomes) != expected:
            raise GateError(f"{suite_name}: GX returned {len(outcomes)} results for {expected}")
        result = GateResult(
            suite=suite_name,
            table=table,
            first=first,
            last=last,
            passed_critical=all(o.success for o in outcomes if o.severity == CRITICAL),
            passed_all=all(o.success for o in outcomes),
            results=outcomes,
            data_docs_path=_docs_path(context, identifier) if build_docs else None,
            seconds=seconds,
            run_name=run_name,
            notes=notes,
            identifier=identifier,
        )
        log.info(result.summary())
        return result


def validation_run_name(first: date | None, last: date | None) -> str:
    """GX's run name of a validation: the partitions it covers (`partitions_D1..D2`).

    Not a bare `D1..D2`: GX titles a result's Data Docs page by reading the run name as a
    time (dateutil) and comparing it with the run time, and `2026-10-24..2026-10-24` reads
    as 20:26 at a UTC offset of −24 h, which Python refuses — GX then skipped the page. No
    run ending on the 24th to the 31st of a month had a page (found by the 30-night
    housekeeping simulation, benchmarks/housekeeping.py). A prefix dateutil cannot read
    keeps the run name out of that."""
    return f"partitions_{first}..{last}" if first else "whole-table"


def _set_range(engine: Any, first: date | None, last: date | None) -> None:
    """Set the range on GX's persisted connection and prove the validation reads with it.

    Reading back the range variables fails if DuckDB is not on GX's persisted-connection
    list (the rows would be fetched from a released connection: empty) or if the range
    was not set on the connection GX validates with.
    """
    query = f"SELECT getvariable('{FIRST_VARIABLE}'), getvariable('{LAST_VARIABLE}')"
    try:
        set_partition_range(engine, first, last)
        rows = engine.execute_query(sa.text(query)).fetchall()
    except sa.exc.DBAPIError as exc:
        raise GateError(
            f"GX cannot open the warehouse: {_redact(str(exc.orig))} — the gate needs the "
            "file closed by every other connection in this process (DuckDB allows one "
            "configuration per file per process) and by every writing process"
        ) from exc
    if rows != [(first, last)]:
        raise GateError(
            f"GX's DuckDB connection does not see the run's range ({rows!r} != "
            f"{[(first, last)]!r}): is gx_duckdb.enable_persisted_connection() in effect?"
        )


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def _redact(message: str) -> str:
    """First line of an error, quoted literals replaced (they could be values of the data)."""
    first_line = (message or "").strip().splitlines()[0] if message and message.strip() else ""
    return _QUOTED.sub("'…'", first_line)[:300]


def _error(exception_info: Any) -> str | None:
    if not exception_info:
        return None
    infos = (
        [exception_info]
        if "raised_exception" in exception_info
        else [v for v in exception_info.values() if isinstance(v, dict)]
    )
    for info in infos:
        if info.get("raised_exception"):
            return _redact(str(info.get("exception_message") or "error"))
    return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _outcome(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs or {}
    meta = config.meta or {}
    data = result.result or {}
    column = kwargs.get("column") or meta.get("column")
    if not column and kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    observed = data.get("observed_value")
    observed = (
        observed if isinstance(observed, int | float) and not isinstance(observed, bool) else None
    )
    unexpected = _int(data.get("unexpected_count"))
    element_count = _int(data.get("element_count"))
    if config.type == UNEXPECTED_ROWS:
        unexpected = _int(observed)
    elif element_count == 0 and unexpected is None:
        unexpected = 0  # GX reports None for an empty batch
    severity = meta.get("severity") or getattr(config.severity, "value", None) or CRITICAL
    return ExpectationOutcome(
        expectation_type=config.type,
        column=column,
        severity=severity if severity in (CRITICAL, WARNING) else CRITICAL,
        success=bool(result.success),
        observed_value=observed,
        unexpected_count=unexpected,
        element_count=element_count,
        why=str(meta.get("why", "")),
        description=config.description,
        error=_error(result.exception_info),
    )


def _docs_path(context: Any, identifier: ValidationResultIdentifier) -> Path | None:
    urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
    for url in urls:
        site_url = url.get("site_url")
        if site_url and site_url.startswith("file://"):
            path = Path(unquote(urlparse(site_url).path))
            if path.exists():
                return path
    return None


def _with_docs(result: GateResult, path: Path | None) -> GateResult:
    return GateResult(**{**result.__dict__, "data_docs_path": path})


# --- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    from orchestration.ingest.sources import SOURCES
    from orchestration.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m orchestration.quality.gx_gate",
        description="Validate raw tables with the GX suites (what the nightly gate runs).",
    )
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file")
    parser.add_argument("--from", dest="first", type=date.fromisoformat)
    parser.add_argument("--to", dest="last", type=date.fromisoformat)
    parser.add_argument("--source", action="append", help="raw source (repeatable)")
    parser.add_argument("--no-docs", action="store_true", help="do not update Data Docs")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    warehouse = args.warehouse or settings.warehouse_path
    artefacts = (
        settings.gx_artefacts_dir
        if args.warehouse is None
        else replace(settings, warehouse_path=args.warehouse, artefacts_root=None).gx_artefacts_dir
    )
    sources = args.source or [s.name for s in SOURCES]
    targets = [(raw_suite_name(n), f"raw.{n}") for n in sources]
    started = time.perf_counter()
    results = _validate_many(
        warehouse, targets, args.first, args.last, not args.no_docs, project_dir(), artefacts
    )
    for r in results:
        print(r.summary())
    print(f"{len(results)} suites in {time.perf_counter() - started:.1f}s")
    if not args.no_docs:
        print(f"Data Docs: {data_docs_index(artefacts=artefacts)}")
    return 0 if all(r.passed_critical for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
