"""Dagster event-log benchmark: one run of a step with many assets and checks, stored by
Dagster's ConsolidatedSqliteEventLogStorage and by the project's PooledSqliteEventLogStorage
(orchestration/event_log.py), each in a scratch DAGSTER_HOME.

    .venv/bin/python -m benchmarks.event_log [--assets 40 --checks-per-asset 6] [--days 1]

With `--days N` the assets are daily-partitioned and the run covers a range of N dates, as
a first build or a backfill does (Dagster plans every check once per date).

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


def run_once(storage: str, assets: int, checks: int, days: int) -> float:
    """Seconds for one `materialize` of the multi-asset on a new instance using `storage`."""
    from datetime import date, timedelta

    from dagster import (
        AssetCheckResult,
        AssetCheckSpec,
        AssetSpec,
        DagsterInstance,
        DailyPartitionsDefinition,
        MaterializeResult,
        materialize,
        multi_asset,
    )
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    home = Path(tempfile.mkdtemp(prefix="cdw-evbench-"))  # removed by main()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nevent_log_storage:\n"
        f"  module: {STORAGES[storage]}\n  class: {storage}\n"
        f"  config:\n    base_dir: {home}\n"
    )
    os.environ["DAGSTER_HOME"] = str(home)
    first = date(2026, 1, 1)
    last = first + timedelta(days=days - 1)
    partitions = (
        DailyPartitionsDefinition(
            start_date=first.isoformat(), end_date=(last + timedelta(1)).isoformat()
        )
        if days > 1
        else None
    )
    specs = [AssetSpec(f"asset_{i}", partitions_def=partitions) for i in range(assets)]
    check_specs = [AssetCheckSpec(f"check_{j}", asset=s.key) for s in specs for j in range(checks)]
    tags = (
        {
            ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
        }
        if days > 1
        else {}
    )

    @multi_asset(specs=specs, check_specs=check_specs, partitions_def=partitions)
    def many():
        for spec in specs:
            yield MaterializeResult(asset_key=spec.key)
        for c in check_specs:
            yield AssetCheckResult(asset_key=c.asset_key, check_name=c.name, passed=True)

    with DagsterInstance.get() as instance:
        started = time.perf_counter()
        assert materialize([many], instance=instance, tags=tags).success
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=40)
    parser.add_argument("--checks-per-asset", type=int, default=6)
    parser.add_argument("--days", type=int, default=1, help="partitions the run covers")
    parser.add_argument("--storage", choices=sorted(STORAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.storage:
        print(f"{run_once(args.storage, args.assets, args.checks_per_asset, args.days):.2f}")
        shutil.rmtree(os.environ["DAGSTER_HOME"], ignore_errors=True)
        return
    total = args.assets * (1 + args.checks_per_asset)
    for storage in STORAGES:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.event_log", "--storage", storage,
             "--assets", str(args.assets), "--checks-per-asset", str(args.checks_per_asset),
             "--days", str(args.days)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = float(out.stdout.strip().splitlines()[-1])
        span = f"one run over {args.days} dates" if args.days > 1 else "one run"
        print(f"{storage:<36}{seconds:7.2f} s  ({total} assets and checks, {span})")


if __name__ == "__main__":
    main()
