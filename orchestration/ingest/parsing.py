"""SQL that turns the lines of one delivery into records, parses and validates them.

Everything here is generated from the source contract (`sources.py`) and runs as one
set-based statement per step inside DuckDB; Python never loops over records.

Input: `_lines(file, line_no, _text, bad_encoding)`, every physical line of every file of
the delivery. Output: `_records(file, line, _text, is_header, is_blank)`, what counts as a
record (a view for line formats, a table for CSV), and the table `_parsed`: contract
columns, `_extra`, `problem` (a struct of reason and detail, NULL for a good record) and
the record's text for quarantined records.
"""

from __future__ import annotations

import json
from datetime import date

from orchestration.ingest.sources import (
    FIRST_DELIVERY,
    FUTURE_SLACK_DAYS,
    Field,
    Format,
    Kind,
    Source,
)

# A CSV field after a leading comma: a quoted field ("" escapes a quote) or a bare one.
# Every field is matched *with* its leading comma, so no match is ever empty.
CSV_FIELD = r',("(?:[^"]|"")*"|[^,"]*)'

# Where a CSV record ends (records_sql). Each physical line maps "inside a quoted field at
# its start?" to "inside one at its end?", decided by three patterns. From outside a quoted
# field, the line opens one when it ends in a quoted field not yet closed; a quote that
# does not start a field (`27" screen`) opens nothing (the record is `csv_bad_quoting`, the
# next line starts the next record). From inside one, the line stays inside when all its
# quotes are doubled, and is inside again at its end when, after the closing quote, its
# last field opens another.
_CSV_CLOSED_FIELD = r'"(?:[^"]|"")*"|[^,"][^,]*'
_CSV_OPEN_TAIL = r'"(?:[^"]|"")*'
CSV_LINE_OPENS = rf"(?:(?:{_CSV_CLOSED_FIELD})?,)*{_CSV_OPEN_TAIL}"
CSV_LINE_STAYS_OPEN = r'(?:[^"]|"")*'
CSV_LINE_REOPENS = rf'(?:[^"]|"")*"[^,]*(?:,(?:{_CSV_CLOSED_FIELD})?)*,{_CSV_OPEN_TAIL}'

# A timestamp that states its UTC offset (or Z, UTC, GMT) after its time of day; any other
# readable timestamp is naive (`naive_timestamp` warning), read as UTC.
TIMESTAMP_WITH_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$"
# A text value a spreadsheet would run as a formula (`spreadsheet_formula` warning).
SPREADSHEET_FORMULA = r"^\s*(?:=|[+@-]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\()"
# Valid JSON that is an object: its first character after JSON white space is `{`.
JSON_OBJECT_START = r"^[ \t\n\r]*\{"
# The first line of a file that is a JSON array rather than JSON lines: `[` alone, or `[`
# then an object or the end of the array.
JSON_ARRAY_START = r"^\s*\[\s*(?:\{|\]|$)"
NUL = "chr(0)"
REPLACEMENT_CHARACTER = "chr(65533)"

# The flags a record carries (docs/landing.md, "Warnings"): kind, field, detail.
FLAG_TYPE = "STRUCT(kind VARCHAR, field VARCHAR, detail VARCHAR)"

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
ACCESS_LOG_LINE = (
    r"^(\S+) (\S+) (\S+) \[([^\]]+)\] "
    + _QUOTED
    + r" (\d{3}) (\d+|-) "
    + _QUOTED
    + " "
    + _QUOTED
    + r'((?:\s+"(?:[^"\\]|\\.)*")*)\s*$'
)
ACCESS_LOG_GROUPS = [
    "remote_host",
    "ident",
    "remote_user",
    "request_time",
    "request",
    "status",
    "response_bytes",
    "referrer",
    "user_agent",
    "trailing",
]
ACCESS_LOG_PREFIX = r'^\S+ \S+ \S+ \[[^\]]+\] "'
ACCESS_LOG_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A line of nothing but these is blank (not a record): spaces, tabs, CR, vertical tab,
# form feed.
BLANK_CHARACTERS = " \t\r\v\f"


def _blank_line(expr: str) -> str:
    """SQL: `expr` is empty or only white space (tabs included, not only spaces)."""
    # a regular expression stops at the first other character; trim() walks the whole line
    others = "".join(f"\\x{ord(c):02x}" for c in BLANK_CHARACTERS)
    return f"NOT regexp_matches({expr}, '[^{others}]')"


def _blank(expr: str) -> str:
    return f"nullif(trim({expr}), '') IS NULL"


def _present(expr: str) -> str:
    return f"nullif(trim({expr}), '') IS NOT NULL"


def _problem(reason: str, detail: str | None = None) -> str:
    detail_sql = sql_literal(detail) if detail else "NULL::VARCHAR"
    return f"{{'reason': {sql_literal(reason)}, 'detail': {detail_sql}}}"


def records_sql(source: Source) -> str:
    """`_records`: one row per record. Line formats: one non-blank line. CSV: physical lines
    grouped while a quoted field is open (CSV_LINE_OPENS and friends: a stray quote in a
    bare field does not open one, so it cannot swallow the records after it)."""
    if source.format is not Format.CSV:
        return f"""
            CREATE OR REPLACE TEMP VIEW _records AS
            SELECT file, line_no AS line, _text, bad_encoding, FALSE AS is_header,
                   TRUE AS closed, {_blank_line("_text")} AS is_blank
            FROM _lines
        """
    return f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        WITH transitions AS (
            -- each line: inside a quoted field at its end, when outside (opens) / inside
            -- (stays) at its start
            SELECT *,
                   regexp_full_match(_text, {sql_literal(CSV_LINE_OPENS)}) AS opens,
                   regexp_full_match(_text, {sql_literal(CSV_LINE_STAYS_OPEN)})
                   OR regexp_full_match(_text, {sql_literal(CSV_LINE_REOPENS)}) AS stays
            FROM _lines
        ),
        flips AS (
            -- a line is a constant (opens = stays), keeps the state (opens < stays) or
            -- flips it (opens > stays); count the flips
            SELECT *, sum((opens AND NOT stays)::INT) OVER running AS flips
            FROM transitions
            WINDOW running AS (PARTITION BY file ORDER BY line_no ROWS UNBOUNDED PRECEDING)
        ),
        last_constant AS (
            SELECT *,
                   last_value(CASE WHEN opens = stays THEN {{'open': opens, 'flips': flips}} END
                              IGNORE NULLS) OVER running AS constant
            FROM flips
            WINDOW running AS (PARTITION BY file ORDER BY line_no ROWS UNBOUNDED PRECEDING)
        ),
        record_ends AS (
            -- inside a quoted field after this line: the last constant's state, flipped
            -- once per flip since (the file starts outside)
            SELECT *,
                   coalesce(constant.open, FALSE)
                   = ((flips - coalesce(constant.flips, 0)) % 2 = 1) AS ends_record
            FROM last_constant
        ),
        numbered AS (
            SELECT *,
                   coalesce(sum(ends_record::INT) OVER (
                       PARTITION BY file ORDER BY line_no
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS record_no
            FROM record_ends
        ),
        grouped AS (
            SELECT file, record_no, min(line_no) AS line,
                   string_agg(_text, chr(10) ORDER BY line_no) AS _text,
                   bool_or(bad_encoding) AS bad_encoding,
                   bool_or(ends_record) AS closed
            FROM numbered
            GROUP BY file, record_no
        ),
        blank_marked AS (
            SELECT *, closed AND {_blank_line("_text")} AS is_blank FROM grouped
        ),
        header_marked AS (
            SELECT *,
                   NOT is_blank AND line = min(line) FILTER (WHERE NOT is_blank)
                       OVER (PARTITION BY file) AS is_header
            FROM blank_marked
        )
        SELECT file, line,
               -- a byte-order mark belongs to the file, not to the first column name
               CASE WHEN is_header THEN ltrim(_text, chr(65279)) ELSE _text END AS _text,
               bad_encoding, is_header, closed, is_blank
        FROM header_marked
    """


def _flag(kind: str, field: str, detail: str | None = None) -> str:
    """SQL: the struct of one warning flag (FLAG_TYPE)."""
    detail_sql = detail if detail else "NULL::VARCHAR"
    return f"{{'kind': {sql_literal(kind)}, 'field': {sql_literal(field)}, 'detail': {detail_sql}}}"


def _format_checks(conditions: list[tuple[str, str]]) -> list[str]:
    return [f"WHEN {c} THEN {p}" for c, p in conditions]


# Checks every format starts with: the line's bytes.
_LINE_CONDITIONS = [
    ("bad_encoding", _problem("invalid_encoding")),
    (f"contains(_text, {NUL})", _problem("nul_character")),
]


def _json_lines_parsed(source: Source) -> tuple[str, list[str], list[str]]:
    """FROM clause, problem conditions and warning flags for JSON lines.

    A record is parsed once for all its top-level fields: `json_transform` to a struct of
    JSON fragments (`fields`), whose text, type and value come from the small fragment.
    Extracting by path list (`json_extract_string`, `json_extract`, `json_type`) parsed the
    whole record once per call."""
    text_fields = [f for f in source.fields if f.kind is Kind.TEXT]
    json_fields = [f for f in source.fields if f.kind is Kind.JSON]
    known = json.dumps({f.key: None for f in source.fields})
    fragments = json.dumps({f.key: "JSON" for f in source.fields})

    def fragment(f: Field) -> str:
        return f"fields[{sql_literal(f.key)}]"

    columns = [f"json_extract_string({fragment(f)}, '$') AS {f.column}" for f in text_fields]
    columns += [
        f"CASE WHEN json_type({fragment(f)}) <> 'NULL' THEN {fragment(f)} END AS {f.column}"
        for f in json_fields
    ]
    columns += [
        f"json_type({fragment(f)}) AS _type_{i}"
        for i, f in enumerate(source.fields, start=1)
        if f.expected_json_types()
    ]
    nested = [
        f"json_extract_string(doc, {sql_literal(path)}) AS {_nested_alias(detail)}"
        for detail, path in source.nested_numbers
    ]
    from_sql = f"""
        WITH documents AS (
            SELECT file, line, _text, bad_encoding,
                   CASE WHEN json_valid(_text) THEN _text END AS doc,
                   -- the first record of the file opens a JSON array: not JSON lines
                   first_value(regexp_matches(_text, {sql_literal(JSON_ARRAY_START)}))
                       OVER (PARTITION BY file ORDER BY line) AS in_json_array
            FROM _records WHERE NOT is_blank
        ),
        objects AS (
            -- valid JSON that starts as an object (a byte test; json_type parses it all)
            SELECT *,
                   coalesce(regexp_matches(doc, {sql_literal(JSON_OBJECT_START)}), FALSE)
                       AS is_object
            FROM documents
        ),
        transformed AS (
            SELECT *,
                   CASE WHEN is_object THEN json_transform(doc, {sql_literal(fragments)}) END
                       AS fields
            FROM objects
        ),
        contract_fields AS (
            SELECT file, line, _text, bad_encoding, doc, is_object, in_json_array,
                   {", ".join(columns + nested)},
                   CASE WHEN is_object THEN
                       nullif(json_merge_patch(doc, {sql_literal(known)})::VARCHAR, '{{}}')::JSON
                   END AS _extra
            FROM transformed
        )
        SELECT * FROM contract_fields
    """
    conditions = [
        *_LINE_CONDITIONS,
        ("in_json_array", _problem("json_array", "the file is a JSON array, not JSON lines")),
        ("doc IS NULL", _problem("invalid_json")),
        ("NOT is_object", _problem("not_json_object")),
        # `\u0000` in a JSON string decodes to a real NUL: never stored
        *((f"contains({f.column}, {NUL})", _problem("nul_character", f.key)) for f in text_fields),
    ]
    flags = [
        f"CASE WHEN _type_{i} NOT IN ('NULL', {', '.join(map(sql_literal, expected))}) "
        f"THEN {_flag('type_change', f.key, f'_type_{i}')} END"
        for i, f in enumerate(source.fields, start=1)
        if (expected := f.expected_json_types())
    ]
    return from_sql, _format_checks(conditions), flags


def _nested_alias(detail: str) -> str:
    return "_nested_" + detail.replace(".", "_")


def _csv_parsed(source: Source) -> tuple[str, list[str], list[str]]:
    known = "[" + ", ".join(sql_literal(f.key) for f in source.fields) + "]"
    columns = [
        # CSV cannot tell an empty field from a missing value: both load as NULL.
        f"nullif(field_values[list_position(header, {sql_literal(f.key)})], '') AS {f.column}"
        for f in source.fields
    ]
    from_sql = f"""
        WITH headers AS (
            SELECT file,
                   list_transform(regexp_extract_all(',' || _text, {sql_literal(CSV_FIELD)}, 1),
                                  lambda h: trim(CASE WHEN starts_with(h, '"')
                                                      THEN replace(h[2:-2], '""', '"')
                                                      ELSE h END)) AS header
            FROM _records WHERE is_header
        ),
        split AS (
            SELECT r.file, r.line, r._text, r.bad_encoding, r.closed, h.header,
                   regexp_extract_all(',' || r._text, {sql_literal(CSV_FIELD)}, 1) AS raw_fields,
                   array_to_string(regexp_extract_all(',' || r._text, {sql_literal(CSV_FIELD)}, 0),
                                   '') = ',' || r._text AS well_quoted
            FROM _records r JOIN headers h USING (file)
            WHERE NOT r.is_header AND NOT r.is_blank
        ),
        unquoted AS (
            SELECT *,
                   list_transform(raw_fields,
                                  lambda v: CASE WHEN starts_with(v, '"')
                                                 THEN replace(v[2:-2], '""', '"')
                                                 ELSE v END) AS field_values
            FROM split
        )
        SELECT file, line, _text, bad_encoding, closed, well_quoted, header,
               len(field_values) = len(header) AS right_width,
               {", ".join(columns)},
               CASE WHEN len(field_values) = len(header) THEN
                   nullif(to_json(map_from_entries(list_filter(
                       list_zip(header, field_values),
                       lambda pair: NOT list_contains({known}, pair[1]))))::VARCHAR, '{{}}')::JSON
               END AS _extra
        FROM unquoted
    """
    conditions = [
        *_LINE_CONDITIONS,
        ("NOT closed", _problem("csv_unterminated_quote")),
        ("NOT well_quoted", _problem("csv_bad_quoting")),
        ("NOT right_width", _problem("csv_field_count")),
    ]
    flags = [
        f"CASE WHEN NOT list_contains(header, {sql_literal(f.key)}) "
        f"THEN {_flag('missing_column', f.key)} END"
        for f in source.fields
    ]
    flags += [
        f"CASE WHEN regexp_matches({f.column}, {sql_literal(SPREADSHEET_FORMULA)}) "
        f"THEN {_flag('spreadsheet_formula', f.key)} END"
        for f in source.fields
        if not (f.timestamp or f.number)
    ]
    return from_sql, _format_checks(conditions), flags


def _access_log_parsed(source: Source) -> tuple[str, list[str], list[str]]:
    groups = "[" + ", ".join(sql_literal(g) for g in ACCESS_LOG_GROUPS) + "]"
    from_sql = f"""
        WITH matched AS (
            SELECT file, line, _text, bad_encoding,
                   regexp_full_match(_text, {sql_literal(ACCESS_LOG_LINE)}) AS is_combined,
                   regexp_extract(_text, {sql_literal(ACCESS_LOG_LINE)}, {groups}) AS m,
                   -- an odd number of unescaped quotes: the line was cut inside a field
                   (length(regexp_replace(_text, '\\\\.', '', 'g'))
                    - length(replace(regexp_replace(_text, '\\\\.', '', 'g'), '"', ''))) % 2 = 1
                   AND regexp_matches(_text, {sql_literal(ACCESS_LOG_PREFIX)}) AS is_truncated
            FROM _records WHERE NOT is_blank
        ),
        request_parts AS (
            SELECT *,
                   regexp_extract(m.request, '^(\\S+) (\\S+) (\\S+)$',
                                  ['method', 'path', 'version']) AS r
            FROM matched
        )
        SELECT file, line, _text, bad_encoding, is_combined, is_truncated,
               m.remote_host AS remote_host, m.ident AS ident, m.remote_user AS remote_user,
               m.request_time AS request_time, m.request AS request,
               nullif(r.method, '') AS http_method, nullif(r.path, '') AS path,
               nullif(r.version, '') AS http_version,
               m.status AS status, m.response_bytes AS response_bytes,
               m.referrer AS referrer, m.user_agent AS user_agent,
               to_json(regexp_extract_all(m.trailing, {sql_literal(_QUOTED)}, 1)) AS extra_fields,
               NULL::JSON AS _extra
        FROM request_parts
    """
    conditions = [
        *_LINE_CONDITIONS,
        ("NOT is_combined AND is_truncated", _problem("log_truncated")),
        ("NOT is_combined", _problem("log_unparseable")),
    ]
    return from_sql, _format_checks(conditions), []


def _parsed_timestamp(source: Source, f: Field) -> str:
    if source.format is Format.ACCESS_LOG:
        return f"try_strptime(trim({f.column}), {sql_literal(ACCESS_LOG_TIME_FORMAT)})"
    return f"try_cast(trim({f.column}) AS TIMESTAMPTZ)"


def lower_bound(f: Field, first_delivery_date: date) -> date:
    """The first plausible UTC date of a timestamp field."""
    if f.not_before == FIRST_DELIVERY:
        return first_delivery_date
    return date.fromisoformat(f.not_before or "0001-01-01")


def _contract_conditions(source: Source, first_delivery_date: date) -> list[str]:
    """Required fields, identifiers, timestamps (readable, then plausible), numbers — in
    that order (docs/landing.md)."""
    whens: list[str] = []
    for f in source.fields:
        if f.required:
            blank = f"({f.column} IS NULL)" if f.kind is Kind.JSON else _blank(f.column)
            whens.append(f"WHEN {blank} THEN {_problem('missing_required_field', f.key)}")
        elif f.required_when:
            whens.append(
                f"WHEN ({f.required_when}) AND {_blank(f.column)} "
                f"THEN {_problem('missing_required_field', f.key)}"
            )
    if source.identity_columns:
        all_blank = " AND ".join(_blank(c) for c in source.identity_columns)
        whens.append(f"WHEN {all_blank} THEN {_problem(source.identity_reason or '')}")
    for f in source.fields:
        if f.timestamp:
            whens.append(
                f"WHEN {_present(f.column)} AND {_parsed_timestamp(source, f)} IS NULL "
                f"THEN {_problem('invalid_timestamp', f.key)}"
            )
    for f in source.fields:
        if f.plausible_range:
            day = f"CAST(timezone('UTC', {_parsed_timestamp(source, f)}) AS DATE)"
            since = lower_bound(f, first_delivery_date).isoformat()
            whens.append(
                f"WHEN {_present(f.column)} AND ({day} < DATE '{since}' "
                f"OR {day} > _delivery + {FUTURE_SLACK_DAYS}) "
                f"THEN {_problem('implausible_timestamp', f.key)}"
            )
    for f in source.fields:
        if f.number:
            whens.append(
                f"WHEN {_present(f.column)} AND try_cast(trim({f.column}) AS DOUBLE) IS NULL "
                f"THEN {_problem('invalid_number', f.key)}"
            )
    for detail, _path in source.nested_numbers:
        alias = _nested_alias(detail)
        whens.append(
            f"WHEN len(list_filter(coalesce({alias}, []), lambda v: v IS NOT NULL "
            f"AND try_cast(trim(v) AS DOUBLE) IS NULL)) > 0 "
            f"THEN {_problem('invalid_number', detail)}"
        )
    return whens


def _contract_flags(source: Source) -> list[str]:
    """Warnings on a loadable record: timestamps without a UTC offset."""
    if source.format is Format.ACCESS_LOG:
        return []  # %t always has its offset (the parse requires it)
    return [
        f"CASE WHEN {_present(f.column)} AND NOT regexp_matches(trim({f.column}), "
        f"{sql_literal(TIMESTAMP_WITH_OFFSET)}) THEN {_flag('naive_timestamp', f.key)} END"
        for f in source.fields
        if f.timestamp
    ]


def parsed_sql(source: Source, first_delivery_date: date) -> str:
    """`_parsed`: `_records` with contract columns, `_extra`, `problem` and `flags` (the
    warnings of a loaded record, NULL when none). `first_delivery_date` is the lower bound
    of the plausible range of timestamps (Settings.first_delivery_date); the upper bound
    is each record's delivery date (`_files.partition`) plus FUTURE_SLACK_DAYS."""
    builders = {
        Format.JSON_LINES: _json_lines_parsed,
        Format.CSV: _csv_parsed,
        Format.ACCESS_LOG: _access_log_parsed,
    }
    from_sql, format_whens, format_flags = builders[source.format](source)
    whens = format_whens + _contract_conditions(source, first_delivery_date)
    flags = format_flags + _contract_flags(source)
    flag_list = (
        f"list_filter([{', '.join(flags)}], lambda w: w IS NOT NULL)"
        if flags
        else f"CAST([] AS {FLAG_TYPE}[])"
    )
    # Keep only what the inserts need: the record's text is kept for quarantine rows only
    # (a NUL never stored: it becomes U+FFFD), the flags for loaded rows only.
    columns = ", ".join(source.column_names())
    return f"""
        CREATE OR REPLACE TEMP TABLE _parsed AS
        SELECT file, line, {columns}, _extra, problem,
               CASE WHEN problem IS NOT NULL
                    THEN replace(_text, {NUL}, {REPLACEMENT_CHARACTER}) END AS _text,
               CASE WHEN problem IS NULL THEN nullif(flags, []) END AS flags
        FROM (
            SELECT *, CASE {" ".join(whens)} END AS problem, {flag_list} AS flags
            FROM (
                SELECT candidate.*, f.partition AS _delivery
                FROM ({from_sql}) AS candidate JOIN _files AS f ON candidate.file = f.file
            ) AS delivered
        ) AS checked
    """
