"""Generate the landing contract's documentation from `sources.py`, its one source of truth.

    python -m orchestration.ingest.contract_docs --write   regenerate the files below
    python -m orchestration.ingest.contract_docs --check   exit 1 if any of them is stale

What it writes:

* `dbt_project/models/staging/<source>/_<source>__sources.yml` for every source: the dbt
  source `raw`, one table per source (plus the raw tables derived from it), every column
  with its description, PII meta and freshness, all from the `Source` / `Field`
  attributes;
* the per-source tables of `docs/landing.md`, each between
  `<!-- contract:<source>:start -->` and `<!-- contract:<source>:end -->` (and the load
  metadata between `<!-- contract:load_metadata:… -->`, the schema-drift policy and the
  loader's warnings between `<!-- contract:drift:… -->`); the prose around them is
  hand-written and left alone.

The sources YAML carries no data tests: blocking rules on raw data live in the GX raw gate
(orchestration/quality/gx_suites.py builds its suites from the same contract).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

from orchestration.ingest.sources import (
    CUSTOMER_REFERENCE,
    DAILY_FRESHNESS,
    DRIFT_POLICY,
    FIRST_DELIVERY,
    FUTURE_SLACK_DAYS,
    LOAD_METADATA,
    LOAD_WARNINGS,
    LOADED_AT_FIELD,
    RAW_SOURCE_DESCRIPTION,
    RAW_SOURCE_NAME,
    SOURCES,
    VISIBLE_SCHEMA,
    Column,
    DerivedTable,
    Field,
    Freshness,
    Kind,
    Source,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAGING_DIR = Path("dbt_project/models/staging")
LANDING_DOC = Path("docs/landing.md")
LOAD_METADATA_BLOCK = "load_metadata"
DRIFT_BLOCK = "drift"
COMMAND = "python -m orchestration.ingest.contract_docs --write"

_YAML_HEADER = f"""\
version: 2

# Generated from orchestration/ingest/sources.py by
# `{COMMAND}`: edit sources.py, not this file.
#
# Raw tables written by the Dagster ingest assets (orchestration/ingest): the contract
# columns exactly as delivered (VARCHAR, nested objects as JSON) plus load metadata.
# Contract: docs/landing.md and orchestration/ingest/sources.py. Asset key in Dagster:
# ["raw", "<table>"]. Freshness is judged on the delivery date against the run date.
# No data tests here: blocking rules on raw data are the GX raw gate's
# (orchestration/quality/gx_suites.py).
"""

_BLOCK = re.compile(
    r"<!-- contract:(?P<name>[a-z_]+):start -->\n(?P<body>.*?)<!-- contract:(?P=name):end -->",
    re.DOTALL,
)
_BLOCK_NOTICE = f"<!-- generated from orchestration/ingest/sources.py by `{COMMAND}` -->"


# --- dbt sources YAML -----------------------------------------------------------------


def sources_yaml_path(source: Source) -> Path:
    """Where a source's dbt sources YAML lives, relative to the project root."""
    return STAGING_DIR / source.name / f"_{source.name}__sources.yml"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _freshness_lines(freshness: Freshness, indent: str) -> list[str]:
    return [
        f"{indent}freshness:",
        f"{indent}  warn_after: {{count: {freshness.warn_after_days}, period: day}}",
        f"{indent}  error_after: {{count: {freshness.error_after_days}, period: day}}",
    ]


def _rules(source: Source, f: Field) -> list[str]:
    rules = []
    if f.required:
        rules.append("required")
    if f.required_when:
        rules.append(f"required when {f.required_when}")
    if f.timestamp:
        rules.append("validated as a timestamp when present")
    if f.plausible_range:
        rules.append(f"quarantined outside {_plausible_range(f)}")
    if f.number:
        rules.append("validated as a number when present")
    return rules


def _plausible_range(f: Field) -> str:
    since = "CDW_FIRST_DELIVERY_DATE" if f.not_before == FIRST_DELIVERY else f"{f.not_before}"
    return f"{since} .. delivery date + {FUTURE_SLACK_DAYS} day"


def column_description(source: Source, f: Field) -> str:
    """The dbt description of a contract column: meaning, origin, storage, loader rules."""
    parts = [f.description]
    if source.format.origin:
        parts.append(f"{source.format.origin} `{f.key}`.")
    rules = _rules(source, f)
    stored = "JSON" if f.kind is Kind.JSON else "VARCHAR"
    parts.append(f"Stored as {stored} as delivered" + (f" ({'; '.join(rules)})." if rules else "."))
    if f.pii_note:
        parts.append(f"Personal data: {f.pii_note}")
    return " ".join(parts)


def table_description(source: Source) -> str:
    return (
        f"{source.description} Landed as {source.format.label} under "
        f"`landing/{source.name}/<YYYY-MM-DD>/`; one row per loaded record (bad records go "
        f"to raw.quarantine). Typed and cleaned in the staging models of "
        f"models/staging/{source.name}/."
    )


def _pii_meta(f: Field) -> list[str]:
    if f.pii is None:
        return []
    lines = [
        "            config:",
        "              meta:",
        "                contains_pii: true",
        f"                pii_kind: {f.pii}",
    ]
    if f.pii_kinds:
        lines.append(f"                pii_kinds: [{', '.join(f.pii_kinds)}]")
    return lines


def _column_lines(name: str, description: str) -> list[str]:
    return [f"          - name: {name}", f"            description: {_q(description)}"]


def _metadata_lines(columns: tuple[Column, ...]) -> list[str]:
    return [line for c in columns for line in _column_lines(c.name, c.description)]


def _derived_lines(table: DerivedTable) -> list[str]:
    lines = ["", f"      - name: {table.name}", f"        description: {_q(table.description)}"]
    lines.append("        config:")
    if table.freshness is None:
        lines.append("          freshness: null")
    else:
        lines += _freshness_lines(table.freshness, "          ")
    lines.append("        columns:")
    return lines + _metadata_lines(table.columns)


def render_sources_yaml(source: Source) -> str:
    """The dbt sources YAML of one source, exactly as committed."""
    lines = [
        "sources:",
        f"  - name: {RAW_SOURCE_NAME}",
        "    # The `visible` views: raw.<table> less the rows of deliveries the Great",
        "    # Expectations gate holds back (orchestration/state/schema.py).",
        f"    schema: {VISIBLE_SCHEMA}",
        f"    description: {_q(RAW_SOURCE_DESCRIPTION)}",
        "    config:",
        f"      loaded_at_field: {_q(LOADED_AT_FIELD)}",
        *_freshness_lines(DAILY_FRESHNESS, "      "),
        "    tables:",
        f"      - name: {source.name}",
        f"        description: {_q(table_description(source))}",
    ]
    if source.freshness != DAILY_FRESHNESS:
        lines.append("        config:")
        if source.freshness_note:
            lines += textwrap.wrap(
                source.freshness_note,
                width=90,
                initial_indent="          # ",
                subsequent_indent="          # ",
            )
        lines += _freshness_lines(source.freshness, "          ")
    lines.append("        columns:")
    for f in source.fields:
        lines += _column_lines(f.column, column_description(source, f))
        lines += _pii_meta(f)
    lines += _metadata_lines(LOAD_METADATA)
    for table in source.derived_tables:
        lines += _derived_lines(table)
    return _YAML_HEADER + "\n" + "\n".join(lines) + "\n"


# --- docs/landing.md tables -----------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _identity_letter(source: Source) -> str:
    return "C" if source.identity_columns == CUSTOMER_REFERENCE else "S"


def _doc_rules(source: Source, f: Field) -> str:
    rules = []
    if f.required:
        rules.append("R")
    if f.required_when:
        rules.append(f"R when `{f.required_when}`")
    if f.column in source.identity_columns:
        rules.append(_identity_letter(source))
    if f.timestamp:
        rules.append("T")
    if f.plausible_range:
        rules.append("P" if f.not_before == FIRST_DELIVERY else f"P ≥ {f.not_before}")
    if f.number:
        rules.append("N")
    if f.kind is Kind.JSON:
        rules.append("JSON")
    return ", ".join(rules)


def _doc_origin(source: Source, f: Field) -> str:
    if source.format.origin is None:
        return re.sub(r"(%\S+)", r"`\1`", f.log_field or "")
    return f"`{f.key}`"


def _freshness_text(freshness: Freshness) -> str:
    return (
        f"warn after {freshness.warn_after_days} days, "
        f"error after {freshness.error_after_days} days without a delivery"
    )


def render_source_block(source: Source) -> str:
    """The generated part of a source's section in docs/landing.md."""
    origin = source.format.origin or "from"
    lines = [
        _BLOCK_NOTICE,
        "",
        f"| column | {origin} | rules | personal data | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in source.fields:
        pii = ", ".join(f.pii_kinds) if f.pii_kinds else (f.pii or "")
        lines.append(
            f"| {f.column} | {_doc_origin(source, f)} | {_doc_rules(source, f)} | {pii} "
            f"| {_md(f.description)} |"
        )
    notes = []
    if source.identity_columns:
        names = ", ".join(f"`{c}`" for c in source.identity_columns)
        notes.append(f"At least one of {names} must be present, else `{source.identity_reason}`.")
    if source.nested_numbers:
        details = ", ".join(f"`{detail}`" for detail, _ in source.nested_numbers)
        notes.append(
            f"Numbers inside nested values (N, checked when present; `invalid_number` with "
            f"the detail named): {details}."
        )
    if source.freshness != DAILY_FRESHNESS:
        notes.append(
            f"dbt source freshness: {_freshness_text(source.freshness)}. "
            f"{source.freshness_note}".rstrip()
        )
    for note in notes:
        lines += ["", note]
    for table in source.derived_tables:
        lines += [
            "",
            f"Derived from it: `{table.table}`. {_md(table.description)}",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
            *(f"| {c.name} | `{c.ddl}` | {_md(c.description)} |" for c in table.columns),
        ]
    return "\n".join(lines) + "\n"


def render_load_metadata_block() -> str:
    lines = [
        _BLOCK_NOTICE,
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        *(f"| {c.name} | `{c.ddl}` | {_md(c.description)} |" for c in LOAD_METADATA),
        "",
        f"dbt source freshness, unless a source says otherwise: "
        f"{_freshness_text(DAILY_FRESHNESS)} (judged on `_partition`).",
    ]
    return "\n".join(lines) + "\n"


def render_drift_block() -> str:
    """The schema-drift policy and the loader's warnings (docs/landing.md, "Schema drift")."""
    lines = [
        _BLOCK_NOTICE,
        "",
        "| the delivery has | what happens | outcome |",
        "|---|---|---|",
        *(f"| {_md(r.change)} | {_md(r.outcome)} | {r.severity} |" for r in DRIFT_POLICY),
        "",
        "The loader's warnings (`raw.load_warnings`; on the delivery's verdict as "
        "`[warning] <kind>: <field> in <file> (<n> records from line <l>)`):",
        "",
        "| kind | applies to | meaning |",
        "|---|---|---|",
        *(f"| `{w.kind}` | {w.applies_to} | {_md(w.meaning)} |" for w in LOAD_WARNINGS),
    ]
    return "\n".join(lines) + "\n"


def expected_blocks() -> dict[str, str]:
    blocks = {LOAD_METADATA_BLOCK: render_load_metadata_block(), DRIFT_BLOCK: render_drift_block()}
    blocks.update({s.name: render_source_block(s) for s in SOURCES})
    return blocks


class MarkerError(ValueError):
    """docs/landing.md lacks, repeats or has unknown contract markers."""


def render_landing_doc(text: str) -> str:
    """`text` with every contract block regenerated; everything outside them unchanged."""
    blocks = expected_blocks()
    found = [m.group("name") for m in _BLOCK.finditer(text)]
    missing = sorted(set(blocks) - set(found))
    unknown = sorted(set(found) - set(blocks))
    repeated = sorted({n for n in found if found.count(n) > 1})
    if missing or unknown or repeated:
        raise MarkerError(
            f"{LANDING_DOC}: contract markers missing {missing}, unknown {unknown}, "
            f"repeated {repeated} (each block is <!-- contract:<name>:start --> … "
            f"<!-- contract:<name>:end -->, on lines of their own)"
        )
    return _BLOCK.sub(
        lambda m: (
            f"<!-- contract:{m['name']}:start -->\n{blocks[m['name']]}"
            f"<!-- contract:{m['name']}:end -->"
        ),
        text,
    )


# --- check / write --------------------------------------------------------------------


def expected_files(root: Path = PROJECT_ROOT) -> dict[Path, str]:
    """Every generated file (relative path) and the content it should have."""
    files = {sources_yaml_path(s): render_sources_yaml(s) for s in SOURCES}
    files[LANDING_DOC] = render_landing_doc((root / LANDING_DOC).read_text(encoding="utf-8"))
    return files


def stale_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The generated files whose committed content differs from what sources.py gives."""
    stale = []
    for path, content in expected_files(root).items():
        target = root / path
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != content:
            stale.append(path)
    return stale


def write(root: Path = PROJECT_ROOT) -> list[Path]:
    """Regenerate; returns the files that changed."""
    changed = []
    for path, content in expected_files(root).items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.ingest.contract_docs",
        description="Generate the dbt sources YAML and docs/landing.md tables from sources.py.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the files")
    mode.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.write:
            for path in write(args.root):
                print(f"wrote {path}")
            return 0
        stale = stale_files(args.root)
    except MarkerError as error:
        print(error, file=sys.stderr)
        return 1
    for path in stale:
        print(f"stale: {path}", file=sys.stderr)
    if stale:
        print(f"run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
