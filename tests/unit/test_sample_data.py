"""The sample-data generator: determinism, coverage of the landing contract, ground truth.

The checks of docs/landing.md are re-implemented here from the document (not imported from
the generator), so "every injected record triggers exactly its recorded reason, and every
other record passes" is tested against the contract itself.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import random as random_module
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sample_data import SOURCES, GeneratorConfig, generate
from sample_data import households as households_mod
from sample_data import junk as junk_mod
from sample_data.__main__ import default_dirs as cli_default_dirs
from sample_data.__main__ import main as cli_main
from sample_data.crm import CrmRecord
from sample_data.devices import make_app_device, make_web_device
from sample_data.people import build_pools, build_population
from sample_data.sessions import Hit, Session
from sample_data.truth import Registry

TINY = GeneratorConfig(customers=30, days=6, end_date=date(2026, 1, 10), seed=42)
# sha256 over "relpath:sha256\n" of every landing file of TINY. This is the "same seed ->
# same bytes" contract: change it only deliberately, when the generator's output changes.
# Changed on purpose with the junk identifiers and shared devices (junk.py, households.py).
TINY_DIGEST = "5a7912ae364e1bc3dc5cb2d2de06e860390d618933fdf2dd858f130957c8eb76"
# The same run with every junk rate, floor, office and household set to zero: byte for byte
# the generator's output before junk existed (the previous TINY_DIGEST). Junk draws from
# streams of its own, so switching it off must not move any other source's randomness.
TINY_DIGEST_WITHOUT_JUNK = "929dab851a574e9a33f2d1e2d890a26cfffbef6cc8414da70fe7551dfba50953"

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
    for name in ("identities.csv", "junk_identifiers.csv", "malformed.csv", "manifest.json"):
        assert (truth / name).read_bytes() == (tmp_path / "truth" / name).read_bytes()


def test_different_seed_different_bytes(tiny, tmp_path: Path) -> None:
    landing, truth, manifest = tiny
    other = generate(
        GeneratorConfig(customers=30, days=6, end_date=TINY.end_date, seed=7),
        tmp_path / "landing",
        tmp_path / "truth",
    )
    assert other["digest"] != manifest["digest"]
    mine, theirs = _digests(landing), _digests(tmp_path / "landing")
    assert sum(mine[k] != theirs.get(k) for k in mine) > len(mine) // 2
    # other households: other shared device ids and cookies
    shared = {
        (r["identifier_type"], r["identifier_value"])
        for r in _junk_rows(truth)
        if r["kind"] == "shared_device"
    }
    assert shared and shared.isdisjoint(
        (r["identifier_type"], r["identifier_value"]) for r in _junk_rows(tmp_path / "truth")
    )


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


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"CDW_DATA_DIR": "/srv/cdw"},
        {"CDW_DATA_DIR": "/srv/cdw", "CDW_LANDING_DIR": "/in", "CDW_TRUTH_DIR": "/truth"},
    ],
)
def test_cli_defaults_are_the_pipelines(env: dict[str, str], monkeypatch) -> None:
    """The generator reads its default dirs itself (it does not import the code location);
    they must stay where the pipeline reads (orchestration/settings.py)."""
    from orchestration.settings import Settings

    for name in ("CDW_DATA_DIR", "CDW_LANDING_DIR", "CDW_TRUTH_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert cli_default_dirs() == (settings.landing_dir, settings.truth_dir)


# --- junk identifiers and shared devices ---------------------------------------------------------

BLOCKLIST = Path(__file__).resolve().parents[2] / "seeds" / "identity_blocklist.csv"
JUNK_KINDS = {"placeholder", "role_mailbox", "placeholder_phone", "zero_device", "shared_device"}
UNTOUCHED_BY_JUNK = {"products", "orders", "subscriptions", "reviews", "social", "privacy_requests"}
JUNK_OFF = {
    junk_mod: {
        "CRM_EMAIL_RATE": 0,
        "CRM_PHONE_RATE": 0,
        "FORM_EMAIL_RATE": 0,
        "USER_ID_RATE": 0,
        "ZERO_DEVICE_RATE": 0,
        "FLOOR": 0,
        "MIN_OFFICES": 0,
        "CUSTOMERS_PER_OFFICE": 10**9,
    },
    households_mod: {"MIN_HOUSEHOLDS": 0, "CUSTOMERS_PER_HOUSEHOLD": 10**9},
}


def blocklist_rules(identifier_type: str, value: str) -> list[str]:
    """The seed's rules matching a value, as int_identity__blocked_identifiers applies them
    (lower-cased value; exact, or a full match of the pattern)."""
    with BLOCKLIST.open(encoding="utf-8", newline="") as f:
        rules = list(csv.DictReader(f))
    assert rules
    low = value.lower()
    return [
        r["rule_id"]
        for r in rules
        if r["identifier_type"] in ("any", identifier_type)
        and (
            (r["match_kind"] == "exact" and low == r["value"].lower())
            or (r["match_kind"] == "pattern" and re.fullmatch(r["value"], low) is not None)
        )
    ]


def _junk_rows(truth: Path) -> list[dict[str, str]]:
    with (truth / "junk_identifiers.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _owners(truth: Path) -> dict[tuple[str, str], str]:
    with (truth / "identities.csv").open(encoding="utf-8", newline="") as f:
        return {
            (r["identifier_type"], r["identifier_value"]): r["person_id"] for r in csv.DictReader(f)
        }


def _csv_rows(landing: Path, pattern: str) -> list[dict[str, str]]:
    """Well-formed rows of the CSV files matching pattern (malformed ones left out)."""
    out = []
    for path in sorted(landing.glob(pattern)):
        rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
        header = rows[0]
        out += [dict(zip(header, r, strict=True)) for r in rows[1:] if len(r) == len(header)]
    return out


def _jsonl(landing: Path, pattern: str) -> list[dict]:
    out = []
    for path in sorted(landing.glob(pattern)):
        for line in read_text(path).splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


@pytest.fixture(scope="module")
def tiny_without_junk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("tiny_without_junk")
    with pytest.MonkeyPatch.context() as mp:
        for module, values in JUNK_OFF.items():
            for name, value in values.items():
                assert hasattr(module, name), name
                mp.setattr(module, name, value)
        manifest = generate(TINY, root / "landing", root / "truth")
    return root / "landing", root / "truth", manifest


def test_without_junk_the_output_is_the_previous_one(tiny_without_junk) -> None:
    _, truth, manifest = tiny_without_junk
    assert manifest["digest"] == TINY_DIGEST_WITHOUT_JUNK
    assert _junk_rows(truth) == []
    assert manifest["truth"]["junk_identifiers"] == 0
    assert all(not any(counts.values()) for counts in manifest["junk"].values())


def test_junk_alters_only_its_own_records(tiny, tiny_without_junk) -> None:
    """Untouched sources are byte-identical with and without junk; in the touched ones every
    differing record carries a junk value, every event message keeps its content but for
    the junk userId / device id, and the only new messages are the shared devices' ones."""
    landing, truth, _ = tiny
    clean, clean_truth, _ = tiny_without_junk
    junk = _junk_rows(truth)
    values = [r["identifier_value"] for r in junk if r["kind"] != "shared_device"]
    shared = {r["identifier_value"] for r in junk if r["kind"] == "shared_device"}
    mine, theirs = _digests(landing), _digests(clean)
    assert set(mine) == set(theirs)
    for rel in sorted(mine):
        source = rel.split("/")[0]
        if source in UNTOUCHED_BY_JUNK:
            assert mine[rel] == theirs[rel], rel
        elif source in ("crm_customers", "support_tickets", "surveys", "consent"):
            new, old = (read_text(d / rel).splitlines() for d in (landing, clean))
            assert len(new) == len(old), rel
            for a, b in zip(new, old, strict=True):
                assert a == b or (
                    any(v in a for v in values) and not any(v in b for v in values)
                ), (rel, a)
    changed_crm = [r for r in mine if r.startswith("crm_customers/") and mine[r] != theirs[r]]
    assert changed_crm

    ours = {e["messageId"]: e for e in _jsonl(landing, "events/*/*") if e.get("messageId")}
    before = {e["messageId"]: e for e in _jsonl(clean, "events/*/*") if e.get("messageId")}
    altered = 0
    for mid, old in before.items():
        if mid not in ours or record_reason("events", old) or record_reason("events", ours[mid]):
            continue  # malformed in one of the runs (which records are depends on the file)
        new = dict(ours[mid])
        if new != old:
            altered += 1
            if new.get("userId") in junk_mod.PLACEHOLDER_USER_IDS:
                new["userId"] = old.get("userId")
            device = (new.get("context") or {}).get("device") or {}
            if device.get("id") == junk_mod.ZERO_DEVICE_ID:
                new["context"] = old["context"]
            assert new == old, mid
    assert altered >= 1
    assert len(set(before) & set(ours)) >= 0.95 * len(before)
    extra = [e for mid, e in ours.items() if mid not in before]
    household = [e for e in extra if e.get("anonymousId") in shared]
    assert household
    clean_bad_events = sum(r["source"] == "events" for r in _malformed(clean_truth))
    assert len(extra) - len(household) <= clean_bad_events


def test_junk_identifiers_truth(tiny) -> None:
    landing, truth, manifest = tiny
    with (truth / "junk_identifiers.csv").open(encoding="utf-8", newline="") as f:
        assert f.readline() == "identifier_type,identifier_value,kind,people\n"
    rows = _junk_rows(truth)
    keys = [(r["identifier_type"], r["identifier_value"]) for r in rows]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    assert {r["kind"] for r in rows} == JUNK_KINDS  # every kind, even in a 30-customer run
    owners = _owners(truth)
    for r in rows:
        people = int(r["people"])
        assert people >= (2 if r["kind"] == "shared_device" else 1), r
        # belongs to nobody: not in identities.csv (which still has one owner per value)
        assert (r["identifier_type"], r["identifier_value"]) not in owners, r
    assert manifest["truth"]["junk_identifiers"] == len(rows)
    assert set(manifest["junk"]) == JUNK_KINDS
    for kind, counts in manifest["junk"].items():
        assert counts["values"] == sum(r["kind"] == kind for r in rows), kind
        assert counts["people"] >= max(int(r["people"]) for r in rows if r["kind"] == kind)
        assert counts["injected"] >= 1, kind
    # every junk value is really written somewhere in the landing folder
    text = "\n".join(read_text(p) for p in sorted(landing.rglob("*")) if p.is_file())
    missing = [v for _, v in keys if v not in text]
    assert missing == []


def test_every_junk_value_is_caught_by_a_guard(tiny) -> None:
    """Placeholders, role mailboxes, placeholder phones and the zero device id match a rule
    of the blocklist seed; shared devices match none (the shared-device guard takes them)."""
    _, truth, _ = tiny
    for r in _junk_rows(truth):
        rules = blocklist_rules(r["identifier_type"], r["identifier_value"])
        if r["kind"] == "shared_device":
            assert rules == [], r
        else:
            assert rules, r
    # the whole vocabulary, written as staging normalises it (lower case, E.164)
    vocabulary = [("email", v) for v in junk_mod.PLACEHOLDER_EMAILS]
    vocabulary += [("phone", v) for v in junk_mod.PLACEHOLDER_PHONES.values()]
    vocabulary += [("user_id", v) for v in junk_mod.PLACEHOLDER_USER_IDS]
    vocabulary += [("device_id", junk_mod.ZERO_DEVICE_ID)]
    companies = {c for pool in build_pools(TINY.seed).values() for c in pool.companies}
    vocabulary += [("email", junk_mod.role_mailbox(c)) for c in sorted(companies)]
    for identifier_type, value in vocabulary:
        assert blocklist_rules(identifier_type, value), (identifier_type, value)
        if identifier_type == "email":
            assert value == value.lower() and "+" not in value and "gmail" not in value
        if identifier_type == "phone":
            assert re.fullmatch(r"\+[1-9][0-9]{7,14}", value), value
    # placeholders the seed once missed (found by this generator's author) are caught now
    assert blocklist_rules("email", "none@none.com") == ["email_test_address"]
    assert blocklist_rules("phone", "+5511999999999") == ["phone_repeated_digit"]


def test_junk_floors_in_a_tiny_run(tiny) -> None:
    """The documented floors, read back from the landing files and identities.csv."""
    landing, truth, _ = tiny
    floor = junk_mod.FLOOR
    owners = _owners(truth)
    crm = [  # every snapshot row (a rectification may fix a placeholder later on)
        r | {"person": owners[("crm_id", r["crm_id"])]}
        for r in _csv_rows(landing, "crm_customers/*/customers.csv")
        if ("crm_id", r["crm_id"]) in owners  # not the malformed ones
    ]
    assert len({r["person"] for r in crm if r["email"] == "test@test.com"}) >= floor
    phones = set(junk_mod.PLACEHOLDER_PHONES.values())
    assert len({r["person"] for r in crm if r["phone"] in phones}) >= floor
    offices: dict[str, list[dict[str, str]]] = {}
    for r in crm:
        if r["email"].startswith(junk_mod.ROLE_MAILBOX + "@"):
            offices.setdefault(r["email"], []).append(r)
    assert offices
    for mailbox, rows in offices.items():
        assert len({r["person"] for r in rows}) >= 2, mailbox  # colleagues
        assert {junk_mod.role_mailbox(r["company"]) for r in rows} == {mailbox}

    forms = _csv_rows(landing, "support_tickets/*/*.csv") + _csv_rows(landing, "surveys/*/*.csv")
    form_ids = {
        r.get("ticket_id") or r.get("response_id")
        for r in forms
        if r["email"] in junk_mod.PLACEHOLDER_EMAILS
    }
    form_ids |= {
        c["consent_id"]
        for c in _jsonl(landing, "consent/*/*")
        if c.get("email") in junk_mod.PLACEHOLDER_EMAILS
    }
    assert len(form_ids) >= floor

    events = _jsonl(landing, "events/*/*")
    for value in junk_mod.PLACEHOLDER_USER_IDS:
        who = {
            owners[("anonymous_id", e["anonymousId"])] for e in events if e.get("userId") == value
        }
        assert len(who) >= floor, value
    zero = {
        owners[("anonymous_id", e["anonymousId"])]
        for e in events
        if ((e.get("context") or {}).get("device") or {}).get("id") == junk_mod.ZERO_DEVICE_ID
    }
    assert len(zero) >= floor


def test_shared_devices_are_seen_with_two_logged_in_users(tiny) -> None:
    """The shared-device guard's rule: a device id / cookie in records with more than one
    distinct user id. Each household's two members sign in on it, from the first day."""
    landing, truth, _ = tiny
    owners = _owners(truth)
    shared = [r for r in _junk_rows(truth) if r["kind"] == "shared_device"]
    assert {r["identifier_type"] for r in shared} == {"anonymous_id", "device_id"}
    web = [r for r in shared if r["identifier_type"] == "anonymous_id"]
    assert len(web) >= households_mod.MIN_HOUSEHOLDS  # a browser and an app install, at least
    events = _jsonl(landing, "events/*/*")
    for r in shared:
        value = r["identifier_value"]
        if r["identifier_type"] == "anonymous_id":
            carrying = [e for e in events if e.get("anonymousId") == value]
        else:
            carrying = [
                e
                for e in events
                if ((e.get("context") or {}).get("device") or {}).get("id") == value
            ]
        users = {e["userId"] for e in carrying if e.get("userId")}
        assert len(users) >= 2, r
        people = {owners[("user_id", u)] for u in users}
        assert len(people) == int(r["people"]), r
        first = {
            u: min(datetime.fromisoformat(e["timestamp"]) for e in carrying if e.get("userId") == u)
            for u in users
        }
        assert max(first.values()) - min(first.values()) < timedelta(days=1), r  # interleaved
    cookies = {r["identifier_value"] for r in web}
    log = [x for p in landing.glob("web_access/*/*") for x in read_text(p).splitlines()]
    assert any(any(f'"{c}"' in line for c in cookies) for line in log)


def test_junk_rates(tmp_path: Path) -> None:
    """The documented rates and floors of the injection mechanism, on many synthetic records
    (5 sigma of a binomial count either side)."""
    cfg = GeneratorConfig(customers=20, days=2, end_date=TINY.end_date, seed=1)
    pop = build_population(cfg)
    junk = junk_mod.Junk(cfg, pop, Registry())
    junk.begin_day(0)
    base = pop.customers[0]
    n = 100_000
    floor = junk_mod.FLOOR

    def person(i: int, country: str = "US"):
        return dataclasses.replace(base, idx=10**6 + i, person_id=f"S{i:06d}", country=country)

    def near(count: int, rate: float, trials: int, forced: int) -> bool:
        expected = forced + rate * trials
        return abs(count - expected) <= 5 * (rate * trials) ** 0.5 + 1

    emails = phones = untouched = 0
    for i in range(n):
        with_phone = i % 10 != 9  # a tenth of the records have no phone: never altered
        rec = CrmRecord(
            f"C{i}",
            person(i),
            "x@y.example",
            "+12125551234" if with_phone else "",
            "A",
            "B",
            "",
            "F",
            "Boston",
            "",
            "",
            0,
            0,
        )
        junk.crm_record(rec)
        if rec.email in junk_mod.PLACEHOLDER_EMAILS:
            assert with_phone
            emails += 1
            assert i >= floor or rec.email == "test@test.com"
        elif rec.phone == junk_mod.PLACEHOLDER_PHONES["US"]:
            phones += 1
        else:
            untouched += 1
    eligible = n - n // 10
    assert near(emails, junk_mod.CRM_EMAIL_RATE, eligible, floor), emails
    assert near(phones, junk_mod.CRM_PHONE_RATE, eligible, floor), phones
    assert emails + phones + untouched == n

    # one altered CRM record a person: the floor's phone goes to somebody else
    fresh = junk_mod.Junk(cfg, pop, Registry())
    fresh.begin_day(0)
    records = [
        CrmRecord(f"D{i}", who, "x@y.example", "+12125551234", "A", "B", "", "F", "", "", "", 0, 0)
        for i, who in enumerate([person(0), person(0), person(1)])
    ]
    for rec in records:
        fresh.crm_record(rec)
    assert [(r.email, r.phone) for r in records] == [
        ("test@test.com", "+12125551234"),
        ("x@y.example", "+12125551234"),
        ("test@test.com", "+12125551234"),
    ]

    forms = sum(
        junk.form_email("surveys", person(n + i), "x@y.example") != "x@y.example" for i in range(n)
    )
    assert near(forms, junk_mod.FORM_EMAIL_RATE, n, floor), forms
    assert junk.form_email("surveys", person(0), "") == ""

    rng = random_module.Random(5)
    web_dev = make_web_device("US", rng, "1.2.3.4")
    app_dev = make_app_device("US", rng, "1.2.3.4")
    altered_users = zero = 0
    for chunk in range(n // 1000):
        sessions = []
        for j in range(1000):
            i = chunk * 1000 + j
            dev = app_dev if i % 2 else web_dev
            hits = [Hit(0, "page", "Home", {}, None, "a", None)]
            hits += [Hit(k, "track", "X", {}, None, "a", "u_1") for k in range(1, 6)]
            sessions.append(Session(person(2 * n + i), f"S{i}", dev, None, hits, False))
        junk.sessions(chunk, sessions)
        for s in sessions:
            users = [h.user for h in s.hits]
            if users[1] != "u_1":
                altered_users += 1
                k = sum(u in junk_mod.PLACEHOLDER_USER_IDS for u in users)
                assert 1 <= k <= 3 and users[0] is None and users[1 + k :] == ["u_1"] * (5 - k)
                assert users[1] == "null" or not s.device.is_app
            if s.device_id_override == junk_mod.ZERO_DEVICE_ID:
                assert s.device.is_app
                zero += 1
    # floors: each placeholder user id on `floor` people; the zero device id on `floor`
    assert near(altered_users, junk_mod.USER_ID_RATE, n, 2 * floor), altered_users
    assert near(zero, junk_mod.ZERO_DEVICE_RATE, n // 2, floor), zero
    assert dict(junk.injected)["zero_device"] == zero
