"""Where things live. Every path can be overridden by an environment variable.

Defaults keep everything inside the project folder (`data/`, ignored by git), so the
quick start needs no configuration; pointing `CDW_LANDING_DIR` at your own deliveries and
`CDW_WAREHOUSE_PATH` at another file is all it takes to run on real data.

Everything a run leaves behind besides the warehouse — dbt's manifest, partial-parse file
and invocation folders, the Great Expectations results and Data Docs, the run lock, and
(unless DAGSTER_HOME says otherwise) Dagster's run history — lives in the warehouse's own
artefacts folder, beside the file and named after it (`data/warehouse.duckdb.artefacts/`),
so two warehouses on one checkout never share any of it (docs/reliability.md,
"Housekeeping"). What is older than `CDW_RETENTION_DAYS` is removed by every run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from privacy import PseudonymKey

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"


def business_term(name: str) -> Any:
    """A business term (session timeout, late-arrival window, …) as dbt_project.yml's
    `vars` define it: the one place every model, suite and command reads it from."""
    import yaml

    terms = yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]
    if name not in terms:
        raise KeyError(f"{name} is not a var in {DBT_PROJECT_FILE}")
    return terms[name]


# Run artefacts older than this many days are removed by every run (CDW_RETENTION_DAYS).
DEFAULT_RETENTION_DAYS = 30
ARTEFACTS_SUFFIX = ".artefacts"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    truth_dir: Path
    warehouse_path: Path
    first_delivery_date: date
    # The Great Expectations project the gate validates with (suites, checkpoints; its
    # results and Data Docs go to the warehouse's artefacts folder, `gx_artefacts_dir`).
    gx_project_dir: Path = PROJECT_ROOT / "expectations"
    # Run artefacts of this warehouse (None: beside the file, `<file>.artefacts/`).
    artefacts_root: Path | None = None
    # Artefacts older than this are removed by every run (housekeeping.py).
    retention_days: int = DEFAULT_RETENTION_DAYS
    # How long a run waits for another run on this warehouse before refusing (run_lock.py).
    run_lock_wait_seconds: float = 0.0

    @property
    def artefacts_dir(self) -> Path:
        """Everything a run leaves beside the warehouse: one folder per warehouse file."""
        if self.artefacts_root is not None:
            return self.artefacts_root
        return self.warehouse_path.with_name(self.warehouse_path.name + ARTEFACTS_SUFFIX)

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's manifest and partial-parse file, and one folder per dbt invocation."""
        return self.artefacts_dir / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        """dbt.log of the `dbt parse` runs (each build logs into its invocation folder)."""
        return self.artefacts_dir / "dbt" / "logs"

    @property
    def gx_artefacts_dir(self) -> Path:
        """Great Expectations validation results (`validations/`) and Data Docs
        (`data_docs/local_site/`) of this warehouse."""
        return self.artefacts_dir / "gx"

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance (run history) when DAGSTER_HOME is not set."""
        return self.artefacts_dir / "dagster_home"

    @property
    def run_lock_path(self) -> Path:
        return self.artefacts_dir / "run.lock"

    # The secret of the keyed pseudonyms (privacy/pseudonyms.py, docs/privacy.md):
    # CDW_PSEUDONYM_KEY, else the public development key (flagged `is_development`, and
    # every run says so). The dbt step hands it to dbt's environment; repr never shows it.
    pseudonym_key: PseudonymKey = field(default_factory=PseudonymKey.from_env)

    @classmethod
    def under(cls, root: Path, first_delivery_date: date = date(2015, 1, 1)) -> Settings:
        """Everything in one folder, laid out like the defaults (tests, benchmarks); the GX
        project as `CDW_GX_PROJECT_DIR` says (tests point it at a scratch copy); retention
        and lock wait at their defaults (`dataclasses.replace` for others)."""
        return cls(
            data_dir=root,
            landing_dir=root / "landing",
            truth_dir=root / "truth",
            warehouse_path=root / "warehouse.duckdb",
            first_delivery_date=first_delivery_date,
            gx_project_dir=_gx_project_dir(),
        )

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("CDW_DATA_DIR", PROJECT_ROOT / "data"))
        return cls(
            data_dir=data_dir,
            landing_dir=Path(os.environ.get("CDW_LANDING_DIR", data_dir / "landing")),
            truth_dir=Path(os.environ.get("CDW_TRUTH_DIR", data_dir / "truth")),
            warehouse_path=Path(
                os.environ.get("CDW_WAREHOUSE_PATH", data_dir / "warehouse.duckdb")
            ),
            first_delivery_date=date.fromisoformat(
                os.environ.get("CDW_FIRST_DELIVERY_DATE", "2015-01-01")
            ),
            gx_project_dir=_gx_project_dir(),
            artefacts_root=(
                Path(os.environ["CDW_ARTEFACTS_DIR"])
                if os.environ.get("CDW_ARTEFACTS_DIR")
                else None
            ),
            retention_days=_retention_days(),
            run_lock_wait_seconds=_run_lock_wait(),
        )


def _gx_project_dir() -> Path:
    return Path(os.environ.get("CDW_GX_PROJECT_DIR", PROJECT_ROOT / "expectations"))


def _retention_days() -> int:
    value = os.environ.get("CDW_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"CDW_RETENTION_DAYS must be a whole number of days ≥ 1, not {value!r}")
    return int(value)


def _run_lock_wait() -> float:
    value = os.environ.get("CDW_RUN_LOCK_WAIT", "0")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ValueError(f"CDW_RUN_LOCK_WAIT must be a number of seconds ≥ 0, not {value!r}")
    return seconds
