"""Where things live. Every path can be overridden by an environment variable.

Defaults keep everything inside the project folder (`data/`, ignored by git), so the
quick start needs no configuration; pointing `CDW_LANDING_DIR` at your own deliveries and
`CDW_WAREHOUSE_PATH` at another file is all it takes to run on real data.
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


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    truth_dir: Path
    warehouse_path: Path
    first_delivery_date: date
    # The Great Expectations project the gate validates with and writes Data Docs into.
    gx_project_dir: Path = PROJECT_ROOT / "expectations"
    # The secret of the keyed pseudonyms (privacy/pseudonyms.py, docs/privacy.md):
    # CDW_PSEUDONYM_KEY, else the public development key (flagged `is_development`, and
    # every run says so). The dbt step hands it to dbt's environment; repr never shows it.
    pseudonym_key: PseudonymKey = field(default_factory=PseudonymKey.from_env)

    @classmethod
    def under(cls, root: Path, first_delivery_date: date = date(2015, 1, 1)) -> Settings:
        """Everything in one folder, laid out like the defaults (tests, benchmarks); the GX
        project as `CDW_GX_PROJECT_DIR` says (tests point it at a scratch copy)."""
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
        )


def _gx_project_dir() -> Path:
    return Path(os.environ.get("CDW_GX_PROJECT_DIR", PROJECT_ROOT / "expectations"))
