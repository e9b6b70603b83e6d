"""Dagster event-log benchmark: one run of a step with many assets and checks, stored by
Dagster's ConsolidatedSqliteEventLogStorage and by the project's PooledSqliteEventLogStorage
(orchestration/event_log.py), each in a scratch DAGSTER_HOME.

    .venv/bin/python -m benchmarks.event_log [--assets 40 --checks-per-asset 6]

Each storage runs in its own process (an instance's storage is chosen when it is created).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STORAGES = {
    "ConsolidatedSqliteEventLogStorage": "dagster.core.storage.event_log",
    "PooledSqliteEventLogStorage": "orchestration.event_log",
}


def run_once(storage: str, assets: int, checks: int) -> float:
    """Seconds for one `materialize` of the multi-asset on a new instance using `storage`."""
    from dagster import (
        AssetCheckResult,
        AssetCheckSpec,
        AssetSpec,
        DagsterInstance,
        MaterializeResult,
        materialize,
        multi_asset,
    )

    home = Path(tempfile.mkdtemp(prefix="cdw-evbench-"))  # removed by main()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nevent_log_storage:\n"
        f"  module: {STORAGES[storage]}\n  class: {storage}\n"
        f"  config:\n    base_dir: {home}\n"
    )
    os.environ["DAGSTER_HOME"] = str(home)
    specs = [AssetSpec(f"asset_{i}") for i in range(assets)]
    check_specs = [AssetCheckSpec(f"check_{j}", asset=s.key) for s in specs for j in range(checks)]

    @multi_asset(specs=specs, check_specs=check_specs)
    def many():
        for spec in specs:
            yield MaterializeResult(asset_key=spec.key)
        for c in check_specs:
            yield AssetCheckResult(asset_key=c.asset_key, check_name=c.name, passed=True)

    with DagsterInstance.get() as instance:
        started = time.perf_counter()
        assert materialize([many], instance=instance).success
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=40)
    parser.add_argument("--checks-per-asset", type=int, default=6)
    parser.add_argument("--storage", choices=sorted(STORAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.storage:
        print(f"{run_once(args.storage, args.assets, args.checks_per_asset):.2f}")
        shutil.rmtree(os.environ["DAGSTER_HOME"], ignore_errors=True)
        return
    total = args.assets * (1 + args.checks_per_asset)
    for storage in STORAGES:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.event_log", "--storage", storage,
             "--assets", str(args.assets), "--checks-per-asset", str(args.checks_per_asset)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = float(out.stdout.strip().splitlines()[-1])
        print(f"{storage:<36}{seconds:7.2f} s  ({total} assets and checks, one run)")


if __name__ == "__main__":
    main()
