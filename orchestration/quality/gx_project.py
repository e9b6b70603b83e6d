"""The file-based GX project in expectations/: layout, and `sync` from the suite definitions.

    python -m orchestration.quality.gx_project sync    write / update expectations/
    python -m orchestration.quality.gx_project check   exit 1 if expectations/ is out of date

What `sync` maintains (all committed; GX 1.x file context):

    great_expectations.yml          datasource `warehouse` (DuckDB, ${CDW_WAREHOUSE_PATH},
                                    read-only) with one query asset per validated table
    expectations/<suite>.json       the suites (from gx_suites.py, or hand-written JSON
                                    whose `meta.cdw` names the table, see docs/quality.md)
    validation_definitions/<suite>  suite × the table's batch definition
    checkpoints/<suite>             that validation definition + Data Docs update

    plugins/custom_data_docs/       Data Docs that work offline: template overrides (views/)
                                    and the scripts and stylesheets they load (static/vendor/,
                                    copied into the site by `install_docs_assets`)

Generated, not here: the validation results (`validations/`) and the Data Docs
(`data_docs/local_site/`) go to the folder ${CDW_GX_ARTEFACTS_DIR} names — the warehouse's
own (`<warehouse>.artefacts/gx/`, Settings.gx_artefacts_dir) when the pipeline validates,
so two warehouses never share them; `uncommitted/` of the project when a caller names none.
`sync` only writes what differs, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.expectation_suite import ExpectationSuite

from orchestration.quality.gx_duckdb import (
    ENGINE_KWARGS,
    connection_string,
    enable_persisted_connection,
    partition_filter,
    release,
)
from orchestration.quality.gx_suites import SuiteSpec, suite_specs
from orchestration.settings import PROJECT_ROOT

PROJECT_DIR = PROJECT_ROOT / "expectations"
DATASOURCE = "warehouse"
BATCH_DEFINITION = "run_partitions"
WHOLE_TABLE = "whole_table"
DOCS_ACTION = "update_data_docs"
DOCS_SITE = "local_site"
DOCS_ASSETS = Path("plugins") / "custom_data_docs" / "static"  # in the project, see docs
# No sample values, ever: GX reports counts only (privacy; see docs/quality.md). The gate
# reads this back from each committed checkpoint, so it is the one setting in force.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}
WAREHOUSE_VARIABLE = "CDW_WAREHOUSE_PATH"
# Where results and Data Docs go (great_expectations.yml: the stores' base directories).
ARTEFACTS_VARIABLE = "CDW_GX_ARTEFACTS_DIR"


def asset_query(table: str, partition_column: str | None) -> str:
    """The batch of `table`: the run's partitions (session variables), or all of it."""
    if partition_column is None:
        return f"SELECT * FROM {table}"
    return f"SELECT * FROM {table} WHERE {partition_filter(partition_column)}"


def batch_definition_name(partition_column: str | None) -> str:
    return WHOLE_TABLE if partition_column is None else BATCH_DEFINITION


def artefacts_dir(project_dir: Path, artefacts: Path | None = None) -> Path:
    """Where results and Data Docs go: `artefacts`, else the project's `uncommitted/`."""
    return Path(artefacts) if artefacts is not None else project_dir / "uncommitted"


def open_context(project_dir: Path, warehouse_path: Path, artefacts: Path | None = None) -> Any:
    """The project's file context, its datasource bound to `warehouse_path`, its results
    and Data Docs in `artefacts` (default: the project's `uncommitted/`).

    Also puts the Data Docs' scripts and stylesheets into the site (`install_docs_assets`),
    so every page GX renders from here on works offline.
    """
    enable_persisted_connection()
    install_docs_assets(project_dir, artefacts)
    return gx.get_context(
        mode="file",
        context_root_dir=str(project_dir),
        runtime_environment={
            WAREHOUSE_VARIABLE: str(Path(warehouse_path).resolve()),
            ARTEFACTS_VARIABLE: str(artefacts_dir(project_dir, artefacts).resolve()),
        },
    )


def docs_index(project_dir: Path, artefacts: Path | None = None) -> Path:
    return artefacts_dir(project_dir, artefacts) / "data_docs" / DOCS_SITE / "index.html"


def install_docs_assets(project_dir: Path, artefacts: Path | None = None) -> list[str]:
    """Copy the vendored Data Docs assets into the site's static/ folder; what was copied.

    GX 1.24's page templates load jQuery, Bootstrap, bootstrap-table and Font Awesome from
    CDNs, so offline (and this project's machines are) the index is an empty page, and a
    steward's browser would report every visit to third parties. The project overrides
    those templates (`plugins/custom_data_docs/views/`, found by GX through
    `plugins_directory`) to load the same files from `static/vendor/`; this puts them there
    (`plugins/custom_data_docs/static/` → `<artefacts>/data_docs/local_site/static/`).
    Cheap when nothing changed: files are compared by size and modification time.
    """
    source = project_dir / DOCS_ASSETS
    target = docs_index(project_dir, artefacts).parent / "static"
    copied = []
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        destination = target / path.relative_to(source)
        if destination.is_file() and filecmp.cmp(path, destination, shallow=True):
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied.append(str(path.relative_to(source)))
    return copied


# --- suites ------------------------------------------------------------------------------


def _expectation_key(config: Any) -> str:
    """Content of an expectation without its generated id (to compare suites)."""
    data = config.to_json_dict()
    data.pop("id", None)
    return json.dumps(data, sort_keys=True, default=str)


def _suite_key(suite: ExpectationSuite) -> str:
    return json.dumps(
        {
            "meta": {k: v for k, v in suite.meta.items() if k != "great_expectations_version"},
            "expectations": [_expectation_key(e) for e in suite.expectation_configurations],
        },
        sort_keys=True,
        default=str,
    )


def _suite_from_spec(spec: SuiteSpec) -> ExpectationSuite:
    return ExpectationSuite(
        name=spec.name,
        expectations=[e.copy(deep=True) for e in spec.expectations],
        meta={"cdw": spec.cdw_meta()},
    )


def json_only_specs(project_dir: Path, known: set[str]) -> list[dict[str, Any]]:
    """Hand-written suite JSON files (not in gx_suites.py) that say which table they check."""
    out = []
    for path in sorted((project_dir / "expectations").glob("*.json")):
        data = json.loads(path.read_text())
        cdw = (data.get("meta") or {}).get("cdw")
        if data.get("name") not in known and isinstance(cdw, dict) and cdw.get("table"):
            out.append({"name": data["name"], **cdw})
    return out


# --- sync --------------------------------------------------------------------------------


@contextmanager
def _scratch_warehouse() -> Iterator[Path]:
    """An empty DuckDB file: GX tests the datasource's connection when it is added."""
    with tempfile.TemporaryDirectory(prefix="cdw-gx-sync-") as tmp:
        path = Path(tmp) / "empty.duckdb"
        duckdb.connect(str(path)).close()
        yield path


def sync(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Bring `project_dir` in line with the suite definitions; returns what changed."""
    changes: list[str] = []
    with _scratch_warehouse() as scratch:
        context = open_context(project_dir, scratch)
        try:
            datasource = context.data_sources.get(DATASOURCE)
        except (KeyError, ValueError):
            datasource = None
        if datasource is None:
            datasource = context.data_sources.add_sql(
                name=DATASOURCE, connection_string=connection_string(), kwargs=ENGINE_KWARGS
            )
            changes.append(f"datasource {DATASOURCE}")
        try:
            specs = list(suite_specs())
            known = {s.name for s in specs}
            targets: list[tuple[str, str, str | None, ExpectationSuite | None]] = [
                (s.name, s.table, s.partition_column, _suite_from_spec(s)) for s in specs
            ]
            targets += [
                (j["name"], j["table"], j.get("partition_column"), None)
                for j in json_only_specs(project_dir, known)
            ]
            for name, table, partition_column, suite in targets:
                changes += _sync_one(context, datasource, name, table, partition_column, suite)
        finally:
            release(datasource)
    return changes


def _sync_one(
    context: Any,
    datasource: Any,
    name: str,
    table: str,
    partition_column: str | None,
    suite: ExpectationSuite | None,
) -> list[str]:
    changes: list[str] = []
    query = asset_query(table, partition_column)
    batch_name = batch_definition_name(partition_column)
    asset = datasource.get_asset(table) if table in datasource.get_asset_names() else None
    if asset is not None and asset.query != query:
        datasource.delete_asset(table)
        asset = None
    if asset is None:
        asset = datasource.add_query_asset(name=table, query=query)
        changes.append(f"asset {table}")
    if batch_name not in {b.name for b in asset.batch_definitions}:
        asset.add_batch_definition_whole_table(batch_name)
        changes.append(f"batch definition {table}/{batch_name}")
    batch_definition = asset.get_batch_definition(batch_name)

    if suite is not None:
        try:
            current = context.suites.get(name)
        except Exception:
            current = None
        if current is None:
            context.suites.add(suite)
            changes.append(f"suite {name}")
        elif _suite_key(current) != _suite_key(suite):
            current.expectations = [e.copy(deep=True) for e in suite.expectations]
            current.meta = suite.meta
            current.save()
            changes.append(f"suite {name} (updated)")
    saved_suite = context.suites.get(name)

    try:
        definition = context.validation_definitions.get(name)
    except Exception:
        definition = None
    if (
        definition is None
        or definition.suite.id != saved_suite.id
        or definition.batch_definition.id != batch_definition.id
    ):
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=saved_suite)
        )
        changes.append(f"validation definition {name}")

    wanted = gx.Checkpoint(
        name=name,
        validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name=DOCS_ACTION, site_names=[DOCS_SITE])],
        result_format=RESULT_FORMAT,
    )
    try:
        checkpoint = context.checkpoints.get(name)
    except Exception:
        checkpoint = None
    if checkpoint is None or _checkpoint_key(checkpoint) != _checkpoint_key(wanted):
        context.checkpoints.add_or_update(wanted)
        changes.append(f"checkpoint {name}")
    return changes


def _checkpoint_key(checkpoint: Any) -> str:
    data = json.loads(checkpoint.json())
    data.pop("id", None)
    for definition in data.get("validation_definitions", []):
        definition.pop("id", None)
    return json.dumps(data, sort_keys=True)


def check(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Files that `sync` would change (sync runs on a copy; the project is not touched)."""
    with tempfile.TemporaryDirectory(prefix="cdw-gx-check-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(project_dir, copy, ignore=shutil.ignore_patterns("uncommitted"))
        sync(copy)
        return _differences(project_dir, copy)


def _differences(a: Path, b: Path) -> list[str]:
    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and "uncommitted" not in p.relative_to(root).parts
        }

    left, right = files(a), files(b)
    changed = sorted(left ^ right)
    changed += sorted(f for f in left & right if not filecmp.cmp(a / f, b / f, shallow=False))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.quality.gx_project")
    parser.add_argument("command", choices=["sync", "check"])
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    args = parser.parse_args(argv)
    if args.command == "sync":
        changes = sync(args.project_dir)
        print("\n".join(changes) if changes else "up to date")
        return 0
    stale = check(args.project_dir)
    if stale:
        print(
            "expectations/ is out of date; run `python -m orchestration.quality.gx_project "
            "sync` and commit:\n  " + "\n  ".join(stale)
        )
        return 1
    print("up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
