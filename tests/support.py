"""Helpers shared by test modules (import as `tests.support`; fixtures live in conftest.py)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from pathlib import Path


def personal_identifiers(truth_dir: Path, types: set[str] | None = None) -> set[str]:
    """Every personal identifier value the generator wrote: identities.csv, plus the
    devices and cookies shared by a household (truth/junk_identifiers.csv, kind
    shared_device: they belong to two people, and are personal data all the same).
    Placeholders such as 'undefined' or test@test.com are not personal and not included."""
    values: set[str] = set()
    with (truth_dir / "identities.csv").open(newline="") as handle:
        values |= {
            row["identifier_value"]
            for row in csv.DictReader(handle)
            if types is None or row["identifier_type"] in types
        }
    junk = truth_dir / "junk_identifiers.csv"
    if junk.exists():
        with junk.open(newline="") as handle:
            values |= {
                row["identifier_value"]
                for row in csv.DictReader(handle)
                if row["kind"] == "shared_device"
                and (types is None or row["identifier_type"] in types)
            }
    return values


# -- the sample data's personal data, and a scan for it (docs/reliability.md, "Security checks")

# Regions the generator's people live in (sample_data/people.py, COUNTRIES): a phone written
# without its country code is read in each of them, as the models might read it.
PHONE_REGIONS = ("US", "CA", "GB", "AU", "BR", "ES", "IT")


def normalized_email(value: str) -> str | None:
    """The mailbox, as dbt_project/macros/normalize_email.sql computes it: trimmed, lower
    case, '+tag' removed; for gmail.com / googlemail.com the dots of the local part removed
    and the domain gmail.com. None without an '@' after the first character."""
    text = value.strip().lower()
    if text.find("@") < 1:
        return None
    local, _, domain = text.partition("@")
    local = local.split("+")[0]
    if domain.split("@")[0] in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain.split('@')[0]}"


def e164_forms(phone: str) -> set[str]:
    """Every E.164 reading of a phone as written (stg_phones__normalized reads it with the
    record's region hint, which a test does not know: every region of the sample data)."""
    import phonenumbers

    forms = set()
    for region in (None, *PHONE_REGIONS):
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            forms.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return forms


def _landing_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode(errors="replace")


def full_names(landing_dir: Path) -> set[str]:
    """'First Last' of every CRM record and every Segment `traits` object that has a name
    (identify calls, lead forms) in the landing files: the truth has no names."""
    names: set[str] = set()
    for path in sorted((landing_dir / "crm_customers").rglob("*")):
        if path.is_file():
            for row in csv.DictReader(io.StringIO(_landing_text(path), newline="")):
                if None in row or None in row.values():
                    continue  # a malformed record: a field too many or too few
                first, last = row["first_name"].strip(), row["last_name"].strip()
                if first and last:
                    names.add(f"{first} {last}")
    for path in sorted((landing_dir / "events").rglob("*")):
        if not path.is_file():
            continue
        for line in _landing_text(path).splitlines():
            if '"traits"' not in line:
                continue
            try:
                traits = json.loads(line).get("traits")
            except (ValueError, AttributeError):
                continue
            if isinstance(traits, dict):
                if isinstance(traits.get("name"), str) and " " in traits["name"].strip():
                    names.add(traits["name"].strip())
                first, last = traits.get("first_name"), traits.get("last_name")
                if isinstance(first, str) and isinstance(last, str) and first and last:
                    names.add(f"{first.strip()} {last.strip()}")
    return names


def sample_pii(truth_dir: Path, landing_dir: Path) -> dict[str, set[str]]:
    """The sample data's personal data by kind, in lower case, in every form a pipeline
    might publish it in:

    * email: every address as written in the landing files (the truth lists every written
      variant), and its normalised mailbox (normalize_email);
    * phone: every phone as written (E.164, national, with spaces, dashes, parentheses)
      and its E.164 readings;
    * name: every full name (`full_names`);
    * identifier: every other personal identifier of the truth (user and CRM ids, cookies,
      device ids, social handles) of six characters or more.
    Placeholders shared by many people (test@test.com, +15555550100) are not personal and
    are not in it (`personal_identifiers`)."""
    emails = personal_identifiers(truth_dir, {"email"})
    phones = personal_identifiers(truth_dir, {"phone"})
    others = personal_identifiers(
        truth_dir, {"user_id", "crm_id", "anonymous_id", "device_id", "social_handle"}
    )
    pii = {
        "email": emails | {n for e in emails if (n := normalized_email(e))},
        "phone": phones | {form for p in phones for form in e164_forms(p)},
        "name": full_names(landing_dir),
        "identifier": {v for v in others if len(v) >= 6},
    }
    return {kind: {v.lower() for v in values} for kind, values in pii.items()}


def pii_leaks(texts: Mapping[str, str], pii: Mapping[str, set[str]]) -> list[str]:
    """'<where>: <kind> <value>' for every value of `pii` that occurs in one of `texts`
    (where → text), case-insensitively, as a substring."""
    leaks = []
    for where, text in texts.items():
        lowered = text.lower()
        leaks += [
            f"{where}: {kind} {value}"
            for kind, values in pii.items()
            for value in sorted(values)
            if value in lowered
        ]
    return leaks


def column_texts(
    con, schemas: tuple[str, ...] | None = None, table: str | None = None
) -> dict[str, str]:
    """'schema.table.column' → every value of the column cast to text, one a line, for
    every column of every table and view in `schemas` (all schemas when None), or of the
    tables named `table` in them."""
    columns = con.execute(
        "SELECT table_schema, table_name, list(column_name ORDER BY ordinal_position) "
        "FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND ($schemas IS NULL OR list_contains($schemas, table_schema)) "
        "AND ($table IS NULL OR table_name = $table) GROUP BY ALL ORDER BY ALL",
        {"schemas": None if schemas is None else list(schemas), "table": table},
    ).fetchall()
    texts = {}
    for schema, name, names in columns:  # one query a table
        aggregates = ", ".join(
            f"coalesce(string_agg(CAST(\"{c}\" AS VARCHAR), chr(10)), '')" for c in names
        )
        (values,) = con.execute(f'SELECT {aggregates} FROM "{schema}"."{name}"').fetchall()
        texts |= {f"{schema}.{name}.{c}": v for c, v in zip(names, values, strict=True)}
    return texts
