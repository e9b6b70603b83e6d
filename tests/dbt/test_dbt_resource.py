"""The dbt resource reports the version of the dbt executable it runs, without asking it
(orchestration/dbt/assets.py: InstalledDbtCliResource skips `dbt --version` per step), and
its steps start from a partial parse made for their warehouse (orchestration/dbt/project.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from orchestration.dbt.assets import InstalledDbtCliResource, dbt_resource
from orchestration.dbt.project import DBT_PROJECT_DIR, MARKER, PARTIAL_PARSE, ensure_manifest
from orchestration.settings import Settings


def test_the_installed_version_is_the_executables_version() -> None:
    resource = dbt_resource(Settings.under(Path("/nonexistent")))
    assert isinstance(resource, InstalledDbtCliResource)
    output = subprocess.run(
        [resource.dbt_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout
    core = re.search(r"installed:\s*(\d+\.\d+\.\d+)", output)
    assert core, output
    assert str(resource._cli_version) == core.group(1)


def test_each_step_starts_from_a_partial_parse_for_its_warehouse(tmp_path, monkeypatch) -> None:
    """Each warehouse has its own dbt target folder (manifest, partial parse, invocation
    folders); after ensure_manifest for a warehouse, a dbt step against that warehouse does
    not parse the project again (dbt would say "Unable to do partial parsing"), and nothing
    is written into the project's own target/ folder."""
    shared = DBT_PROJECT_DIR / "target"
    before = sorted(p.name for p in shared.iterdir()) if shared.is_dir() else []
    first, second = Settings.under(tmp_path / "a"), Settings.under(tmp_path / "b")
    ensure_manifest(first)
    ensure_manifest(second)
    for settings in (first, second):
        target = settings.dbt_target_dir
        assert target.is_relative_to(settings.data_dir)
        assert (target / MARKER).read_text() == str(settings.warehouse_path)
        assert (target / PARTIAL_PARSE).is_file() and (target / "manifest.json").is_file()
    first_manifest = (first.dbt_target_dir / "manifest.json").stat().st_mtime_ns
    assert ensure_manifest(first) == first.dbt_target_dir / "manifest.json"  # still current
    assert (first.dbt_target_dir / "manifest.json").stat().st_mtime_ns == first_manifest
    monkeypatch.setenv("CDW_WAREHOUSE_PATH", str(second.warehouse_path))
    invocation = dbt_resource(second).cli(
        ["ls", "--select", "fqn:staging.social"], raise_on_error=True
    )
    messages = [event.raw_event["info"]["msg"] for event in invocation.stream_raw_events()]
    assert not [m for m in messages if "partial parsing" in m.lower()], messages[:5]
    assert any("stg_social__interactions" in m for m in messages)
    assert invocation.target_path.parent == second.dbt_target_dir
    assert (invocation.target_path / "dbt.log").is_file()  # dbt logs beside its artefacts
    after = sorted(p.name for p in shared.iterdir()) if shared.is_dir() else []
    assert after == before
