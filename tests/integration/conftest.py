"""Session fixtures of the integration tests.

`build` (test_pipeline.py, test_security.py): one run of the nightly job over every
delivery date of a small generated dataset, with a pseudonym key of its own (a random
secret drawn for the session, handed to dbt by the job as CDW_PSEUDONYM_KEY).

`nights`: four nights of the real nightly job on one landing folder that changes the way real
deliveries do — built once per test session and shared by the tests that need it
(test_delivery_holds.py, test_incremental_builds.py).

    night 1  days 06-08 land; events of 08 carry a defect (three bogus message types)
    night 2  day 09 lands; events of 07 are re-delivered with an extra file: five messages
             already delivered on 06 (duplicate messageIds) and one that happened days
             before its delivery (late)
    night 3  a steward releases events 08; day 10 lands; the run reads everything again
             (`--reload`)
    night 4  events 08 are re-delivered clean; the extra file of events 07 is withdrawn
             (the duplicates vanish again); web_access of 09 is re-delivered three lines
             shorter

After each night the state the tests ask about is recorded (the warehouse changes), and
after night 4 a copy of the warehouse is rebuilt from scratch with `dbt build
--full-refresh`, so the nightly builds can be compared with a full rebuild.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckEvaluation, DagsterEventType, DagsterInstance

from orchestration.cli import run_job
from orchestration.dbt.project import DBT_PROJECT_DIR
from orchestration.definitions import build_definitions
from orchestration.ingest.loader import ensure_tables
from orchestration.quality.fingerprint import warehouse_fingerprints
from orchestration.schedules.sensors import range_run_request
from orchestration.settings import Settings
from orchestration.state.holds import release
from orchestration.state.schema import ensure_state
from privacy import PseudonymKey, new_secret
from sample_data import GeneratorConfig, generate

PIPELINE_CONFIG = GeneratorConfig(customers=120, days=8, end_date=date(2026, 1, 10), seed=11)


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory):
    """(settings, manifest, result, instance): the generated deliveries of PIPELINE_CONFIG,
    loaded, gated and built in one run of `nightly` on an ephemeral Dagster instance."""
    root = tmp_path_factory.mktemp("pipeline")
    key = PseudonymKey.from_secret(new_secret())
    settings = dataclasses.replace(Settings.under(root), pseudonym_key=key)
    manifest = generate(PIPELINE_CONFIG, settings.landing_dir, settings.truth_dir)
    first = PIPELINE_CONFIG.end_date.toordinal() - PIPELINE_CONFIG.days + 1
    request = range_run_request(date.fromordinal(first), PIPELINE_CONFIG.end_date, run_key=None)
    instance = DagsterInstance.ephemeral()
    result = (
        build_definitions(settings)
        .resolve_job_def("nightly")
        .execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
    )
    return settings, manifest, result, instance


# -- four nights (test_delivery_holds.py, test_incremental_builds.py)

NIGHTS_CONFIG = GeneratorConfig(customers=60, days=5, end_date=date(2026, 1, 10), seed=23)
DAYS = [NIGHTS_CONFIG.end_date - timedelta(days=n) for n in range(4, -1, -1)]  # 06 .. 10
BAD_DAY = DAYS[2]  # 08
# Compared with a full rebuild: every model schema. (Snapshots are history: a rebuild
# cannot re-derive when a membership changed, so they are left out.)


@dataclass
class Night:
    code: int  # `cdw run`'s exit code
    output: str  # what it printed
    success: bool
    materialized: set[str]
    checks: dict[tuple[str, str], AssetCheckEvaluation]
    statuses: dict[tuple[str, date], str]  # state.delivery_status after the night
    facts: dict[str, object]  # FACTS, queried right after the night
    fingerprints: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)


@dataclass
class Nights:
    settings: Settings
    nights: list[Night]
    rebuilt: dict[str, dict[str, tuple[int, str]]]  # the full rebuild of night 4's data
    releases: list[tuple]
    redelivered_ids: list[str]  # the five messages of 06 delivered again with 07 (night 2)


# Asked after every night (the warehouse changes from night to night).
FACTS = {
    "events_staged_by_day": "SELECT _partition, count(*) FROM staging.stg_events__messages "
    "GROUP BY 1 ORDER BY 1",
    "events_in_raw_by_day": "SELECT _partition, count(*) FROM raw.events GROUP BY 1 ORDER BY 1",
    "events_visible_by_day": "SELECT _partition, count(*) FROM visible.events "
    "GROUP BY 1 ORDER BY 1",
    # Messages delivered on both 06 and 07 (the generator makes some such duplicates
    # itself; night 2 re-delivers five more with 07, night 4 withdraws them again).
    "delivered_06_and_07": "SELECT message_id, delivery_count FROM staging.stg_events__messages "
    f"WHERE list_contains(delivery_partitions, DATE '{DAYS[0]}') "
    f"AND list_contains(delivery_partitions, DATE '{DAYS[1]}') ORDER BY 1",
    "late_message": "SELECT count(*) FROM staging.stg_events__messages "
    "WHERE message_id = 'late-0001'",
    "requests_by_day": "SELECT _partition, count(*) FROM staging.stg_web_access__requests "
    "GROUP BY 1 ORDER BY 1",
    "customers": "SELECT count(*) FROM marts.dim_customers",
}


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def run_night(settings: Settings, reload: bool = False) -> Night:
    """One night as `cdw run` runs it (orchestration.cli.run_job), on its own instance."""
    instance = DagsterInstance.ephemeral()
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("DAGSTER_HOME", str(settings.data_dir / "dagster_home"))
        code = run_job(settings=settings, instance=instance, reload=reload)
    (run,) = instance.get_runs()

    def events(kind: DagsterEventType) -> list:
        return [e.dagster_event.event_specific_data for e in instance.all_logs(run.run_id, kind)]

    return Night(
        code=code,
        output=printed.getvalue(),
        success=run.is_success,
        materialized={
            m.materialization.asset_key.to_user_string()
            for m in events(DagsterEventType.ASSET_MATERIALIZATION)
        },
        checks={
            (e.asset_key.to_user_string(), e.check_name): e
            for e in events(DagsterEventType.ASSET_CHECK_EVALUATION)
        },
        statuses={
            (source, day): status
            for source, day, status in query(
                settings, "SELECT source, delivery_date, status FROM state.delivery_status"
            )
        },
        facts={name: query(settings, sql) for name, sql in FACTS.items()},
    )


def fingerprints(path: Path) -> dict[str, dict[str, tuple[int, str]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return warehouse_fingerprints(con)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()


def plant_defect(path: Path) -> None:
    """Three well-formed track messages get a `type` that is no Segment type: the loader
    keeps them (values are the gate's business), the gate's critical in-set rule fails.
    The file stays as it was delivered (plain or gzip)."""
    lines = read_text(path).splitlines()
    planted = 0
    for i, line in enumerate(lines):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "track" and planted < 3:
            message["type"] = "bogus"
            lines[i] = json.dumps(message)
            planted += 1
    assert planted == 3
    text = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)


def land(generated: Path, landing: Path, day: date) -> None:
    for folder in sorted(generated.glob(f"*/{day.isoformat()}")):
        shutil.copytree(folder, landing / folder.parent.name / folder.name)


def duplicates_and_a_late_message(generated: Path) -> str:
    """Five messages of day 06 again, and one new message that happened three days before
    its delivery on 07 (JSON lines of a file re-delivered with 07's events)."""
    messages = []
    for path in sorted((generated / "events" / DAYS[0].isoformat()).iterdir()):
        for line in read_text(path).splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("type") == "track":
                messages.append(message)
    late = dict(messages[5], messageId="late-0001", timestamp="2026-01-04T09:00:00+00:00")
    return "".join(json.dumps(m) + "\n" for m in [*messages[:5], late])


def full_refresh_copy(settings: Settings, target: Path) -> Path:
    """A copy of the warehouse with every model rebuilt from raw (`dbt build
    --full-refresh`, identity stitched from scratch)."""
    copy = target / "rebuilt.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [
            str(dbt), "build", "--full-refresh",
            "--vars", "{identity_restitch: full}",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
        ],
        capture_output=True, text=True, cwd=DBT_PROJECT_DIR,
        env={**os.environ, "CDW_WAREHOUSE_PATH": str(copy)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    return copy


@pytest.fixture(scope="session")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    root = tmp_path_factory.mktemp("nights")
    settings = Settings.under(root / "warehouse")
    generated = root / "generated"
    generate(NIGHTS_CONFIG, generated / "landing", generated / "truth")
    generated = generated / "landing"
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    shutil.copytree(generated.parent / "truth", settings.truth_dir)
    done: list[Night] = []

    for day in DAYS[:3]:
        land(generated, landing, day)
    plant_defect(landing / "events" / BAD_DAY.isoformat() / "web.jsonl.gz")
    done.append(run_night(settings))

    land(generated, landing, DAYS[3])
    retry = duplicates_and_a_late_message(generated)
    (landing / "events" / DAYS[1].isoformat() / "retry.jsonl").write_text(retry)
    redelivered_ids = [json.loads(line)["messageId"] for line in retry.splitlines()][:5]
    done.append(run_night(settings))

    with duckdb.connect(str(settings.warehouse_path)) as con:
        release(con, "events", BAD_DAY, "steward@test", "bogus types are a test feed")
        releases = con.execute("SELECT released_by, reason FROM state.delivery_releases").fetchall()
    land(generated, landing, DAYS[4])
    done.append(run_night(settings, reload=True))

    shutil.copy(  # the sender re-delivers the file clean
        generated / "events" / BAD_DAY.isoformat() / "web.jsonl.gz",
        landing / "events" / BAD_DAY.isoformat() / "web.jsonl.gz",
    )
    (landing / "events" / DAYS[1].isoformat() / "retry.jsonl").unlink()
    log = landing / "web_access" / DAYS[3].isoformat() / "access.log.gz"
    lines = gzip.decompress(log.read_bytes()).decode().splitlines(keepends=True)
    log.write_bytes(gzip.compress("".join(lines[:-3]).encode()))
    done.append(run_night(settings))
    done[-1].fingerprints = fingerprints(settings.warehouse_path)

    rebuilt = fingerprints(full_refresh_copy(settings, root))
    return Nights(
        settings=settings,
        nights=done,
        rebuilt=rebuilt,
        releases=releases,
        redelivered_ids=redelivered_ids,
    )


# -- the bad-input corpus (test_bad_files.py, test_bad_records.py): a scratch landing folder
# and an empty warehouse per test; no pipeline run.


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw and state tables, created once (a second each) and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        ensure_tables(connection)
        ensure_state(connection)
    return path


@pytest.fixture
def warehouse(empty_warehouse: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(empty_warehouse, tmp_path / "warehouse.duckdb"))


@pytest.fixture
def con(warehouse: Path):
    connection = duckdb.connect(str(warehouse))
    yield connection
    connection.close()
