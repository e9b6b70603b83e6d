"""One row per distinct (phone as written, region hint): the number in E.164.

Google's libphonenumber rules through the `phonenumbers` package, applied once per
distinct pair (stg_phones__candidates), never row by row. Staging models join on
(phone_raw, country_hint) — see macros/phones.sql.

Incremental: a pair's reading depends on the pair alone (and the library's metadata), so
a pair is parsed once, the first night it is a candidate; later nights parse only the new
pairs and append them. Pairs that are no longer candidates (their only record withdrawn,
erased, held) are deleted before, by the pre-hook `phones_delete_stale_pairs`, so the table
equals a full rebuild. Rows parsed by another `phonenumbers` version stop the build: a new
library version may read a number differently, and only `dbt build --full-refresh` reads
every pair again with it.

Rules: a number written with '+' (or the international prefix '00') parses without a hint;
otherwise the hint (an ISO 3166-1 alpha-2 region: the CRM country, the locale's region, the
jurisdiction's country) says which national plan to read it with. The first reading that
is a valid number wins, else the first that is at least possible (right length);
`phone_e164` is NULL when neither. `is_valid` says whether the number exists in the plan
(area code, ranges); fictional 555 numbers are possible but not valid.
"""

import json

import phonenumbers

NUMBER_TYPES = {
    value: name.lower()
    for name, value in vars(phonenumbers.PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


def readings(phone_raw, country_hint):
    """(text, region) pairs to try, in order."""
    text = (phone_raw or "").strip()
    if not text:
        return []
    region = (country_hint or "").strip().upper() or None
    if region is not None and len(region) != 2:
        region = None
    out = []
    if text.startswith("+"):
        out.append((text, None))
    else:
        if region is not None:
            out.append((text, region))
        digits = text.lstrip("(").lstrip()
        if digits.startswith("00"):
            out.append(("+" + digits[2:], None))
    return out


def normalize_phone(phone_raw, country_hint):
    """(phone_e164, is_possible, is_valid, phone_region, number_type) for one pair."""
    possible = None
    for text, region in readings(phone_raw, country_hint):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                True,
                True,
                phonenumbers.region_code_for_number(number),
                NUMBER_TYPES.get(phonenumbers.number_type(number), "unknown"),
            )
        if possible is None and phonenumbers.is_possible_number(number):
            possible = number
    if possible is not None:
        return (
            phonenumbers.format_number(possible, phonenumbers.PhoneNumberFormat.E164),
            True,
            False,
            None,
            None,
        )
    return (None, False, False, None, None)


COLUMNS = [  # (name, type), in the order normalize_phone's rows hold them
    ("phone_raw", "varchar"),
    ("country_hint", "varchar"),
    ("phone_e164", "varchar"),
    ("is_possible", "boolean"),
    ("is_valid", "boolean"),
    ("phone_region", "varchar"),
    ("number_type", "varchar"),
]
NAMES = [name for name, _ in COLUMNS]
NORMALIZED_BY = f"phonenumbers {phonenumbers.__version__}"


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    candidates = dbt.ref("stg_phones__candidates")
    if dbt.is_incremental:
        others = session.sql(
            f"select distinct normalized_by from {dbt.this} "
            f"where normalized_by <> '{NORMALIZED_BY}'"
        ).fetchall()
        if others:
            raise RuntimeError(
                f"{dbt.this} holds numbers parsed by {others[0][0]}, this is {NORMALIZED_BY}: "
                "rebuild it with `dbt build --full-refresh --select stg_phones__normalized+`"
            )
        candidates.create_view("_phones_candidates", replace=True)
        # Only the pairs without a row: the others were parsed on an earlier night.
        candidates = session.sql(
            f"""
            select candidates.phone_raw, candidates.country_hint
            from _phones_candidates as candidates
            where not exists (
                select 1
                from {dbt.this} as parsed
                where parsed.phone_raw = candidates.phone_raw
                    and parsed.country_hint is not distinct from candidates.country_hint
            )
            """
        )
    pairs = candidates.fetchall()
    rows = [(raw, hint, *normalize_phone(raw, hint)) for raw, hint in pairs]
    # The rows reach DuckDB as one JSON literal: neither pandas nor a bound parameter
    # (DuckDB imports pandas for its first binding), whose import alone cost this model
    # more than parsing every new pair of a night.
    records = json.dumps([dict(zip(NAMES, row, strict=True)) for row in rows])
    structure = json.dumps([{name: kind for name, kind in COLUMNS}])
    session.execute(
        "create or replace temp table _phones_normalized as select unnest(from_json("
        f"{sql_literal(records)}, {sql_literal(structure)}), recursive := true)"
    )
    return session.sql(
        f"""
        select *, '{NORMALIZED_BY}' as normalized_by
        from _phones_normalized
        """
    )
