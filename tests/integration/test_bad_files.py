"""File-level safety: bad files, each accounted by name (docs/reliability.md, "File-level
safety"; issue 18, item 2).

Each case writes its own fixture into a scratch landing folder (tmp_path), loads it with
the loader as the raw assets do (`files_for` → `load_deliveries`), and asserts

* the file's accounting, recounted here from the bytes the test wrote (never from the
  loader's own audit): physical lines = raw rows + quarantined rows + header + blank;
* the reason of a file that is not read: one `raw.load_audit` row naming it, no rows,
  nothing of its contents stored anywhere;
* that every other file (another file of the same delivery, another day) still loads.

`test_the_gate_holds_a_delivery_with_a_file_not_read` runs the Great Expectations gate
(the scratch GX project of tests/conftest.py) to show the hold, the named failure and the
run summary; the rest run the loader only, so the module takes seconds. The fixtures
(`landing`, `warehouse`, `con`) are in tests/integration/conftest.py; the record-level
cases and the schema drift are in test_bad_records.py, which uses the helpers here.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import loader
from orchestration.ingest.landing import files_for
from orchestration.ingest.loader import load_deliveries
from orchestration.ingest.parsing import BLANK_CHARACTERS
from orchestration.ingest.sources import SOURCES_BY_NAME
from orchestration.ingest.summary import render, summarise
from tests.support import column_texts

DAY = date(2026, 1, 5)
OTHER_DAY = date(2026, 1, 6)
LOADED_AT = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)
OUTSIDE_TEXT = "root:x:0:0:secret-outside-the-landing-folder"


def message(message_id: str) -> str:
    return json.dumps(
        {
            "messageId": message_id,
            "type": "track",
            "event": "Signed In",
            "anonymousId": "a-1",
            "timestamp": "2026-01-05T10:00:00Z",
        }
    )


def consent(consent_id: str) -> str:
    return json.dumps(
        {
            "consent_id": consent_id,
            "anonymous_id": "a-1",
            "purpose": "analytics",
            "status": "granted",
            "jurisdiction": "GDPR",
            "recorded_at": "2026-01-05T10:00:00Z",
        }
    )


def access_line(n: int) -> str:
    return (
        f'1.2.3.{n} - - [05/Jan/2026:10:00:0{n % 10} +0000] "GET /p{n} HTTP/1.1" 200 5 '
        '"-" "Mozilla/5.0"'
    )


def land(landing: Path, source: str, name: str, data: bytes | str, day: date = DAY) -> Path:
    folder = landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load(con, landing: Path, source: str, days: tuple[date, ...] = (DAY,)):
    """As the raw asset loads: list each delivery, load the batch."""
    deliveries = [(day, files_for(landing, source, day)) for day in days]
    return load_deliveries(con, SOURCES_BY_NAME[source], deliveries, LOADED_AT, "test-run")


def audit(con, source: str) -> dict[str, tuple]:
    """raw.load_audit per file: (records_in, raw_rows, quarantined_rows, blank_lines,
    refused_reason, refused_detail)."""
    return {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT _file, records_in, raw_rows, quarantined_rows, blank_lines, "
            "refused_reason, refused_detail FROM raw.load_audit WHERE source = ? ORDER BY 1",
            [source],
        ).fetchall()
    }


def rows_of(con, source: str, relative: str) -> tuple[int, int]:
    """(raw rows, quarantined rows) of one file, counted in the tables themselves."""
    table = SOURCES_BY_NAME[source].table
    return con.execute(
        f"SELECT (SELECT count(*) FROM {table} WHERE _file = $f), "
        "(SELECT count(*) FROM raw.quarantine WHERE source = $s AND _file = $f)",
        {"f": relative, "s": source},
    ).fetchone()


def assert_accounted(con, source: str, relative: str, text: str, header: int = 0) -> int:
    """Physical lines of `text` (as the test wrote it) = raw + quarantined + header +
    blank, the blank lines recounted here. Returns the raw rows."""
    lines = text.removesuffix("\n").split("\n") if text else []
    blank = sum(1 for line in lines if line.strip(BLANK_CHARACTERS) == "")
    raw, quarantined = rows_of(con, source, relative)
    assert len(lines) == raw + quarantined + header + blank, (relative, len(lines), raw)
    return raw


def assert_refused(con, source: str, relative: str, reason: str) -> str:
    """One audit row for the file, with its reason, and nothing else: no raw row, no
    quarantine row (no `raw_text`), no warning — the refusal is all that is stored of it
    (docs/reliability.md, "Security checks"). Returns the detail."""
    records_in, raw, quarantined, _blank, refused, detail = audit(con, source)[relative]
    assert (records_in, raw, quarantined, refused) == (0, 0, 0, reason), relative
    assert rows_of(con, source, relative) == (0, 0)
    assert relative in detail  # the reason names the file
    assert tables_naming(con, relative) == {"raw.load_audit": 1}
    return detail


def tables_naming(con, relative: str) -> dict[str, int]:
    """Rows per table (every schema) whose `_file` is `relative`."""
    tables = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.columns "
        "JOIN information_schema.tables USING (table_catalog, table_schema, table_name) "
        "WHERE column_name = '_file' AND table_type = 'BASE TABLE'"
    ).fetchall()
    counts = {
        table: con.execute(f"SELECT count(*) FROM {table} WHERE _file = ?", [relative]).fetchall()
        for (table,) in tables
    }
    return {table: n for table, ((n,),) in counts.items() if n}


def assert_stored_nowhere(con, *texts: str) -> None:
    """None of `texts` is in any column of any table or view of the warehouse."""
    stored = column_texts(con)
    assert stored
    assert [(t, where) for t in texts for where, text in stored.items() if t in text] == []


def message_ids(con, relative: str) -> list[str]:
    return [
        m
        for (m,) in con.execute(
            "SELECT message_id FROM raw.events WHERE _file = ? ORDER BY _line", [relative]
        ).fetchall()
    ]


def rel(name: str, source: str = "events", day: date = DAY) -> str:
    return f"{source}/{day.isoformat()}/{name}"


# -- paths are read literally, never as patterns ---------------------------------------------

GLOB_NAMES = [
    "s[1].jsonl",
    "s1.jsonl",
    "a*b.jsonl",
    "ab.jsonl",
    "q?.jsonl",
    "qx.jsonl",
    "it's.jsonl",
    'say "hi".jsonl',
    "semi;colon.jsonl",
    "with space.jsonl",
    "back\\slash[2].jsonl",
    "curly{a,b}.jsonl",
    "**.jsonl",
]


def test_glob_and_shell_characters_in_names_read_each_file_once(con, landing: Path) -> None:
    for number, name in enumerate(GLOB_NAMES):
        land(landing, "events", name, message(f"m-{number}") + "\n" + message(f"n-{number}"))
    audits = load(con, landing, "events")
    assert len(audits) == len(GLOB_NAMES) and all(a.balanced for a in audits)
    for number, name in enumerate(GLOB_NAMES):
        # each file's own records, once: not another file's, not twice
        assert message_ids(con, rel(name)) == [f"m-{number}", f"n-{number}"], name
        assert audit(con, "events")[rel(name)][:3] == (2, 2, 0)
    assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (2 * len(GLOB_NAMES),)


def test_a_glob_character_in_the_landing_folder_itself(con, tmp_path: Path) -> None:
    landing = tmp_path / "land[ing]*"
    land(landing, "events", "e.jsonl", message("m-1"))
    (tmp_path / "landi").mkdir()  # what `land[ing]` would match as a pattern
    load(con, landing, "events")
    assert message_ids(con, rel("e.jsonl")) == ["m-1"]


# -- nothing outside the landing folder is read ----------------------------------------------


def test_a_symlink_out_of_the_landing_folder_is_refused_and_never_read(
    con, landing: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "passwd"
    outside.write_text(OUTSIDE_TEXT + "\n" + OUTSIDE_TEXT + "\n")
    good = message("m-1") + "\n"
    land(landing, "events", "good.jsonl", good)
    (landing / "events" / DAY.isoformat() / "passwd.jsonl").symlink_to(outside)
    (landing / "events" / DAY.isoformat() / "dangling.jsonl").symlink_to(tmp_path / "nothing")
    load(con, landing, "events")
    detail = assert_refused(con, "events", rel("passwd.jsonl"), "symlink_outside_landing")
    assert "outside the landing folder" in detail
    assert_refused(con, "events", rel("dangling.jsonl"), "symlink_outside_landing")
    assert_stored_nowhere(con, OUTSIDE_TEXT)  # its contents are stored nowhere
    assert assert_accounted(con, "events", rel("good.jsonl"), good) == 1


def test_a_symlink_inside_the_landing_folder_is_refused_too(con, landing: Path) -> None:
    good = message("m-1") + "\n" + message("m-2") + "\n"
    land(landing, "events", "good.jsonl", good)
    (landing / "events" / DAY.isoformat() / "zz-link.jsonl").symlink_to("good.jsonl")
    load(con, landing, "events")
    detail = assert_refused(con, "events", rel("zz-link.jsonl"), "symlink")
    assert "a link is not a delivery" in detail
    # the target is read once, under its own name
    assert message_ids(con, rel("good.jsonl")) == ["m-1", "m-2"]
    assert assert_accounted(con, "events", rel("good.jsonl"), good) == 2


def test_a_linked_date_folder_is_one_refused_entry(con, landing: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "e.jsonl").write_text(OUTSIDE_TEXT + "\n")
    (landing / "events").mkdir()
    (landing / "events" / DAY.isoformat()).symlink_to(outside, target_is_directory=True)
    good = message("m-9") + "\n"
    land(landing, "events", "e.jsonl", good, day=OTHER_DAY)
    load(con, landing, "events", (DAY, OTHER_DAY))
    assert_refused(con, "events", f"events/{DAY.isoformat()}", "symlink_outside_landing")
    assert rel("e.jsonl") not in audit(con, "events")  # not even listed
    assert_stored_nowhere(con, OUTSIDE_TEXT)
    assert message_ids(con, rel("e.jsonl", day=OTHER_DAY)) == ["m-9"]


def test_the_same_file_under_two_names_is_read_once(con, landing: Path) -> None:
    """Policy: a hard link is a second name of one file (same device and inode) in one
    delivery; the first name in name order loads, every other name is refused as
    `duplicate_file`, naming the first (and holds the delivery, like every refusal)."""
    good = message("m-1") + "\n"
    first = land(landing, "events", "a.jsonl", good)
    os.link(first, first.with_name("b.jsonl"))
    load(con, landing, "events")
    assert message_ids(con, rel("a.jsonl")) == ["m-1"]
    detail = assert_refused(con, "events", rel("b.jsonl"), "duplicate_file")
    assert rel("a.jsonl") in detail
    assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (1,)


def test_a_pipe_is_refused_without_blocking(con, landing: Path) -> None:
    land(landing, "events", "good.jsonl", message("m-1"))
    os.mkfifo(landing / "events" / DAY.isoformat() / "pipe.jsonl")
    load(con, landing, "events")
    assert_refused(con, "events", rel("pipe.jsonl"), "not_a_regular_file")
    assert message_ids(con, rel("good.jsonl")) == ["m-1"]


# -- files that cannot be read at all --------------------------------------------------------


def test_truncated_and_corrupt_gzip_are_named_and_the_rest_of_the_source_loads(
    con, landing: Path
) -> None:
    text = "\n".join(access_line(n) for n in range(8)) + "\n"
    whole = gzip.compress(text.encode() * 50)
    land(landing, "web_access", "truncated.log.gz", whole[: len(whole) // 2])
    land(landing, "web_access", "corrupt.log.gz", b"\x1f\x8b\x08\x00" + b"not deflate" * 20)
    land(landing, "web_access", "good.log.gz", gzip.compress(text.encode()))
    land(landing, "web_access", "other-day.log", text, day=OTHER_DAY)
    load(con, landing, "web_access", (DAY, OTHER_DAY))
    detail = assert_refused(con, "web_access", rel("truncated.log.gz", "web_access"),
                            "gzip_truncated")  # fmt: skip
    assert "truncated" in detail
    assert_refused(con, "web_access", rel("corrupt.log.gz", "web_access"), "gzip_corrupt")
    assert_stored_nowhere(con, "not deflate")
    assert assert_accounted(con, "web_access", rel("good.log.gz", "web_access"), text) == 8
    other = rel("other-day.log", "web_access", OTHER_DAY)
    assert assert_accounted(con, "web_access", other, text) == 8


def test_empty_gzip_files_are_empty_files(con, landing: Path) -> None:
    """0 bytes (whatever the name says) and a gzip stream of nothing: no records, read."""
    land(landing, "events", "zero.jsonl.gz", b"")
    land(landing, "events", "empty.jsonl.gz", gzip.compress(b""))
    load(con, landing, "events")
    for name in ("zero.jsonl.gz", "empty.jsonl.gz"):
        assert audit(con, "events")[rel(name)] == (0, 0, 0, 0, None, None)


def test_a_utf16_file_is_refused_whole(con, landing: Path) -> None:
    land(landing, "events", "utf16.jsonl", (message("m-1") + "\n").encode("utf-16"))
    land(landing, "events", "utf16.jsonl.gz", gzip.compress(message("m-2").encode("utf-16")))
    land(landing, "events", "good.jsonl", message("m-3"))
    load(con, landing, "events")
    assert_refused(con, "events", rel("utf16.jsonl"), "unsupported_encoding")
    assert_refused(con, "events", rel("utf16.jsonl.gz"), "unsupported_encoding")
    assert message_ids(con, rel("good.jsonl")) == ["m-3"]


def test_a_file_vanishing_between_listing_and_reading(con, landing: Path) -> None:
    good = message("m-1") + "\n"
    land(landing, "events", "good.jsonl", good)
    gone = land(landing, "events", "gone.jsonl", message("m-2"))
    deliveries = [(DAY, files_for(landing, "events", DAY))]
    gone.unlink()
    load_deliveries(con, SOURCES_BY_NAME["events"], deliveries, LOADED_AT)
    assert "is gone" in assert_refused(con, "events", rel("gone.jsonl"), "file_vanished")
    assert assert_accounted(con, "events", rel("good.jsonl"), good) == 1


def test_a_file_vanishing_after_its_check_before_duckdb_reads_it(
    con, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = message("m-1") + "\n"
    land(landing, "events", "good.jsonl", good)
    land(landing, "events", "gone.jsonl", message("m-2"))
    checked = loader.readable_copy

    def check_then_vanish(file, tmp_dir):
        path = checked(file, tmp_dir)
        if file.relative.endswith("gone.jsonl"):
            file.path.unlink()
        return path

    monkeypatch.setattr(loader, "readable_copy", check_then_vanish)
    load(con, landing, "events")
    assert_refused(con, "events", rel("gone.jsonl"), "file_vanished")
    assert message_ids(con, rel("good.jsonl")) == ["m-1"]


# -- a delivery whose files change while they are read ---------------------------------------


def test_a_file_growing_while_read_leaves_its_delivery_unloaded(
    con, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = message("m-1") + "\n"
    growing = land(landing, "events", "growing.jsonl", first)
    land(landing, "events", "steady.jsonl", message("m-9") + "\n")
    other = message("o-1") + "\n"
    land(landing, "events", "other.jsonl", other, day=OTHER_DAY)
    load(con, landing, "events", (DAY,))  # version 1 of DAY is loaded
    os.utime(growing, ns=(1, 1))  # a new version of DAY, so it is read again …
    checked = loader.readable_copy

    def read_while_it_grows(file, tmp_dir):
        path = checked(file, tmp_dir)
        if file.relative.endswith("growing.jsonl"):
            with file.path.open("a") as handle:  # … and the sender is still writing
                handle.write(message("m-2") + "\n")
        return path

    monkeypatch.setattr(loader, "readable_copy", read_while_it_grows)
    audits = load(con, landing, "events", (DAY, OTHER_DAY))
    # DAY is not loaded half: version 1 stays, whole; OTHER_DAY of the same batch loads.
    assert {a.file for a in audits} == {rel("other.jsonl", day=OTHER_DAY)}
    assert message_ids(con, rel("growing.jsonl")) == ["m-1"]
    assert message_ids(con, rel("steady.jsonl")) == ["m-9"]
    assert assert_accounted(con, "events", rel("other.jsonl", day=OTHER_DAY), other) == 1
    ((day, reason, detail),) = con.execute(
        "SELECT _partition, reason, detail FROM raw.load_skipped"
    ).fetchall()
    assert (day, reason) == (DAY, "changed_while_read")
    assert rel("growing.jsonl") in detail and "size" in detail
    summary = render(summarise(con, DAY, OTHER_DAY, ["events"]), DAY, OTHER_DAY, Path("w"))
    assert "Deliveries NOT loaded (1)" in summary and rel("growing.jsonl") in summary
    # The sender has finished: the next run loads the whole file, and the skip is cleared.
    monkeypatch.setattr(loader, "readable_copy", checked)
    load(con, landing, "events", (DAY,))
    assert message_ids(con, rel("growing.jsonl")) == ["m-1", "m-2"]
    assert con.execute("SELECT count(*) FROM raw.load_skipped").fetchone() == (0,)


def test_a_file_added_while_the_delivery_is_read(
    con, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    land(landing, "events", "a.jsonl", message("m-1"))
    checked = loader.readable_copy

    def read_while_another_arrives(file, tmp_dir):
        land(landing, "events", "late.jsonl", message("m-2"))
        return checked(file, tmp_dir)

    monkeypatch.setattr(loader, "readable_copy", read_while_another_arrives)
    assert load(con, landing, "events") == []
    assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (0,)
    (detail,) = con.execute("SELECT detail FROM raw.load_skipped").fetchone()
    assert f"{rel('late.jsonl')}: added" in detail


# -- byte-order mark and blank lines -----------------------------------------------------


def test_a_byte_order_mark_is_ignored(con, landing: Path) -> None:
    text = message("m-1") + "\n" + message("m-2") + "\n"
    land(landing, "events", "bom.jsonl", "\ufeff" + text)
    land(landing, "events", "bom.jsonl.gz", gzip.compress(("\ufeff" + text).encode()))
    csv = "product_id,name,price\np1,Pen,1.5\n"
    land(landing, "products", "bom.csv", "\ufeff" + csv)
    load(con, landing, "events")
    load(con, landing, "products")
    for name in ("bom.jsonl", "bom.jsonl.gz"):
        assert message_ids(con, rel(name)) == ["m-1", "m-2"]
        assert assert_accounted(con, "events", rel(name), text) == 2
    assert con.execute("SELECT product_id, price FROM raw.products").fetchall() == [("p1", "1.5")]
    assert assert_accounted(con, "products", rel("bom.csv", "products"), csv, header=1) == 1


def test_whitespace_only_lines_are_blank(con, landing: Path) -> None:
    text = "\t\n" + message("m-1") + "\n \t \r\n\r\n\x0b\x0c\n" + message("m-2") + "\n\t"
    land(landing, "events", "tabs.jsonl", text)
    csv = "product_id,name\n\t\np1,Pen\n  \t\r\n"
    land(landing, "products", "tabs.csv", csv)
    load(con, landing, "events")
    load(con, landing, "products")
    assert audit(con, "events")[rel("tabs.jsonl")][:4] == (2, 2, 0, 5)
    assert assert_accounted(con, "events", rel("tabs.jsonl"), text) == 2
    assert audit(con, "products")[rel("tabs.csv", "products")][:4] == (1, 1, 0, 2)
    assert assert_accounted(con, "products", rel("tabs.csv", "products"), csv, header=1) == 1


# -- the gate: a file not read holds its own delivery back ---------------------------------


def test_the_gate_holds_a_delivery_with_a_file_not_read(warehouse: Path, landing: Path) -> None:
    from orchestration.quality.delivery_gate import judge_deliveries, record_verdicts
    from orchestration.state.holds import delivery_statuses

    text = message("m-1") + "\n"
    land(landing, "events", "good.jsonl", text)
    land(landing, "events", "cut.jsonl.gz", gzip.compress(text.encode() * 20)[:-9])
    land(landing, "events", "fine.jsonl", message("m-5"), day=OTHER_DAY)
    land(landing, "consent", "good.jsonl", consent("c-1"))
    land(landing, "consent", "broken.jsonl.gz", b"\x1f\x8bnot gzip at all")
    days = (DAY, OTHER_DAY)
    with duckdb.connect(str(warehouse)) as con:
        load(con, landing, "events", days)
        load(con, landing, "consent", (DAY,))
    verdicts = {}
    for source, judged in (("events", list(days)), ("consent", [DAY])):
        found, _ = judge_deliveries(warehouse, source, judged, judged)
        verdicts |= {(v.source, v.delivery_date): v for v in found}
    with duckdb.connect(str(warehouse)) as con:
        record_verdicts(con, list(verdicts.values()), "test-run")
        statuses = {(s.source, s.delivery_date): s for s in delivery_statuses(
            con, ("held", "released", "accepted"))}  # fmt: skip
        summary = render(summarise(con, DAY, OTHER_DAY, ["events", "consent"]), DAY,
                         OTHER_DAY, warehouse)  # fmt: skip
        visible = con.execute(
            "SELECT _partition, count(*) FROM visible.events GROUP BY 1"
        ).fetchall()
    cut = f"[critical] file not read: {rel('cut.jsonl.gz')} (gzip_truncated)"
    # events of DAY: held, the file named; the other day flows on.
    assert statuses[("events", DAY)].status == "held"
    # … by that file alone (the GX suite itself passes: a file not read has no rows)
    assert statuses[("events", DAY)].critical_failed == (cut,)
    assert statuses[("events", OTHER_DAY)].status == "accepted"
    assert visible == [(OTHER_DAY, 1)]
    # consent is never held: the failure is reported, its good record flows.
    broken = f"[critical] file not read: {rel('broken.jsonl.gz', 'consent')} (gzip_corrupt)"
    consent_verdict = verdicts[("consent", DAY)]
    assert not consent_verdict.passed_critical and not consent_verdict.held
    assert consent_verdict.critical_failed == (broken,)
    assert statuses[("consent", DAY)].status == "accepted"
    # the run summary names both files
    assert "Files not read (2;" in summary
    assert f"{rel('cut.jsonl.gz')}: gzip_truncated" in summary
    assert f"{rel('broken.jsonl.gz', 'consent')}: gzip_corrupt" in summary
