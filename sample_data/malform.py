"""Malformed-record injection: each injected record triggers exactly one quarantine reason.

The reasons and their order are those of docs/landing.md. A corrupted record is a copy of
a real record with exactly one thing broken, so the first check that applies is the one
recorded. Records are never corrupted in the first three records of a file.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass

from .timeutil import ms_to_date
from .web_access import LogRecord, format_record

RATE = 0.002  # share of records corrupted at random (on top of the guaranteed ones)
MIN_INDEX = 3  # never corrupt the first three records of a file

BAD_TIMESTAMPS = (
    "2026-02-30T10:00:00Z",
    "2026-01-05T25:61:00Z",
    "31/12/2025 23:59:59",
    "yesterday",
)
BAD_CLF_TIMES = (
    "30/Feb/{y}:10:05:03 +0000",
    "05/Jan/{y}:25:61:07 +0000",
    "31/Jun/{y}:08:00:00 +0000",
)
BAD_NUMBERS = ("12,50", "1.299,00", "€19.99", "two", "4,5", "9.99 USD")
GARBAGE_LINES = (
    '{d} 10:14:07 [error] 1187#1187: *{n} open() "/var/www/lumina/static/old.css" failed '
    "(2: No such file or directory), client: 203.0.113.{n8}, server: www.lumina.example",
    "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\\x9b\\x1e",
    "-- MARK -- log rotated by logrotate {d}",
)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class Spec:
    fmt: str  # jsonl | csv | log
    required: tuple[str, ...] = ()
    customer_ref: bool = False
    subject: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    text_col: str = ""  # CSV column used for quoting / field-count damage
    comma_text: str = ""

    def applicable(self) -> tuple[str, ...]:
        """Reasons that can be injected at random (csv_unterminated_quote is placed apart)."""
        if self.fmt == "log":
            return ("log_truncated", "log_unparseable", "invalid_timestamp")
        out = (
            ["csv_bad_quoting", "csv_field_count"]
            if self.fmt == "csv"
            else ["invalid_json", "not_json_object"]
        )
        if self.required:
            out.append("missing_required_field")
        if self.customer_ref:
            out.append("missing_customer_reference")
        if self.subject:
            out.append("missing_subject_identifier")
        if self.timestamps:
            out.append("invalid_timestamp")
        if self.numbers:
            out.append("invalid_number")
        return tuple(out)


CUSTOMER_REF = ("crm_id", "user_id", "email")
SUBJECT = ("anonymous_id", "user_id", "email", "phone", "crm_id")
SPECS: dict[str, Spec] = {
    "web_access": Spec("log"),
    "events": Spec(
        "jsonl",
        required=("messageId", "type", "event", "timestamp"),
        subject=("anonymousId", "userId"),
        timestamps=("timestamp", "originalTimestamp", "sentAt", "receivedAt"),
    ),
    "products": Spec(
        "csv",
        required=("product_id",),
        numbers=("price",),
        text_col="name",
        comma_text="Mug, ceramic",
    ),
    "crm_customers": Spec(
        "csv",
        required=("crm_id",),
        timestamps=("created_at", "updated_at"),
        text_col="city",
        comma_text="Porto Alegre, RS",
    ),
    "orders": Spec(
        "jsonl",
        required=("order_id", "ordered_at", "status", "currency", "total", "items"),
        customer_ref=True,
        timestamps=("ordered_at",),
        numbers=("total", "items.quantity", "items.unit_price"),
    ),
    "subscriptions": Spec(
        "jsonl",
        required=("subscription_id", "plan", "change", "changed_at"),
        customer_ref=True,
        timestamps=("changed_at",),
        numbers=("mrr",),
    ),
    "support_tickets": Spec(
        "csv",
        required=("ticket_id", "created_at"),
        customer_ref=True,
        timestamps=("created_at", "first_response_at", "resolved_at"),
        numbers=("csat",),
        text_col="subject",
        comma_text="Refund, please",
    ),
    "surveys": Spec(
        "csv",
        required=("response_id", "survey", "score", "submitted_at"),
        customer_ref=True,
        timestamps=("submitted_at",),
        numbers=("score",),
        text_col="comment",
        comma_text="Good, but slow",
    ),
    "reviews": Spec(
        "jsonl",
        required=("review_id", "product_id", "rating", "created_at"),
        customer_ref=True,
        timestamps=("created_at",),
        numbers=("rating",),
    ),
    "social": Spec(
        "jsonl",
        required=("interaction_id", "platform", "kind", "created_at"),
        timestamps=("created_at",),
    ),
    "consent": Spec(
        "jsonl",
        required=("consent_id", "purpose", "status", "recorded_at"),
        subject=SUBJECT,
        timestamps=("recorded_at",),
    ),
    "privacy_requests": Spec(
        "jsonl",
        required=("request_id", "kind", "received_at"),
        subject=SUBJECT,
        timestamps=("received_at",),
    ),
}


class GuaranteePlan:
    """Where the at-least-one-of-each-reason records go: spread over each source's files.

    Reason i of a source goes to file floor(i * files / reasons); a file with too few
    records passes its reasons on to the source's next file. csv_unterminated_quote goes to
    the last record of the middle file of each CSV source.
    """

    def __init__(self, file_days: dict[str, list[int]]) -> None:
        self.queue: dict[str, list[str]] = defaultdict(list)
        self.schedule: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.cut_day: dict[str, int] = {}
        for source, days in file_days.items():
            spec = SPECS[source]
            kinds = spec.applicable()
            for i, kind in enumerate(kinds):
                self.schedule[(source, days[(i * len(days)) // len(kinds)])].append(kind)
            if spec.fmt == "csv":
                self.cut_day[source] = days[len(days) // 2]

    def take(self, source: str, day: int) -> list[str]:
        return self.queue.pop(source, []) + self.schedule.pop((source, day), [])

    def give_back(self, source: str, left: list[str]) -> None:
        if left:
            self.queue[source].extend(left)

    def cut_here(self, source: str, day: int) -> bool:
        return source in self.cut_day and self.cut_day[source] <= day

    def cut_done(self, source: str) -> None:
        self.cut_day.pop(source, None)

    def unplaced(self) -> dict[str, list[str]]:
        out = {s: list(k) for s, k in self.queue.items() if k}
        for (source, _), kinds in self.schedule.items():
            out.setdefault(source, []).extend(kinds)
        for source in self.cut_day:
            out.setdefault(source, []).append("csv_unterminated_quote")
        return out


def choose_positions(
    n: int,
    guaranteed: list[str],
    kinds: tuple[str, ...],
    rng: random.Random,
    reserve_last: bool = False,
) -> tuple[dict[int, str], list[str]]:
    """{record index: reason}, plus the guaranteed reasons that did not fit in this file."""
    hi = n - 1 if reserve_last else n
    eligible = range(MIN_INDEX, max(MIN_INDEX, hi))
    expected = len(eligible) * RATE
    k = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    fit = guaranteed[: len(eligible)]
    left = guaranteed[len(fit) :]
    k = min(k, len(eligible) - len(fit))
    picks = rng.sample(eligible, len(fit) + k) if eligible else []
    out = {idx: kind for idx, kind in zip(picks, fit, strict=False)}
    for idx in picks[len(fit) :]:
        out[idx] = rng.choice(kinds)
    return out, left


# --- JSON lines -----------------------------------------------------------------------------


def _blank_value(rng: random.Random) -> object:
    return rng.choice((None, "", "   ", ...))


def _set_blank(obj: dict, key: str, rng: random.Random, allow_string: bool = True) -> None:
    v = _blank_value(rng) if allow_string else rng.choice((None, ...))
    if v is ...:
        obj.pop(key, None)
    else:
        obj[key] = v


def corrupt_json(line: str, kind: str, spec: Spec, rng: random.Random) -> str:
    if kind == "invalid_json":
        cut = rng.randint(len(line) // 4, (3 * len(line)) // 4)
        return line[:cut]
    if kind == "not_json_object":
        r = rng.random()
        if r < 0.6:
            return "[" + line + "]"  # a batch wrapper where one message was expected
        return rng.choice(("[1,2]", "null", '"ok"', "42"))
    obj = json.loads(line)
    if kind == "missing_required_field":
        fields = [f for f in spec.required if f != "event" or obj.get("type") == "track"]
        key = rng.choice(fields)
        _set_blank(obj, key, rng, allow_string=key != "items")
    elif kind == "missing_customer_reference":
        for key in CUSTOMER_REF:
            _set_blank(obj, key, rng)
    elif kind == "missing_subject_identifier":
        for key in spec.subject:
            _set_blank(obj, key, rng)
    elif kind == "invalid_timestamp":
        present = [f for f in spec.timestamps if isinstance(obj.get(f), str) and obj[f].strip()]
        obj[rng.choice(present)] = rng.choice(BAD_TIMESTAMPS)
    elif kind == "invalid_number":
        key = rng.choice(spec.numbers)
        if key.startswith("items."):
            obj["items"][0][key.split(".", 1)[1]] = rng.choice(BAD_NUMBERS)
        else:
            obj[key] = rng.choice(BAD_NUMBERS)
    else:
        raise ValueError(kind)
    return _dumps(obj)


def inject_jsonl(
    lines: list[str], spec: Spec, guaranteed: list[str], rng: random.Random
) -> tuple[list[tuple[int, str]], list[str]]:
    """Corrupt lines in place; returns [(1-based line, reason)] and unplaced reasons."""
    picks, left = choose_positions(len(lines), guaranteed, spec.applicable(), rng)
    out = []
    for idx in sorted(picks):
        lines[idx] = corrupt_json(lines[idx], picks[idx], spec, rng)
        out.append((idx + 1, picks[idx]))
    return out, left


# --- access log -----------------------------------------------------------------------------


def corrupt_log(rec: LogRecord, kind: str, rng: random.Random) -> str:
    if kind == "log_truncated":
        line = format_record(rec)
        ua = rec[9]
        start = line.rindex(f'"{ua}"') + 1
        return line[: start + rng.randint(5, len(ua) - 3)]
    if kind == "log_unparseable":
        day = ms_to_date(rec[0]).strftime("%Y/%m/%d")
        tpl = rng.choice(GARBAGE_LINES)
        return tpl.format(d=day, n=rng.randint(1000, 99999), n8=rng.randint(1, 254))
    if kind == "invalid_timestamp":
        year = ms_to_date(rec[0]).year
        return format_record(rec, rng.choice(BAD_CLF_TIMES).format(y=year))
    raise ValueError(kind)


def inject_log(
    records: list[LogRecord], guaranteed: list[str], rng: random.Random
) -> tuple[list[str], list[tuple[int, str]], list[str]]:
    picks, left = choose_positions(len(records), guaranteed, SPECS["web_access"].applicable(), rng)
    lines = [
        corrupt_log(r, picks[i], rng) if i in picks else format_record(r)
        for i, r in enumerate(records)
    ]
    return lines, [(i + 1, picks[i]) for i in sorted(picks)], left


# --- CSV ------------------------------------------------------------------------------------


def csv_field(value: str) -> str:
    if value and (
        "," in value
        or '"' in value
        or "\n" in value
        or "\r" in value
        or value[0] == " "
        or value[-1] == " "
    ):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_record(fields: list[str]) -> str:
    return ",".join(csv_field(v) for v in fields)


def corrupt_csv(
    fields: list[str], header: list[str], kind: str, spec: Spec, rng: random.Random
) -> str:
    fields = list(fields)
    col = header.index(spec.text_col) if spec.text_col else 1
    if kind == "csv_bad_quoting":
        raw = 'Item arrived "almost" new'  # quotes inside an unquoted field: ab"c"d
        return ",".join(raw if i == col else csv_field(v) for i, v in enumerate(fields))
    if kind == "csv_field_count":
        if rng.random() < 0.5:
            return ",".join(
                spec.comma_text if i == col else csv_field(v) for i, v in enumerate(fields)
            )
        return csv_record(fields[:-1])
    if kind == "missing_required_field":
        fields[header.index(rng.choice(spec.required))] = rng.choice(("", "  "))
    elif kind == "missing_customer_reference":
        for key in CUSTOMER_REF:
            fields[header.index(key)] = ""
    elif kind == "invalid_timestamp":
        present = [f for f in spec.timestamps if fields[header.index(f)].strip()]
        fields[header.index(rng.choice(present))] = rng.choice(BAD_TIMESTAMPS)
    elif kind == "invalid_number":
        fields[header.index(rng.choice(spec.numbers))] = rng.choice(BAD_NUMBERS)
    else:
        raise ValueError(kind)
    return csv_record(fields)


def unterminated(fields: list[str], header: list[str], spec: Spec, rng: random.Random) -> str:
    """The record as a cut-off file ends: inside a quoted field that never closes."""
    col = header.index(spec.text_col)
    value = fields[col] or "Lumina"
    head = ",".join(csv_field(v) for v in fields[:col])
    cut = value[: max(1, rng.randint(len(value) // 3, max(1, (2 * len(value)) // 3)))]
    return (head + "," if col else "") + '"' + cut.replace('"', '""')


def inject_csv(
    header: list[str],
    rows: list[list[str]],
    spec: Spec,
    guaranteed: list[str],
    cut_last: bool,
    rng: random.Random,
) -> tuple[list[str], list[tuple[int, str]], list[str]]:
    """Serialised records (without terminators), [(record index, reason)], unplaced reasons."""
    picks, left = choose_positions(
        len(rows), guaranteed, spec.applicable(), rng, reserve_last=cut_last
    )
    out: list[str] = []
    for i, fields in enumerate(rows):
        if i in picks:
            out.append(corrupt_csv(fields, header, picks[i], spec, rng))
        else:
            out.append(csv_record(fields))
    marks = [(i, picks[i]) for i in sorted(picks)]
    if cut_last and len(rows) > MIN_INDEX:
        out[-1] = unterminated(rows[-1], header, spec, rng)
        marks.append((len(rows) - 1, "csv_unterminated_quote"))
    return out, marks, left
