"""The sample-data generator: determinism, coverage of the landing contract, ground truth.

The checks of docs/landing.md are re-implemented here from the document (not imported from
the generator), so "every injected record triggers exactly its recorded reason, and every
other record passes" is tested against the contract itself.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.sample_data import SOURCES, GeneratorConfig, generate
from orchestration.sample_data.__main__ import main as cli_main

TINY = GeneratorConfig(customers=30, days=6, end_date=date(2026, 1, 10), seed=42)
# sha256 over "relpath:sha256\n" of every landing file of TINY. This is the "same seed ->
# same bytes" contract: change it only deliberately, when the generator's output changes.
TINY_DIGEST = "929dab851a574e9a33f2d1e2d890a26cfffbef6cc8414da70fe7551dfba50953"

# --- the landing contract, re-stated from docs/landing.md ------------------------------------

CUSTOMER_REF = ("crm_id", "user_id", "email")
SUBJECT = ("anonymous_id", "user_id", "email", "phone", "crm_id")
CONTRACT: dict[str, dict] = {
    "events": {
        "required": ("messageId", "type", "event", "timestamp"),
        "subject": ("anonymousId", "userId"),
        "timestamps": ("timestamp", "originalTimestamp", "sentAt", "receivedAt"),
    },
    "products": {"required": ("product_id",), "numbers": ("price",)},
    "crm_customers": {"required": ("crm_id",), "timestamps": ("created_at", "updated_at")},
    "orders": {
        "required": ("order_id", "ordered_at", "status", "currency", "total", "items"),
        "customer_ref": True,
        "timestamps": ("ordered_at",),
        "numbers": ("total", "items.quantity", "items.unit_price"),
    },
    "subscriptions": {
        "required": ("subscription_id", "plan", "change", "changed_at"),
        "customer_ref": True,
        "timestamps": ("changed_at",),
        "numbers": ("mrr",),
    },
    "support_tickets": {
        "required": ("ticket_id", "created_at"),
        "customer_ref": True,
        "timestamps": ("created_at", "first_response_at", "resolved_at"),
        "numbers": ("csat",),
    },
    "surveys": {
        "required": ("response_id", "survey", "score", "submitted_at"),
        "customer_ref": True,
        "timestamps": ("submitted_at",),
        "numbers": ("score",),
    },
    "reviews": {
        "required": ("review_id", "product_id", "rating", "created_at"),
        "customer_ref": True,
        "timestamps": ("created_at",),
        "numbers": ("rating",),
    },
    "social": {
        "required": ("interaction_id", "platform", "kind", "created_at"),
        "timestamps": ("created_at",),
    },
    "consent": {
        "required": ("consent_id", "purpose", "status", "recorded_at"),
        "subject": SUBJECT,
        "timestamps": ("recorded_at",),
    },
    "privacy_requests": {
        "required": ("request_id", "kind", "received_at"),
        "subject": SUBJECT,
        "timestamps": ("received_at",),
    },
}
CSV_SOURCES = {"products", "crm_customers", "support_tickets", "surveys"}
# every reason of the doc's table, for the sources it applies to
EXPECTED_REASONS = {
    "web_access": {"log_truncated", "log_unparseable", "invalid_timestamp"},
    "events": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_subject_identifier",
        "invalid_timestamp",
    },
    "products": {
        "csv_unterminated_quote",
        "csv_bad_quoting",
        "csv_field_count",
        "missing_required_field",
        "invalid_number",
    },
    "crm_customers": {
        "csv_unterminated_quote",
        "csv_bad_quoting",
        "csv_field_count",
        "missing_required_field",
        "invalid_timestamp",
    },
    "orders": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_customer_reference",
        "invalid_timestamp",
        "invalid_number",
    },
    "subscriptions": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_customer_reference",
        "invalid_timestamp",
        "invalid_number",
    },
    "support_tickets": {
        "csv_unterminated_quote",
        "csv_bad_quoting",
        "csv_field_count",
        "missing_required_field",
        "missing_customer_reference",
        "invalid_timestamp",
        "invalid_number",
    },
    "surveys": {
        "csv_unterminated_quote",
        "csv_bad_quoting",
        "csv_field_count",
        "missing_required_field",
        "missing_customer_reference",
        "invalid_timestamp",
        "invalid_number",
    },
    "reviews": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_customer_reference",
        "invalid_timestamp",
        "invalid_number",
    },
    "social": {"invalid_json", "not_json_object", "missing_required_field", "invalid_timestamp"},
    "consent": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_subject_identifier",
        "invalid_timestamp",
    },
    "privacy_requests": {
        "invalid_json",
        "not_json_object",
        "missing_required_field",
        "missing_subject_identifier",
        "invalid_timestamp",
    },
}

COMBINED = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]*)\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"( "[^"]*")*$'
)
TRUNCATED = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]*)\] "([^"]*)" (\d{3}) (\d+|-)( "[^"]*")* "[^"]*$'
)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _bad_ts(value: object) -> bool:
    if _empty(value):
        return False
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return True
    return False


def _bad_num(value: object) -> bool:
    if _empty(value) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return False
    try:
        float(str(value))
    except ValueError:
        return True
    return False


def record_reason(source: str, rec: dict) -> str | None:
    """First applicable reason for a parsed record (JSON object or CSV row as a dict)."""
    c = CONTRACT[source]
    for f in c.get("required", ()):
        if f == "event" and rec.get("type") != "track":
            continue
        if _empty(rec.get(f)):
            return "missing_required_field"
    if c.get("customer_ref") and all(_empty(rec.get(k)) for k in CUSTOMER_REF):
        return "missing_customer_reference"
    if c.get("subject") and all(_empty(rec.get(k)) for k in c["subject"]):
        return "missing_subject_identifier"
    if any(_bad_ts(rec.get(f)) for f in c.get("timestamps", ())):
        return "invalid_timestamp"
    for f in c.get("numbers", ()):
        if f.startswith("items."):
            key = f.split(".", 1)[1]
            if any(_bad_num(item.get(key)) for item in rec.get("items") or []):
                return "invalid_number"
        elif _bad_num(rec.get(f)):
            return "invalid_number"
    return None


def parse_csv(text: str) -> list[tuple[int, list[str], bool, bool]]:
    """(start line, fields, bad quoting, unterminated) per record; strict quote rules."""
    out: list[tuple[int, list[str], bool, bool]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        start, fields, bad = line, [], False
        while True:
            if i < n and text[i] == '"':
                i += 1
                buf = []
                while True:
                    if i >= n:
                        fields.append("".join(buf))
                        out.append((start, fields, bad, True))
                        return out
                    ch = text[i]
                    if ch == '"':
                        if i + 1 < n and text[i + 1] == '"':
                            buf.append('"')
                            i += 2
                            continue
                        i += 1
                        break
                    if ch == "\n":
                        line += 1
                    buf.append(ch)
                    i += 1
                while i < n and text[i] not in ",\r\n":
                    bad = True
                    buf.append(text[i])
                    i += 1
                fields.append("".join(buf))
            else:
                j = i
                while i < n and text[i] not in ",\r\n":
                    bad = bad or text[i] == '"'
                    i += 1
                fields.append(text[j:i])
            if i < n and text[i] == ",":
                i += 1
                continue
            if i < n and text[i] == "\r":
                i += 1
            if i < n and text[i] == "\n":
                i += 1
                line += 1
            break
        out.append((start, fields, bad, False))
    return out


def file_reasons(source: str, path: Path) -> tuple[int, dict[int, str]]:
    """(records in file, {line: reason}) by the rules of docs/landing.md."""
    text = read_text(path)
    reasons: dict[int, str] = {}
    if source in CSV_SOURCES:
        recs = parse_csv(text)
        header = recs[0][1]
        for start, fields, bad, unterminated in recs[1:]:
            if unterminated:
                reasons[start] = "csv_unterminated_quote"
            elif bad:
                reasons[start] = "csv_bad_quoting"
            elif len(fields) != len(header):
                reasons[start] = "csv_field_count"
            else:
                r = record_reason(source, dict(zip(header, fields, strict=True)))
                if r:
                    reasons[start] = r
        return len(recs) - 1, reasons
    lines = text.splitlines()
    assert all(line.strip() for line in lines), f"blank line in {path}"
    for no, line in enumerate(lines, 1):
        if source == "web_access":
            m = COMBINED.match(line)
            if m:
                try:
                    datetime.strptime(m.group(4), "%d/%b/%Y:%H:%M:%S %z")
                except ValueError:
                    reasons[no] = "invalid_timestamp"
            elif TRUNCATED.match(line):
                reasons[no] = "log_truncated"
            else:
                reasons[no] = "log_unparseable"
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            reasons[no] = "invalid_json"
            continue
        if not isinstance(obj, dict):
            reasons[no] = "not_json_object"
            continue
        r = record_reason(source, obj)
        if r:
            reasons[no] = r
    return len(lines), reasons


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("tiny")
    manifest = generate(TINY, root / "landing", root / "truth")
    return root / "landing", root / "truth", manifest


def _digests(landing: Path) -> dict[str, str]:
    return {
        p.relative_to(landing).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


def _malformed(truth: Path) -> list[dict[str, str]]:
    with (truth / "malformed.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes(tiny, tmp_path: Path) -> None:
    landing, truth, manifest = tiny
    again = generate(TINY, tmp_path / "landing", tmp_path / "truth")
    assert _digests(landing) == _digests(tmp_path / "landing")
    assert again["digest"] == manifest["digest"]
    for name in ("identities.csv", "malformed.csv", "manifest.json"):
        assert (truth / name).read_bytes() == (tmp_path / "truth" / name).read_bytes()


def test_different_seed_different_bytes(tiny, tmp_path: Path) -> None:
    landing, _, manifest = tiny
    other = generate(
        GeneratorConfig(customers=30, days=6, end_date=TINY.end_date, seed=7),
        tmp_path / "landing",
        tmp_path / "truth",
    )
    assert other["digest"] != manifest["digest"]
    mine, theirs = _digests(landing), _digests(tmp_path / "landing")
    assert sum(mine[k] != theirs.get(k) for k in mine) > len(mine) // 2


def test_pinned_digest(tiny) -> None:
    landing, _, manifest = tiny
    digests = _digests(landing)
    combined = hashlib.sha256(
        "".join(f"{k}:{v}\n" for k, v in sorted(digests.items())).encode()
    ).hexdigest()
    assert combined == manifest["digest"]
    assert combined == TINY_DIGEST


def test_manifest_hashes_every_file(tiny) -> None:
    landing, _, manifest = tiny
    digests = _digests(landing)
    assert set(manifest["files"]) == set(digests)
    assert all(manifest["files"][k]["sha256"] == v for k, v in digests.items())
    assert manifest["config"]["seed"] == 42


# --- coverage of the contract ------------------------------------------------------------------


def test_all_sources_and_dates(tiny) -> None:
    landing, _, manifest = tiny
    dates = [(TINY.start_date + timedelta(days=i)).isoformat() for i in range(TINY.days)]
    names = {
        "web_access": ["access.log.gz"],
        "events": ["mobile.jsonl", "web.jsonl.gz"],
        "products": ["products.csv"],
        "orders": ["orders.jsonl"],
        "subscriptions": ["subscriptions.jsonl"],
        "support_tickets": ["tickets.csv"],
        "surveys": ["responses.csv"],
        "reviews": ["reviews.jsonl"],
        "social": ["social.jsonl"],
        "consent": ["consent.jsonl"],
        "privacy_requests": ["requests.jsonl"],
    }
    assert sorted(p.name for p in landing.iterdir()) == sorted(SOURCES)
    for source, files in names.items():
        for d in dates:
            assert sorted(p.name for p in (landing / source / d).iterdir()) == files, (source, d)
    crm_dates = sorted(p.name for p in (landing / "crm_customers").iterdir())
    assert crm_dates == [dates[0], dates[-1]]  # day 1, every 7th day, last day
    for source in SOURCES:
        assert manifest["sources"][source]["records"] > 0, source


def test_every_reason_appears_per_source(tiny) -> None:
    _, truth, _ = tiny
    seen: dict[str, set[str]] = {s: set() for s in SOURCES}
    for row in _malformed(truth):
        seen[row["source"]].add(row["reason"])
    assert seen == EXPECTED_REASONS


def test_malformed_csv_is_exact(tiny) -> None:
    """Every listed record triggers exactly its reason; every other record passes."""
    landing, truth, manifest = tiny
    rows = _malformed(truth)
    keys = [(r["file"], int(r["line"])) for r in rows]
    assert keys == sorted(keys)
    listed: dict[tuple[str, int], str] = {(r["file"], int(r["line"])): r["reason"] for r in rows}
    found: dict[tuple[str, int], str] = {}
    for rel, info in manifest["files"].items():
        source = rel.split("/", 1)[0]
        n, reasons = file_reasons(source, landing / rel)
        assert n == info["records"], rel
        for line, reason in reasons.items():
            assert line > 3, (rel, line)
            found[(rel, line)] = reason
    assert found == listed


def _csv_module_records(text: str) -> dict[int, list[str]]:
    """{start line: fields} as Python's csv module reads the file (the header included)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: dict[int, list[str]] = {}
    prev = 0
    try:
        for fields in reader:
            out[prev + 1] = fields
            prev = reader.line_num
    except csv.Error:  # a cut-off file: the last record never ends
        out[prev + 1] = []
    return out


def test_malformed_lines_point_at_the_records(tiny) -> None:
    landing, truth, _ = tiny
    for row in _malformed(truth):
        text = read_text(landing / row["file"])
        line, reason = int(row["line"]), row["reason"]
        if row["source"] in CSV_SOURCES:
            records = _csv_module_records(text)
            header = records[1]
            assert line in records, row
            fields = records[line]
            if reason == "csv_unterminated_quote":
                assert line == max(records) and not text.endswith("\n")
            elif reason == "csv_bad_quoting":
                assert 'Item arrived "almost" new' in fields
            elif reason == "csv_field_count":
                assert len(fields) != len(header)
            else:
                rec = dict(zip(header, fields, strict=True))
                assert record_reason(row["source"], rec) == reason
            continue
        physical = text.splitlines()[line - 1]
        if reason == "invalid_json":
            with pytest.raises(ValueError):
                json.loads(physical)
        elif reason == "not_json_object":
            assert not isinstance(json.loads(physical), dict)
        elif reason == "log_truncated":
            assert physical.count('"') % 2 == 1
        elif reason == "log_unparseable":
            assert not COMBINED.match(physical) and not TRUNCATED.match(physical)
        elif row["source"] != "web_access":
            assert record_reason(row["source"], json.loads(physical)) == reason


def test_unknown_extra_fields_are_present(tiny) -> None:
    landing, _, _ = tiny
    headers = {
        read_text(p).split("\n", 1)[0] for p in landing.glob("support_tickets/*/tickets.csv")
    }
    assert any(h.endswith(",priority") for h in headers) and any(
        h.endswith(",csat") for h in headers
    )
    lines = [x for p in landing.glob("orders/*/orders.jsonl") for x in read_text(p).splitlines()]
    assert any('"coupon_code":' in line for line in lines)


# --- realism -------------------------------------------------------------------------------------


def test_csv_has_multiline_quoted_fields(tiny) -> None:
    landing, _, _ = tiny
    files = [*landing.glob("support_tickets/*/tickets.csv"), *landing.glob("surveys/*/*.csv")]
    multi = sum(
        any("\n" in f for f in fields) for p in files for _, fields, _, _ in parse_csv(read_text(p))
    )
    assert multi >= 5
    assert any(read_text(p).endswith("\r\n") for p in landing.glob("surveys/*/*.csv"))


def test_access_log_has_crawlers_and_cookies(tiny) -> None:
    landing, _, _ = tiny
    lines = [x for p in landing.glob("web_access/*/*") for x in read_text(p).splitlines()]
    bots = [x for x in lines if re.search(r"bot|curl|python-requests|Go-http-client", x, re.I)]
    assert 0.05 < len(bots) / len(lines) < 0.3
    assert any(x.endswith('"-"') for x in lines) and any(
        re.search(r'"[0-9a-f-]{36}"$', x) for x in lines
    )


def _events(landing: Path) -> list[dict]:
    out = []
    for p in sorted(landing.glob("events/*/*")):
        for line in read_text(p).splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def test_duplicates_and_late_events(tiny) -> None:
    landing, _, _ = tiny
    events = _events(landing)
    ids = [e.get("messageId") for e in events if e.get("messageId")]
    assert len(ids) - len(set(ids)) >= 1
    late = 0
    for e in events:
        try:
            lag = datetime.fromisoformat(e["receivedAt"]) - datetime.fromisoformat(e["timestamp"])
        except (KeyError, TypeError, ValueError):
            continue
        late += lag > timedelta(days=3)
    assert late >= 1


def test_event_time_fields(tiny) -> None:
    """timestamp = receivedAt - (sentAt - originalTimestamp); delivery folder = receivedAt date."""
    landing, _, _ = tiny
    for p in sorted(landing.glob("events/*/*")):
        folder = p.parent.name
        for line in read_text(p).splitlines():
            try:
                e = json.loads(line)
                ts = {
                    k: datetime.fromisoformat(e[k])
                    for k in ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
                }
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            assert ts["receivedAt"].date().isoformat() == folder
            assert ts["timestamp"] == ts["receivedAt"] - (ts["sentAt"] - ts["originalTimestamp"])


def test_identities_truth(tiny) -> None:
    _, truth, _ = tiny
    with (truth / "identities.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [(r["person_id"], r["identifier_type"], r["identifier_value"]) for r in rows]
    assert keys == sorted(keys)
    types = {r["identifier_type"] for r in rows}
    assert types <= {
        "anonymous_id",
        "device_id",
        "user_id",
        "email",
        "phone",
        "crm_id",
        "social_handle",
    }
    assert {"anonymous_id", "user_id", "email", "crm_id"} <= types
    values = [(r["identifier_type"], r["identifier_value"]) for r in rows]
    assert len(values) == len(set(values))  # no identifier belongs to two people


def test_cli_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    args = [
        "--customers",
        "5",
        "--days",
        "1",
        "--end-date",
        "2026-01-10",
        "--landing",
        str(landing),
        "--truth",
        str(truth),
        "--quiet",
    ]
    assert cli_main(args) == 0
    assert cli_main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli_main([*args, "--overwrite"]) == 0
