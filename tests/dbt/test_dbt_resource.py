"""The dbt resource reports the version of the dbt executable it runs, without asking it
(orchestration/dbt/assets.py: InstalledDbtCliResource skips `dbt --version` per step)."""

from __future__ import annotations

import re
import subprocess

from orchestration.dbt.assets import InstalledDbtCliResource, dbt_resource


def test_the_installed_version_is_the_executables_version() -> None:
    resource = dbt_resource()
    assert isinstance(resource, InstalledDbtCliResource)
    output = subprocess.run(
        [resource.dbt_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout
    core = re.search(r"installed:\s*(\d+\.\d+\.\d+)", output)
    assert core, output
    assert str(resource._cli_version) == core.group(1)
