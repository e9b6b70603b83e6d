"""The real Apache access log (elastic/examples, 10,000 lines): nothing lost, bots known."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.landing import files_for
from orchestration.ingest.loader import ensure_tables, load_partition
from orchestration.ingest.sources import WEB_ACCESS
from orchestration.ingest.user_agents import update_user_agents

DAY = date(2015, 5, 20)
LOG = "weblogs/elastic_apache_logs.log"


@pytest.fixture(scope="module")
def warehouse(external: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("weblogs")
    folder = root / "landing" / "web_access" / DAY.isoformat()
    folder.mkdir(parents=True)
    shutil.copy(external / LOG, folder / "access.log")
    con = duckdb.connect(str(root / "w.duckdb"))
    ensure_tables(con)
    files = files_for(root / "landing", "web_access", DAY)
    audits = load_partition(con, WEB_ACCESS, DAY, files, datetime(2026, 1, 1, tzinfo=UTC))
    update_user_agents(con, DAY, DAY)
    yield con, audits, external / LOG, root / "landing"
    con.close()


def test_every_line_is_accounted_for(warehouse) -> None:
    con, (audit,), log_path, _ = warehouse
    # Counted independently of the loader: physical lines of the file.
    lines = log_path.read_bytes().splitlines()
    assert len(lines) == 10_000
    raw, quarantined = con.execute(
        "SELECT (SELECT count(*) FROM raw.web_access), (SELECT count(*) FROM raw.quarantine)"
    ).fetchone()
    assert raw + quarantined == len(lines) == audit.records_in
    # Every line number 1..10000 appears exactly once across raw and quarantine.
    (distinct_lines,) = con.execute(
        "SELECT count(DISTINCT _line) FROM (SELECT _line FROM raw.web_access "
        "UNION ALL SELECT _line FROM raw.quarantine)"
    ).fetchone()
    assert distinct_lines == 10_000


def test_truncated_googlebot_line_is_quarantined_with_its_text(warehouse) -> None:
    con, _, log_path, _ = warehouse
    rows = con.execute("SELECT _line, reason, raw_text FROM raw.quarantine").fetchall()
    line_8899 = log_path.read_text().splitlines()[8898]
    assert rows == [(8899, "log_truncated", line_8899)]
    assert "Googlebot" in line_8899 and not line_8899.endswith('"')


def test_dash_bytes_and_timestamps_load(warehouse) -> None:
    con, _, _, _ = warehouse
    dash_bytes, bad_times = con.execute(
        """
        SELECT count(*) FILTER (WHERE response_bytes = '-'),
               count(*) FILTER (WHERE try_strptime(request_time, '%d/%b/%Y:%H:%M:%S %z') IS NULL)
        FROM raw.web_access
        """
    ).fetchone()
    assert dash_bytes == 669  # external/README.md: '-' bytes on 669 lines
    assert bad_times == 0


@pytest.mark.parametrize(
    ("line", "crawler"),
    [
        (33, True),  # Googlebot
        (31, True),  # Googlebot smartphone (iPhone UA + Googlebot)
        (697, True),  # bingbot
        (40, True),  # Baiduspider
        (7941, True),  # curl
        (1, False),  # Chrome on a Mac
    ],
)
def test_named_crawler_lines_are_recognised(warehouse, line: int, crawler: bool) -> None:
    con, _, _, _ = warehouse
    (is_crawler,) = con.execute(
        """
        SELECT ua.is_crawler FROM raw.web_access w
        JOIN raw.user_agents ua USING (user_agent) WHERE w._line = ?
        """,
        [line],
    ).fetchone()
    assert is_crawler is crawler


def test_reloading_the_partition_changes_nothing(warehouse) -> None:
    con, _, _, landing = warehouse
    content = (
        "SELECT (SELECT count(*) FROM raw.web_access), "
        "(SELECT sum(hash(_file, _line, remote_host, request, user_agent, extra_fields::VARCHAR))"
        " FROM raw.web_access), "
        "(SELECT sum(hash(_file, _line, reason, raw_text)) FROM raw.quarantine), "
        "(SELECT count(*) FROM raw.load_audit)"
    )
    before = con.execute(content).fetchone()
    files = files_for(landing, "web_access", DAY)
    load_partition(con, WEB_ACCESS, DAY, files, datetime(2026, 1, 2, tzinfo=UTC))
    assert con.execute(content).fetchone() == before
