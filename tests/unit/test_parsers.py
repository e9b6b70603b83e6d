"""One test per landing format: every quarantine reason, and good records loaded intact."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.landing import files_for
from orchestration.ingest.loader import ensure_tables, load_partition
from orchestration.ingest.sources import SOURCES_BY_NAME

DAY = date(2026, 1, 5)
LOADED_AT = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_tables(connection)
    yield connection
    connection.close()


def land(landing: Path, source: str, name: str, content: str | bytes, gz: bool = False) -> None:
    folder = landing / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    (folder / name).write_bytes(gzip.compress(data) if gz else data)


def load(con, landing: Path, source: str):
    files = files_for(landing, source, DAY)
    return load_partition(con, SOURCES_BY_NAME[source], DAY, files, LOADED_AT)


def quarantine(con, source: str) -> list[tuple]:
    return con.execute(
        "SELECT _line, reason, detail FROM raw.quarantine WHERE source = ? ORDER BY _line",
        [source],
    ).fetchall()


def test_access_log(con, tmp_path: Path) -> None:
    good = (
        '1.2.3.4 - - [05/Jan/2026:10:00:00 +0100] "GET /a?b=1 HTTP/1.1" 200 512 '
        '"https://www.google.com/" "Mozilla/5.0 (X11; Linux) Firefox/120.0" "cookie-123"'
    )
    lines = [
        good,
        '5.6.7.8 - - [05/Jan/2026:10:00:01 +0000] "-" 400 - "-" "curl/8.0"',
        "",  # blank: not a record
        '1.2.3.4 - - [05/Jan/2026:10:00:02 +0000] "GET / HTTP/1.1" 200 5 "-" "Googlebot/2.1',
        "complete garbage",
        '1.2.3.4 - - [32/Foo/2026:99:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x"',
        '9.9.9.9 - - [05/Jan/2026:10:00:03 +0000] "GET /q\\"x HTTP/1.1" 304 - "-" "a \\"b\\""',
    ]
    land(tmp_path, "web_access", "access.log.gz", "\r\n".join(lines) + "\r\n", gz=True)
    (audit,) = load(con, tmp_path, "web_access")
    assert (audit.records_in, audit.raw_rows, audit.quarantined_rows, audit.blank_lines) == (
        6,
        3,
        3,
        1,
    )
    assert quarantine(con, "web_access") == [
        (4, "log_truncated", None),
        (5, "log_unparseable", None),
        (6, "invalid_timestamp", "request_time"),
    ]
    rows = con.execute(
        "SELECT _line, http_method, path, status, response_bytes, referrer, user_agent, "
        "extra_fields::VARCHAR FROM raw.web_access ORDER BY _line"
    ).fetchall()
    assert rows[0] == (
        1,
        "GET",
        "/a?b=1",
        "200",
        "512",
        "https://www.google.com/",
        "Mozilla/5.0 (X11; Linux) Firefox/120.0",
        '["cookie-123"]',
    )
    assert rows[1][:5] == (2, None, None, "400", "-")
    assert rows[2][0] == 7 and rows[2][6] == 'a \\"b\\"'


def event(**overrides) -> str:
    message = {
        "messageId": "m-1",
        "type": "track",
        "event": "Signed In",
        "anonymousId": "a-1",
        "userId": None,
        "timestamp": "2026-01-05T10:00:00.000Z",
        "originalTimestamp": "2026-01-05T11:00:03.000+01:00",
        "sentAt": "2026-01-05T11:00:04.000+01:00",
        "receivedAt": "2026-01-05T10:00:01.000Z",
        "properties": {"plan": "pro"},
        "context": {"ip": "1.2.3.4"},
    }
    message.update(overrides)
    return json.dumps({k: v for k, v in message.items() if v != "<absent>"})


def test_json_lines_events(con, tmp_path: Path) -> None:
    lines = [
        event(),
        event(
            messageId="m-2",
            type="identify",
            event="<absent>",
            userId="u-1",
            traits={"email": "x"},
            writeKey="extra-field",
        ),
        '{"messageId": "m-3", "type": "tra',
        "[1, 2]",
        event(messageId=" "),
        event(messageId="m-6", event=""),
        event(messageId="m-7", anonymousId=None, userId=""),
        event(messageId="m-8", timestamp="yesterday"),
        event(messageId="m-9", sentAt="2026-13-45T00:00:00Z"),
        event(messageId="m-10", type="page", event="<absent>", name="Home"),
    ]
    land(tmp_path, "events", "web.jsonl", "\n".join(lines) + "\n")
    (audit,) = load(con, tmp_path, "events")
    assert (audit.records_in, audit.raw_rows, audit.quarantined_rows) == (10, 3, 7)
    assert quarantine(con, "events") == [
        (3, "invalid_json", None),
        (4, "not_json_object", None),
        (5, "missing_required_field", "messageId"),
        (6, "missing_required_field", "event"),
        (7, "missing_subject_identifier", None),
        (8, "invalid_timestamp", "timestamp"),
        (9, "invalid_timestamp", "sentAt"),
    ]
    rows = con.execute(
        "SELECT message_id, type, user_id, original_timestamp, properties->>'plan', "
        "traits->>'email', _extra::VARCHAR FROM raw.events ORDER BY _line"
    ).fetchall()
    assert rows == [
        ("m-1", "track", None, "2026-01-05T11:00:03.000+01:00", "pro", None, None),
        (
            "m-2",
            "identify",
            "u-1",
            "2026-01-05T11:00:03.000+01:00",
            "pro",
            "x",
            '{"writeKey":"extra-field"}',
        ),
        ("m-10", "page", None, "2026-01-05T11:00:03.000+01:00", "pro", None, None),
    ]


def test_json_lines_orders_nested_numbers(con, tmp_path: Path) -> None:
    base = {
        "order_id": "o-1",
        "email": "a@b.c",
        "ordered_at": "2026-01-05T10:00:00+00:00",
        "status": "completed",
        "currency": "EUR",
        "total": 12.5,
        "items": [{"product_id": "p1", "quantity": 1, "unit_price": 12.5}],
    }
    lines = [
        json.dumps(base | {"coupon_code": "X1"}),
        json.dumps(base | {"order_id": "o-2", "email": None}),
        json.dumps(base | {"order_id": "o-3", "total": "12,50"}),
        json.dumps(base | {"order_id": "o-4", "items": [{"product_id": "p", "quantity": "two"}]}),
        json.dumps({k: v for k, v in base.items() if k != "items"} | {"order_id": "o-5"}),
    ]
    land(tmp_path, "orders", "orders.jsonl", "\n".join(lines))  # no final newline
    (audit,) = load(con, tmp_path, "orders")
    assert (audit.records_in, audit.raw_rows, audit.quarantined_rows) == (5, 1, 4)
    assert quarantine(con, "orders") == [
        (2, "missing_customer_reference", None),
        (3, "invalid_number", "total"),
        (4, "invalid_number", "items.quantity"),
        (5, "missing_required_field", "items"),
    ]
    assert con.execute("SELECT total, _extra->>'coupon_code' FROM raw.orders").fetchall() == [
        ("12.5", "X1")
    ]


def test_csv_with_multiline_fields(con, tmp_path: Path) -> None:
    header = (
        "ticket_id,crm_id,user_id,email,channel,category,subject,body,status,created_at,"
        "first_response_at,resolved_at,csat,priority"
    )
    ts = "2026-01-05T10:00:00+00:00"
    records = [
        f"\ufeff{header}",
        f't1,c1,,,email,billing,"Charged, twice","Line one\nline ""two""\n\nline four",'
        f"open,{ts},,,5,high",
        "",
        f"t2,,,a@b.c,chat,login,Hi,Body,open,{ts},,,,low",
        f't3,c3,,,chat,login,Hi,ab"c"d,open,{ts},,,,low',
        f"t4,c4,,,chat,login,Hi,Body,open,{ts},,,,low,EXTRA",
        f"t5,,,,chat,login,Hi,Body,open,{ts},,,,low",
        "t6,c6,,,chat,login,Hi,Body,open,05/01/2026,,,,low",
        f"t7,c7,,,chat,login,Hi,Body,open,{ts},,,five,low",
        f"   ,c8,,,chat,login,Hi,Body,open,{ts},,,,low",
        f't9,c9,,,chat,login,Hi,"never closed,open,{ts},,,,low\nmore',
    ]
    land(tmp_path, "support_tickets", "tickets.csv", "\r\n".join(records))
    (audit,) = load(con, tmp_path, "support_tickets")
    assert (audit.records_in, audit.raw_rows, audit.quarantined_rows, audit.blank_lines) == (
        9,
        2,
        7,
        1,
    )
    # t1 starts on line 2 and spans lines 2-5, so t2 is on line 7 (line 6 is blank).
    assert quarantine(con, "support_tickets") == [
        (8, "csv_bad_quoting", None),
        (9, "csv_field_count", None),
        (10, "missing_customer_reference", None),
        (11, "invalid_timestamp", "created_at"),
        (12, "invalid_number", "csat"),
        (13, "missing_required_field", "ticket_id"),
        (14, "csv_unterminated_quote", None),
    ]
    rows = con.execute(
        "SELECT _line, ticket_id, subject, body, csat, _extra::VARCHAR "
        "FROM raw.support_tickets ORDER BY _line"
    ).fetchall()
    assert rows == [
        (
            2,
            "t1",
            "Charged, twice",
            'Line one\nline "two"\n\nline four',
            "5",
            '{"priority":"high"}',
        ),
        (7, "t2", "Hi", "Body", None, '{"priority":"low"}'),
    ]


def test_invalid_utf8_lines_are_quarantined(con, tmp_path: Path) -> None:
    good = event().encode()
    land(tmp_path, "events", "web.jsonl", good + b"\n" + b'{"messageId": "\xff\xfe"}\n' + good)
    (audit,) = load(con, tmp_path, "events")
    assert (audit.records_in, audit.raw_rows, audit.quarantined_rows) == (3, 2, 1)
    assert quarantine(con, "events") == [(2, "invalid_encoding", None)]


def test_reload_replaces_partition(con, tmp_path: Path) -> None:
    land(tmp_path, "events", "web.jsonl", event() + "\nnot json\n")
    load(con, tmp_path, "events")
    load(con, tmp_path, "events")
    counts = con.execute(
        "SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM raw.quarantine), "
        "(SELECT count(*) FROM raw.load_audit)"
    ).fetchone()
    assert counts == (1, 1, 1)


def test_a_contract_column_named_like_an_internal_one_keeps_its_value(con, tmp_path: Path) -> None:
    review = {
        "review_id": "r1",
        "email": "a@b.c",
        "product_id": "p1",
        "rating": 4,
        "title": "Good",
        "text": "Bom produto",
        "language": "pt",
        "created_at": "2026-01-05T10:00:00-03:00",
    }
    land(tmp_path, "reviews", "reviews.jsonl", json.dumps(review) + "\n")
    load(con, tmp_path, "reviews")
    assert con.execute("SELECT text, title FROM raw.reviews").fetchall() == [
        ("Bom produto", "Good")
    ]


def test_contract_columns_do_not_collide_with_loader_columns() -> None:
    internal = {
        "file",
        "line",
        "_text",
        "bad_encoding",
        "doc",
        "is_object",
        "closed",
        "is_header",
        "is_blank",
        "header",
        "raw_fields",
        "field_values",
        "well_quoted",
        "right_width",
        "is_combined",
        "is_truncated",
        "m",
        "r",
        "problem",
        "texts",
        "jsons",
    }
    for source in SOURCES_BY_NAME.values():
        assert not internal & set(source.column_names()), source.name


def test_one_connection_loads_csv_then_json_then_csv(con, tmp_path: Path) -> None:
    land(tmp_path, "products", "p.csv", "product_id,name,price\np1,Pen,1.5\n")
    land(tmp_path, "events", "e.jsonl", event() + "\n")
    for source in ("products", "events", "products"):
        (audit,) = load(con, tmp_path, source)
        assert audit.balanced and audit.raw_rows == 1
