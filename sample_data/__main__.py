"""CLI: python -m sample_data --customers N --days D --end-date YYYY-MM-DD ...

Without --landing / --truth it writes where the pipeline reads: CDW_LANDING_DIR and
CDW_TRUTH_DIR, else landing/ and truth/ under CDW_DATA_DIR (default: data/ in the project),
the same defaults as orchestration/settings.py, read here so the generator does not import
the Dagster code location.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from .config import SOURCES, GeneratorConfig, yesterday_utc
from .generator import generate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_dirs() -> tuple[Path, Path]:
    """The landing and truth dirs the pipeline reads by default (orchestration/settings.py)."""
    data_dir = Path(os.environ.get("CDW_DATA_DIR", PROJECT_ROOT / "data"))
    return (
        Path(os.environ.get("CDW_LANDING_DIR", data_dir / "landing")),
        Path(os.environ.get("CDW_TRUTH_DIR", data_dir / "truth")),
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sample_data",
        description="Generate a deterministic sample landing folder and its ground truth.",
    )
    p.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    p.add_argument("--days", type=int, default=90, help="number of delivery days (default 90)")
    p.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="last delivery date, YYYY-MM-DD (default: yesterday, UTC)",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--landing", type=Path, default=None, help="landing dir (default: CDW_LANDING_DIR)"
    )
    p.add_argument("--truth", type=Path, default=None, help="truth dir (default: CDW_TRUTH_DIR)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the landing and truth dirs first if the landing dir has files",
    )
    p.add_argument("--quiet", action="store_true", help="no per-day progress")
    return p


def _has_files(path: Path) -> bool:
    return path.exists() and any(p.is_file() for p in path.rglob("*"))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    landing, truth = args.landing, args.truth
    if landing is None or truth is None:
        default_landing, default_truth = default_dirs()
        landing = landing or default_landing
        truth = truth or default_truth
    try:
        config = GeneratorConfig(
            customers=args.customers,
            days=args.days,
            end_date=args.end_date or yesterday_utc(),
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if _has_files(landing):
        if not args.overwrite:
            print(
                f"error: landing dir {landing} already has files; "
                "pass --overwrite to delete it (and the truth dir) and generate again",
                file=sys.stderr,
            )
            return 2
        shutil.rmtree(landing)
        if truth.exists():
            shutil.rmtree(truth)
    start = time.monotonic()
    print(
        f"generating {config.customers} customers x {config.days} days "
        f"({config.start_date} .. {config.end_date}), seed {config.seed}",
        flush=True,
    )
    progress = None if args.quiet else (lambda msg: print("  " + msg, flush=True))
    manifest = generate(config, landing, truth, progress)
    print(f"{'source':<18}{'files':>7}{'records':>13}{'malformed':>11}")
    for source in SOURCES:
        s = manifest["sources"][source]
        print(f"{source:<18}{s['files']:>7}{s['records']:>13,}{s['malformed']:>11,}")
    print(f"landing: {landing}")
    print(
        f"truth:   {truth}  ({manifest['truth']['identities']:,} identifiers, "
        f"{manifest['truth']['junk_identifiers']:,} junk / shared)"
    )
    print(f"digest:  {manifest['digest']}")
    print(f"done in {time.monotonic() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
