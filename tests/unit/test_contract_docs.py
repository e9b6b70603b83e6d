"""The dbt sources YAML and the docs/landing.md tables are generated from sources.py and
must not drift from it (compared in memory; nothing is written)."""

from __future__ import annotations

import re

import pytest
import yaml

from orchestration.ingest import contract_docs
from orchestration.ingest.contract_docs import (
    LANDING_DOC,
    PROJECT_ROOT,
    MarkerError,
    expected_files,
    render_landing_doc,
    render_sources_yaml,
    sources_yaml_path,
)
from orchestration.ingest.sources import (
    DAILY_FRESHNESS,
    LOAD_METADATA,
    RAW_SOURCE_NAME,
    SOURCES,
    SOURCES_BY_NAME,
)

FIX = f"regenerate with `{contract_docs.COMMAND}` (and commit the result)"


@pytest.mark.parametrize("path", sorted(expected_files()), ids=str)
def test_committed_file_matches_sources_py(path) -> None:
    committed = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    assert committed == expected_files()[path], f"{path} drifted from sources.py: {FIX}"


def test_check_mode_reports_nothing_stale(capsys) -> None:
    assert contract_docs.main(["--check"]) == 0, capsys.readouterr().err


def test_every_staging_sources_yaml_is_generated() -> None:
    """A hand-written `_<x>__sources.yml` beside the generated ones would escape the check
    (the state schema's own file lives outside models/staging)."""
    on_disk = {
        p.relative_to(PROJECT_ROOT)
        for p in (PROJECT_ROOT / contract_docs.STAGING_DIR).glob("*/_*__sources.yml")
    }
    assert on_disk == {sources_yaml_path(s) for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_generated_yaml_carries_the_contract(source) -> None:
    doc = yaml.safe_load(render_sources_yaml(source))
    assert doc["version"] == 2
    (raw,) = doc["sources"]
    assert raw["name"] == RAW_SOURCE_NAME  # staging reads source('raw', '<table>')
    freshness = raw["config"]["freshness"]
    assert freshness["warn_after"] == {"count": DAILY_FRESHNESS.warn_after_days, "period": "day"}
    table = raw["tables"][0]
    assert table["name"] == source.name
    assert [t["name"] for t in raw["tables"][1:]] == [t.name for t in source.derived_tables]
    if source.freshness != DAILY_FRESHNESS:
        assert table["config"]["freshness"]["error_after"]["count"] == (
            source.freshness.error_after_days
        )
    columns = {c["name"]: c for c in table["columns"]}
    assert list(columns) == source.column_names() + [c.name for c in LOAD_METADATA]
    for f in source.fields:
        column = columns[f.column]
        assert column["description"].startswith(f.description)
        meta = column.get("config", {}).get("meta")
        if f.pii is None:
            assert meta is None
        else:
            assert meta["contains_pii"] is True and meta["pii_kind"] == f.pii
            assert tuple(meta.get("pii_kinds", ())) == f.pii_kinds
    assert not _keys(doc) & {"tests", "data_tests"}, "raw-data rules belong in the GX raw gate"


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node))
    return set()


def test_docs_table_lists_every_contract_column() -> None:
    text = (PROJECT_ROOT / LANDING_DOC).read_text(encoding="utf-8")
    for source in SOURCES:
        block = re.search(
            rf"<!-- contract:{source.name}:start -->\n(.*?)<!-- contract:{source.name}:end -->",
            text,
            re.DOTALL,
        )
        assert block, f"no contract block for {source.name} in {LANDING_DOC}"
        rows = re.findall(r"^\| (\w+) \|", block.group(1), re.MULTILINE)
        contract_rows = [r for r in rows if r != "column"][: len(source.fields)]
        assert contract_rows == source.column_names()


def test_regenerating_the_doc_keeps_prose_and_fixes_a_stale_table() -> None:
    text = (PROJECT_ROOT / LANDING_DOC).read_text(encoding="utf-8")
    stale = text.replace("| Product id. |", "| Product identifier (edited by hand). |")
    assert stale != text
    assert render_landing_doc(stale) == text
    edited_prose = text.replace("# Landing sources: the contract", "# Landing: the contract")
    assert render_landing_doc(edited_prose) == edited_prose


def test_a_missing_marker_is_an_error() -> None:
    text = (PROJECT_ROOT / LANDING_DOC).read_text(encoding="utf-8")
    broken = text.replace("<!-- contract:surveys:end -->", "")
    with pytest.raises(MarkerError, match="surveys"):
        render_landing_doc(broken)


def test_a_contract_change_shows_up_as_drift(monkeypatch) -> None:
    products = SOURCES_BY_NAME["products"]
    changed = type(products)(
        **{**products.__dict__, "description": "Products, changed in sources.py."}
    )
    before = expected_files()
    monkeypatch.setattr(
        contract_docs, "SOURCES", tuple(changed if s is products else s for s in SOURCES)
    )
    after = expected_files()
    assert {p for p in before if before[p] != after[p]} == {
        sources_yaml_path(products)
    }  # the docs table shows column descriptions, not the table description
