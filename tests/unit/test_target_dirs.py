"""dagster-dbt's invocation folders are pruned to the newest few; dbt's own files stay."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.dbt.target_dirs import KEPT_INVOCATIONS, prune_invocation_dirs


def test_only_the_newest_invocation_folders_stay(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    names = [f"dbt_build-{i:07x}-{i + 100:07x}" for i in range(8)] + ["0a1b2c3", "1b2c3d4"]
    for age, name in enumerate(names):  # the first name is the newest
        folder = target / name
        (folder / "compiled").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    for own in ("manifest.json", "partial_parse.msgpack"):
        (target / own).write_text("x")
    (target / "dbt_packages").mkdir()  # not an invocation folder: kept
    removed = prune_invocation_dirs(target)
    assert sorted(p.name for p in removed) == sorted(names[KEPT_INVOCATIONS:])
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [*names[:KEPT_INVOCATIONS], "dbt_packages", "manifest.json", "partial_parse.msgpack"]
    )
    assert prune_invocation_dirs(target) == []
