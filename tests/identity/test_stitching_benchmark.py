"""The stitching benchmark runs end to end at a tiny size (its figures are for docs, not
asserted): both modes compare their two sides and exit non-zero when they differ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.identity_stitching", "--workdir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout[result.stdout.index("\n[") + 1 :])


def test_against_networkx(tmp_path: Path) -> None:
    [row] = run(tmp_path, "--edges", "20000")
    assert row["identical_partitions"] and row["mismatched_nodes"] == 0
    assert row["duckdb"]["nodes"] == row["networkx"]["nodes"] > 10000


def test_nightly_increment_with_removals(tmp_path: Path) -> None:
    [row] = run(tmp_path, "--edges", "20000", "--increment", "0.01", "--removed", "0.01")
    assert row["identical"]
    assert row["previous"]["removed_edges"] > 0
    assert row["incremental"]["reopened_components"] > 0
    assert row["incremental"]["new_edges"] > 0
