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

from orchestration.ingest.sources import Format, Kind, Source

# A CSV field after a leading comma: a quoted field ("" escapes a quote) or a bare one.
# Every field is matched *with* its leading comma, so no match is ever empty.
CSV_FIELD = r',("(?:[^"]|"")*"|[^,"]*)'

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
    chars = " || ".join(f"chr({ord(c)})" for c in BLANK_CHARACTERS)
    return f"trim({expr}, {chars}) = ''"


def _blank(expr: str) -> str:
    return f"nullif(trim({expr}), '') IS NULL"


def _present(expr: str) -> str:
    return f"nullif(trim({expr}), '') IS NOT NULL"


def _problem(reason: str, detail: str | None = None) -> str:
    detail_sql = sql_literal(detail) if detail else "NULL::VARCHAR"
    return f"{{'reason': {sql_literal(reason)}, 'detail': {detail_sql}}}"


def records_sql(source: Source) -> str:
    """`_records`: one row per record. Line formats: one non-blank line. CSV: physical lines
    grouped while a quoted field is open (odd running count of quote characters)."""
    if source.format is not Format.CSV:
        return f"""
            CREATE OR REPLACE TEMP VIEW _records AS
            SELECT file, line_no AS line, _text, bad_encoding, FALSE AS is_header,
                   TRUE AS closed, {_blank_line("_text")} AS is_blank
            FROM _lines
        """
    return f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        WITH quote_counts AS (
            SELECT *, length(_text) - length(replace(_text, '"', '')) AS quotes FROM _lines
        ),
        record_ends AS (
            SELECT *,
                   sum(quotes) OVER running % 2 = 0 AS ends_record
            FROM quote_counts
            WINDOW running AS (PARTITION BY file ORDER BY line_no ROWS UNBOUNDED PRECEDING)
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


def _json_lines_parsed(source: Source) -> tuple[str, list[str]]:
    """FROM clause and problem conditions for JSON lines."""
    text_fields = [f for f in source.fields if f.kind is Kind.TEXT]
    json_fields = [f for f in source.fields if f.kind is Kind.JSON]
    text_paths = "[" + ", ".join(sql_literal(f"$.{f.key}") for f in text_fields) + "]"
    json_paths = "[" + ", ".join(sql_literal(f"$.{f.key}") for f in json_fields) + "]"
    known = json.dumps({f.key: None for f in source.fields})
    columns = [f"texts[{i}] AS {f.column}" for i, f in enumerate(text_fields, start=1)]
    columns += [
        f"CASE WHEN json_type(jsons[{i}]) <> 'NULL' THEN jsons[{i}] END AS {f.column}"
        for i, f in enumerate(json_fields, start=1)
    ]
    nested = [
        f"json_extract_string(doc, {sql_literal(path)}) AS {_nested_alias(detail)}"
        for detail, path in source.nested_numbers
    ]
    from_sql = f"""
        WITH documents AS (
            SELECT file, line, _text, bad_encoding,
                   CASE WHEN json_valid(_text) THEN _text::JSON END AS doc
            FROM _records WHERE NOT is_blank
        ),
        objects AS (
            SELECT *, coalesce(json_type(doc) = 'OBJECT', FALSE) AS is_object FROM documents
        ),
        extracted AS (
            SELECT *,
                   CASE WHEN is_object THEN json_extract_string(doc, {text_paths}) END AS texts,
                   CASE WHEN is_object THEN json_extract(doc, {json_paths}) END AS jsons
            FROM objects
        ),
        fields AS (
            SELECT file, line, _text, bad_encoding, doc, is_object,
                   {", ".join(columns + nested)},
                   CASE WHEN is_object THEN
                       nullif(json_merge_patch(doc, {sql_literal(known)})::VARCHAR, '{{}}')::JSON
                   END AS _extra
            FROM extracted
        )
        SELECT * FROM fields
    """
    conditions = [
        ("bad_encoding", _problem("invalid_encoding")),
        ("doc IS NULL", _problem("invalid_json")),
        ("NOT is_object", _problem("not_json_object")),
    ]
    return from_sql, [f"WHEN {c} THEN {p}" for c, p in conditions]


def _nested_alias(detail: str) -> str:
    return "_nested_" + detail.replace(".", "_")


def _csv_parsed(source: Source) -> tuple[str, list[str]]:
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
        SELECT file, line, _text, bad_encoding, closed, well_quoted,
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
        ("bad_encoding", _problem("invalid_encoding")),
        ("NOT closed", _problem("csv_unterminated_quote")),
        ("NOT well_quoted", _problem("csv_bad_quoting")),
        ("NOT right_width", _problem("csv_field_count")),
    ]
    return from_sql, [f"WHEN {c} THEN {p}" for c, p in conditions]


def _access_log_parsed(source: Source) -> tuple[str, list[str]]:
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
        ("bad_encoding", _problem("invalid_encoding")),
        ("NOT is_combined AND is_truncated", _problem("log_truncated")),
        ("NOT is_combined", _problem("log_unparseable")),
    ]
    return from_sql, [f"WHEN {c} THEN {p}" for c, p in conditions]


def _contract_conditions(source: Source) -> list[str]:
    """Required fields, identifiers, timestamps, numbers — in that order (docs/landing.md)."""
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
            parsed = (
                f"try_strptime(trim({f.column}), {sql_literal(ACCESS_LOG_TIME_FORMAT)})"
                if source.format is Format.ACCESS_LOG
                else f"try_cast(trim({f.column}) AS TIMESTAMPTZ)"
            )
            whens.append(
                f"WHEN {_present(f.column)} AND {parsed} IS NULL "
                f"THEN {_problem('invalid_timestamp', f.key)}"
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


def parsed_sql(source: Source) -> str:
    """`_parsed`: `_records` with contract columns, `_extra` and `problem`."""
    builders = {
        Format.JSON_LINES: _json_lines_parsed,
        Format.CSV: _csv_parsed,
        Format.ACCESS_LOG: _access_log_parsed,
    }
    from_sql, format_whens = builders[source.format](source)
    whens = format_whens + _contract_conditions(source)
    # Keep only what the inserts need: the record's text is kept for quarantine rows only.
    columns = ", ".join(source.column_names())
    return f"""
        CREATE OR REPLACE TEMP TABLE _parsed AS
        SELECT file, line, {columns}, _extra, problem,
               CASE WHEN problem IS NOT NULL THEN _text END AS _text
        FROM (
            SELECT *, CASE {" ".join(whens)} END AS problem
            FROM ({from_sql}) AS candidate
        ) AS checked
    """
