"""The dbt resource reports the version of the dbt executable it runs, without asking it
(orchestration/dbt/assets.py: InstalledDbtCliResource skips `dbt --version` per step), and
its steps start from a partial parse made for their warehouse (orchestration/dbt/project.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from orchestration.dbt.assets import InstalledDbtCliResource, dbt_resource
from orchestration.dbt.project import DBT_PROJECT, ensure_manifest
from orchestration.settings import Settings


def test_the_installed_version_is_the_executables_version() -> None:
    resource = dbt_resource()
    assert isinstance(resource, InstalledDbtCliResource)
    output = subprocess.run(
        [resource.dbt_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout
    core = re.search(r"installed:\s*(\d+\.\d+\.\d+)", output)
    assert core, output
    assert str(resource._cli_version) == core.group(1)


def test_each_step_starts_from_a_partial_parse_for_its_warehouse(tmp_path, monkeypatch) -> None:
    """After ensure_manifest for a warehouse, a dbt step against that warehouse does not
    parse the project again (dbt would say "Unable to do partial parsing")."""
    first, second = Settings.under(tmp_path / "a"), Settings.under(tmp_path / "b")
    ensure_manifest(first)
    marker = Path(DBT_PROJECT.manifest_path).with_name("partial_parse.warehouse")
    assert marker.read_text() == str(first.warehouse_path)
    ensure_manifest(second)  # another warehouse: parsed again for it
    assert marker.read_text() == str(second.warehouse_path)
    monkeypatch.setenv("CDW_WAREHOUSE_PATH", str(second.warehouse_path))
    invocation = dbt_resource().cli(["ls", "--select", "fqn:staging.social"], raise_on_error=True)
    messages = [event.raw_event["info"]["msg"] for event in invocation.stream_raw_events()]
    assert not [m for m in messages if "partial parsing" in m.lower()], messages[:5]
    assert any("stg_social__interactions" in m for m in messages)
