"""Fuzzy matching of person records: scored pairs from Splink, clusters from our own code.

`match_records(con, input_table, mapping, out_table)` scores pairs of person records that
may share no exact identifier (name typos, swapped given name / surname, e-mail and phone
written differently, birth-date typos) and writes one row per pair whose match probability
reaches the threshold, with the reasons. It is one generic matcher: a `ColumnMapping` says
which column of the input plays which role (record id, given name, surname, date of birth,
e-mail, phone, national id, address, postcode, city); absent roles are None. The nightly
dbt model (int_identity__match_edges, CRM customers), the accuracy command
(benchmarks/identity_accuracy.py: generator data and the FEBRL datasets) and the tests all
run this same code.

Who does what:

- **Splink 5** (DuckDB backend) scores pairs: Fellegi-Sunter comparisons built from the
  mapped roles with Splink's comparison-level library, u-probabilities by seeded random
  sampling, m-probabilities by expectation maximisation on blocking rules, predictions on
  the blocked candidate pairs.
- **This module** prepares the input (one canonical, normalised column per role), derives
  the blocking rules and comparisons from the mapping, keeps Splink's tables out of the
  caller's way (connection-local temporary tables, dropped at the end), keeps Splink's
  logging quiet (no record values are ever logged), and writes the edges with readable
  reasons derived from Splink's gamma (comparison level) columns.
- **Clustering** is not Splink's: the edges go to `connected_components`
  (identity/components.py), the same code the nightly stitcher runs.

Everything runs on the DuckDB connection it is given (in dbt: the Python model's
`session`). The result is identical run to run, to the last bit: u-sampling has a fixed
seed (Splink samples by a hash of the record id and the seed), EM runs on one DuckDB
thread (its floating-point sums then add up in a fixed order), prediction is per pair, and
the output is ordered. docs/identity.md ("Fuzzy matching") has the long form.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from .phases import PhaseClock

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")

# The roles a mapping may fill, in the order the reasons list them.
ROLES = (
    "given_name",
    "surname",
    "date_of_birth",
    "email",
    "phone",
    "national_id",
    "street_number",
    "address",
    "postcode",
    "city",
)

_PREFIX = "_idm_"  # the matcher's own temporary tables / views


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column plays which role (a column name, or None when absent).

    - `record_id`: unique per record (cast to text).
    - `given_name`, `surname`: compared lower-cased, accents stripped, spaces collapsed.
    - `date_of_birth`: a DATE / TIMESTAMP, or text in year-month-day order (``1956-04-09``,
      ``19560409``); compared on its 8 digits, so a typo that makes an impossible date is
      still a typo.
    - `email`, `phone`: the *normalised* forms (staging's email_normalized, phone_e164),
      compared exactly; only trimmed and lower-cased here.
    - `national_id`, `street_number`, `address`, `postcode`, `city`: text, trimmed and
      lower-cased.
    """

    record_id: str
    given_name: str | None = None
    surname: str | None = None
    date_of_birth: str | None = None
    email: str | None = None
    phone: str | None = None
    national_id: str | None = None
    street_number: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None

    def roles(self) -> tuple[str, ...]:
        """The mapped roles, in reason order."""
        return tuple(role for role in ROLES if getattr(self, role) is not None)


# CRM customer records (staging.stg_crm__customers) as the nightly job matches them
# (int_identity__match_edges) and the accuracy command scores them.
CRM_CUSTOMERS = ColumnMapping(
    record_id="crm_id",
    given_name="first_name",
    surname="last_name",
    date_of_birth="birth_date",
    email="email_normalized",
    phone="phone_e164",
    city="city",
)


@dataclass(frozen=True)
class MatchSettings:
    """How the matcher trains and where it cuts.

    - `threshold`: pairs with match_probability >= threshold are written (the dbt var
      `identity_match_threshold`).
    - `seed`: the u-sampling seed (fixed, so runs are identical).
    - `u_max_pairs`: random pairs sampled for the u-probabilities.
    - `min_training_records`: below this many records nothing is trained; the documented
      fixed m- and u-probabilities (`FIXED_PARAMETERS`) and `fixed_prior` are used.
    - `min_em_pairs`: an EM blocking rule that gives fewer candidate pairs is skipped; the
      comparisons it would have trained keep their fixed m-probabilities.
    - `prior_recall`: assumed recall of the deterministic rules (shared national id /
      e-mail / phone, or same names and birth date) used to estimate the prior
      probability that two random records match.
    - `fixed_prior`: that prior when it is not estimated.
    """

    threshold: float = 0.95
    seed: int = 42
    u_max_pairs: float = 1e6
    min_training_records: int = 200
    min_em_pairs: int = 200
    em_max_iterations: int = 25
    em_convergence: float = 1e-4
    prior_recall: float = 0.7
    fixed_prior: float = 1e-4


@dataclass(frozen=True)
class MatchStats:
    """What one matching run did."""

    records: int
    candidate_pairs: int  # pairs the blocking rules generated (all scored)
    pairs_above_threshold: int
    seconds: float
    # how the model was trained: "em" (u sampled, every m by EM), "partial" (some m kept
    # their fixed values), "fixed-m" (u sampled, no EM rule had enough pairs), "fixed"
    # (fewer than min_training_records: the documented fixed parameters throughout)
    trained: str
    em_rules: tuple[str, ...] = ()  # EM blocking rules that ran
    blocking_rules: tuple[str, ...] = ()
    prior: float = 0.0  # probability two random records match, as used
    # levels training saw no example of, scored with their fixed m / u ("<role>: <level> (m)")
    fixed_levels: tuple[str, ...] = ()
    phase_seconds: dict[str, float] = field(default_factory=dict)


# --- comparisons ------------------------------------------------------------------------
#
# Each role's comparison is a list of levels, most specific first: (label, SQL condition on
# the _l / _r columns, fixed m, fixed u). The label is what the reasons show; the fixed
# probabilities are used when there is too little data to train (documented in
# docs/identity.md). A null on either side is the "no data" level (no evidence either way).

# damerau_levenshtein is DuckDB's slowest string function (about 5x levenshtein): the
# cheaper levenshtein <= 2k is implied by damerau-levenshtein <= k (a transposition is two
# levenshtein edits) and rules most pairs out first (DuckDB evaluates AND in a CASE
# condition on the rows the left side kept). Same result, about 3x faster.
_DL1 = "levenshtein({c}_l, {c}_r) <= 2 and damerau_levenshtein({c}_l, {c}_r) <= 1"
_DL2 = "levenshtein({c}_l, {c}_r) <= 4 and damerau_levenshtein({c}_l, {c}_r) <= 2"
_NAME_LEVELS = (
    # (label, condition template, fixed m, fixed u); {c} the role's column, {o} the other
    # name column (for the swapped level).
    ("exact", "{c}_l = {c}_r", 0.85, 0.008),
    # given name and surname crossed over (each within one typo of the other's)
    (
        "swapped with {other}",
        "abs(length({c}_l) - length({o}_r)) <= 1 and abs(length({o}_l) - length({c}_r)) <= 1 "
        "and damerau_levenshtein({c}_l, {o}_r) <= 1 and damerau_levenshtein({o}_l, {c}_r) <= 1",
        0.02,
        0.00001,
    ),
    ("damerau-levenshtein<=1", _DL1, 0.06, 0.003),
    ("jaro-winkler>=0.92", "jaro_winkler_similarity({c}_l, {c}_r) >= 0.92", 0.03, 0.01),
    ("jaro-winkler>=0.80", "jaro_winkler_similarity({c}_l, {c}_r) >= 0.80", 0.02, 0.05),
)
_DOB_LEVELS = (
    ("exact", "{c}_l = {c}_r", 0.88, 0.0001),
    ("one typo", _DL1, 0.05, 0.003),
    (
        "within a year",
        "abs(datediff('day', try_strptime({c}_l, '%Y%m%d'), try_strptime({c}_r, '%Y%m%d'))) <= 366",
        0.03,
        0.02,
    ),
)
_EXACT_ONLY = (("exact", "{c}_l = {c}_r", 0.92, 0.0001),)
_ID_LEVELS = (
    ("exact", "{c}_l = {c}_r", 0.88, 0.00001),
    ("damerau-levenshtein<=1", _DL1, 0.05, 0.0001),
    ("damerau-levenshtein<=2", _DL2, 0.02, 0.001),
)
_STREET_NUMBER_LEVELS = (("exact", "{c}_l = {c}_r", 0.85, 0.02),)
_TEXT_LEVELS = (
    ("exact", "{c}_l = {c}_r", 0.85, 0.005),
    ("jaro-winkler>=0.90", "jaro_winkler_similarity({c}_l, {c}_r) >= 0.90", 0.08, 0.01),
)
_POSTCODE_LEVELS = (
    ("exact", "{c}_l = {c}_r", 0.85, 0.002),
    ("damerau-levenshtein<=1", _DL1, 0.07, 0.02),
)
_CITY_LEVELS = (
    ("exact", "{c}_l = {c}_r", 0.85, 0.05),
    ("jaro-winkler>=0.90", "jaro_winkler_similarity({c}_l, {c}_r) >= 0.90", 0.05, 0.01),
)
_LEVELS = {
    "given_name": _NAME_LEVELS,
    "surname": _NAME_LEVELS,
    "date_of_birth": _DOB_LEVELS,
    "email": _EXACT_ONLY,
    "phone": _EXACT_ONLY,
    "national_id": _ID_LEVELS,
    "street_number": _STREET_NUMBER_LEVELS,
    "address": _TEXT_LEVELS,
    "postcode": _POSTCODE_LEVELS,
    "city": _CITY_LEVELS,
}
NO_DATA, DIFFERENT = "no data", "different"


def _levels_for(role: str, roles: tuple[str, ...]) -> list[tuple[str, str, float, float]]:
    """The role's non-null levels (label, SQL, fixed m, fixed u), the else level last."""
    other = {"given_name": "surname", "surname": "given_name"}.get(role)
    out = []
    for label, sql, m, u in _LEVELS[role]:
        if "{o}" in sql and other not in roles:
            continue  # swapped names need both name roles
        out.append((label.format(other=other), sql.format(c=role, o=other), m, u))
    m_rest = 1.0 - sum(level[2] for level in out)
    u_rest = 1.0 - sum(level[3] for level in out)
    out.append((DIFFERENT, "ELSE", m_rest, u_rest))
    return out


# Documented fixed parameters (docs/identity.md, "Training"): role -> [(label, m, u)].
FIXED_PARAMETERS = {
    role: [(label, m, u) for label, _, m, u in _levels_for(role, ROLES)] for role in ROLES
}


def _comparison(role: str, roles: tuple[str, ...]) -> Any:
    from splink import comparison_level_library as cll
    from splink.comparison_library import CustomComparison

    levels: list[Any] = [cll.NullLevel(role).configure(label_for_charts=NO_DATA)]
    for label, sql, m, u in _levels_for(role, roles):
        level = cll.ElseLevel() if sql == "ELSE" else cll.CustomLevel(sql)
        levels.append(level.configure(label_for_charts=label, m_probability=m, u_probability=u))
    return CustomComparison(levels, output_column_name=role, comparison_description=role)


# --- blocking ---------------------------------------------------------------------------
#
# Candidate pairs share at least one of these (only rules whose roles are all mapped are
# used). Each is an equality join, so DuckDB hashes it; none is a single common value
# (a name alone, a city alone) that would make a block quadratic in the data.

_BLOCKING = (
    ("national_id",),
    ("email",),
    ("phone",),
    ("date_of_birth",),
    ("given_name", "surname"),
    ("given_name~surname",),  # swapped: l.given_name = r.surname and l.surname = r.given_name
    ("surname", "postcode"),
    ("given_name", "postcode"),
    ("surname", "city"),
    ("given_name", "city"),
    ("address", "postcode"),
    ("street_number", "postcode"),
)
# Rules EM is trained on, in order: each trains every comparison not in the rule.
_EM_BLOCKING = (
    ("date_of_birth",),
    ("given_name", "surname"),
    ("national_id",),
    ("email",),
    ("phone",),
    ("postcode",),
)
# Deterministic rules for the prior (probability two random records match).
_PRIOR_RULES = (
    ("national_id",),
    ("email",),
    ("phone",),
    ("given_name", "surname", "date_of_birth"),
)


def _rule_sql(rule: tuple[str, ...]) -> str:
    if rule == ("given_name~surname",):
        return "l.given_name = r.surname and l.surname = r.given_name"
    return " and ".join(f"l.{role} = r.{role}" for role in rule)


def _rule_roles(rule: tuple[str, ...]) -> set[str]:
    if rule == ("given_name~surname",):
        return {"given_name", "surname"}
    return set(rule)


def _rules(candidates: tuple[tuple[str, ...], ...], roles: tuple[str, ...]) -> list[str]:
    return [_rule_sql(rule) for rule in candidates if _rule_roles(rule) <= set(roles)]


# --- input ------------------------------------------------------------------------------


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def _text(expr: str) -> str:
    return f"nullif(lower(trim(cast({expr} as varchar))), '')"


def _role_sql(role: str, column: str, column_type: str) -> str:
    c = f'"{column}"'
    if role in ("given_name", "surname"):
        # lower case, accents stripped, runs of spaces / hyphens / apostrophes as one space
        return (
            "nullif(trim(regexp_replace(strip_accents(lower(cast("
            f"{c} as varchar))), '[\\s\\-''.]+', ' ', 'g')), '')"
        )
    if role == "date_of_birth":
        if column_type.upper().startswith(("DATE", "TIMESTAMP")):
            return f"strftime(cast({c} as date), '%Y%m%d')"
        digits = f"regexp_replace(cast({c} as varchar), '[^0-9]', '', 'g')"
        return f"case when length({digits}) = 8 then {digits} end"
    if role == "phone":
        return f"nullif(regexp_replace(cast({c} as varchar), '\\s', '', 'g'), '')"
    return _text(c)


# --- plumbing ---------------------------------------------------------------------------


def _scalar(con: Any, sql: str) -> Any:
    # fetchall(): DuckDB 2.0 refuses new queries while a result is unfinished.
    return con.execute(sql).fetchall()[0][0]


@contextlib.contextmanager
def _quiet(con: Any) -> Iterator[None]:
    """For the duration of a run: Splink's logger at ERROR (its INFO / WARNING lines
    describe training; they carry no record values, but the caller's log stays clean),
    its Python warnings silenced, and DuckDB's progress bar off (Splink's training
    queries can take seconds and would draw it on stdout; the setting is database-wide).
    All restored after."""
    splink_logger = logging.getLogger("splink")
    level, propagate = splink_logger.level, splink_logger.propagate
    progress_bar = _scalar(con, "select current_setting('enable_progress_bar')")
    splink_logger.setLevel(logging.ERROR)
    con.execute("set enable_progress_bar = false")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        splink_logger.setLevel(level)
        splink_logger.propagate = propagate
        con.execute(f"set enable_progress_bar = {'true' if progress_bar else 'false'}")


@contextlib.contextmanager
def _single_thread(con: Any) -> Iterator[None]:
    """DuckDB on one thread for the duration (restored after).

    EM sums floating-point match probabilities over the training pairs; with several
    threads the partial sums meet in a different order from run to run and the trained
    m-probabilities differ in the last bits, and so would every match probability. On
    one thread the order is fixed and the model is identical run to run. (EM runs on the
    blocked training pairs only, a small table; u-sampling counts integers and keeps all
    threads.) `threads` is a DuckDB-wide setting: while EM runs (a second or so), other
    queries on the same database get one thread too.
    """
    threads = _scalar(con, "select current_setting('threads')")
    con.execute("set threads = 1")
    try:
        yield
    finally:
        con.execute(f"set threads = {int(threads)}")


def duckdb_connection(con: Any) -> Any:
    """The DuckDBPyConnection behind `con`.

    dbt-duckdb hands a Python model's `session` over as a cursor wrapper (and, with query
    retries configured, a retrying wrapper around that), each holding the cursor it
    forwards to in `_cursor`; Splink accepts only a DuckDBPyConnection. The wrapped cursor
    is the same connection, so temporary tables are shared either way.
    """
    import duckdb

    seen = 0
    while not isinstance(con, duckdb.DuckDBPyConnection):
        inner = getattr(con, "_cursor", None)
        if inner is None or seen > 5:
            raise TypeError(f"not a DuckDB connection: {type(con).__name__}")
        con, seen = inner, seen + 1
    return con


def _db_api(con: Any) -> Any:
    """Splink's DuckDB API on `con`, writing every table it makes as a TEMP table.

    Temporary tables are connection-local and never reach the caller's database file;
    they are dropped at the end of the run as well.
    """
    from splink.internals.duckdb.database_api import DuckDBAPI

    class _TempTableDuckDBAPI(DuckDBAPI):
        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            self.delete_table_from_database(physical_name)
            return f"CREATE TEMP TABLE {physical_name} AS\n{sql}"

    return _TempTableDuckDBAPI(duckdb_connection(con))


def _write_empty(con: Any, out_table: str, temporary: bool) -> None:
    temp = "temp " if temporary else ""
    con.execute(
        f"""
        create or replace {temp}table {out_table} (
            record_id_l varchar, record_id_r varchar, match_probability double,
            match_weight double, match_reasons varchar
        )
        """
    )


def _reasons_sql(model: dict[str, Any]) -> str:
    """SQL for `match_reasons` from the gamma columns: '<role>: <level label>; …'."""
    parts = []
    for comparison in model["comparisons"]:
        role = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        # Splink numbers the non-null levels from n-1 (first) down to 0 (else); null = -1.
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        whens = [f"when -1 then '{role}: {NO_DATA}'"]
        for i, level in enumerate(non_null):
            whens.append(f"when {len(non_null) - 1 - i} then '{role}: {level['label_for_charts']}'")
        parts.append(f"case gamma_{role} {' '.join(whens)} end")
    return "concat_ws('; ', " + ", ".join(parts) + ")"


def _fill_unobserved(model: dict[str, Any], roles: tuple[str, ...]) -> list[str]:
    """Levels whose m (or u) training saw no example get the documented fixed value.

    Splink keeps such a level as "not observed" and scores it with 1e-6, which would make
    e.g. swapped names (rare, so often absent from an EM sample) count *against* a match.
    Returns "<role>: <level>" for every level filled in.
    """
    filled = []
    for comparison in model["comparisons"]:
        role = comparison["output_column_name"]
        fixed = {label: (m, u) for label, _, m, u in _levels_for(role, roles)}
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = fixed[level["label_for_charts"]]
            for key, value in (("m_probability", m), ("u_probability", u)):
                if not isinstance(level.get(key), float):
                    level[key] = value
                    filled.append(f"{role}: {level['label_for_charts']} ({key[0]})")
    return filled


# --- the matcher ------------------------------------------------------------------------


def match_records(
    con: Any,
    input_table: str,
    mapping: ColumnMapping,
    out_table: str,
    settings: MatchSettings | None = None,
    *,
    temporary: bool = False,
    scored_table: str | None = None,
) -> MatchStats:
    """Score pairs of `input_table`'s records; write `out_table`, one row per pair whose
    match_probability >= settings.threshold:

    ``record_id_l < record_id_r, match_probability, match_weight, match_reasons``

    match_reasons names every compared role and the level it reached, in role order, e.g.
    ``given_name: exact; surname: damerau-levenshtein<=1; date_of_birth: no data;
    email: exact; phone: different``.

    - `temporary`: write `out_table` (and `scored_table`) as temporary tables.
    - `scored_table`: also keep every scored candidate pair there (all thresholds: for
      tuning and for the accuracy command).

    Returns MatchStats. Fewer than 2 records give an empty table; fewer than
    `settings.min_training_records` are scored with the fixed parameters.
    """
    settings = settings or MatchSettings()
    if not 0.0 < settings.threshold <= 1.0:
        raise ValueError(f"threshold must be a probability in (0, 1], not {settings.threshold}")
    clock = PhaseClock(digits=3)

    input_table, out_table = _ident(input_table), _ident(out_table)
    if scored_table is not None:
        scored_table = _ident(scored_table)
    roles = mapping.roles()
    if not roles:
        raise ValueError("the column mapping maps no comparable role")
    for f in fields(mapping):
        value = getattr(mapping, f.name)
        if value is not None:
            _ident(value)

    # 1. Canonical input: one normalised column per mapped role, unique text record ids.
    types = dict(
        con.execute(f"select column_name, column_type from (describe {input_table})").fetchall()
    )
    for f in fields(mapping):
        column = getattr(mapping, f.name)
        if column is not None and column not in types:
            raise ValueError(f"{input_table} has no column {column!r} (role {f.name})")
    select = [f'cast("{mapping.record_id}" as varchar) as unique_id'] + [
        f"{_role_sql(role, getattr(mapping, role), types[getattr(mapping, role)])} as {role}"
        for role in roles
    ]
    inp = f"{_PREFIX}input"
    con.execute(
        f"""
        create or replace temp table {inp} as
        select {", ".join(select)} from {input_table}
        where "{mapping.record_id}" is not null
        """
    )
    records, distinct = con.execute(
        f"select count(*), count(distinct unique_id) from {inp}"
    ).fetchall()[0]
    if records != distinct:
        con.execute(f"drop table {inp}")
        raise ValueError(f"{input_table}.{mapping.record_id} is not unique")
    clock.lap("input")

    blocking = _rules(_BLOCKING, roles)
    if records < 2 or not blocking:
        _write_empty(con, out_table, temporary)
        if scored_table:
            _write_empty(con, scored_table, temporary)
        con.execute(f"drop table {inp}")
        return MatchStats(
            records=records,
            candidate_pairs=0,
            pairs_above_threshold=0,
            seconds=clock.total(),
            trained="fixed",
            blocking_rules=tuple(blocking),
            phase_seconds=clock.seconds,
        )

    from splink import Linker, SettingsCreator

    comparisons = [_comparison(role, roles) for role in roles]
    settings_creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        probability_two_random_records_match=settings.fixed_prior,
        em_convergence=settings.em_convergence,
        max_iterations=settings.em_max_iterations,
        retain_matching_columns=True,  # keeps the gamma columns, for the reasons
        retain_intermediate_calculation_columns=False,
    )
    db_api = _db_api(con)
    em_ran: list[str] = []
    trained = "fixed"
    scored = f"{_PREFIX}scored"
    try:
        with _quiet(con):
            linker = Linker(
                db_api.register(inp, table_name=f"{_PREFIX}train"), settings_creator, log_level=None
            )
            prior = None
            if records >= settings.min_training_records:
                trained, prior, em_ran = _train(linker, con, records, roles, settings)
            model = linker.misc.save_model_to_json()
            filled = _fill_unobserved(model, roles)
            prior = prior or settings.fixed_prior
            model["probability_two_random_records_match"] = prior
            clock.lap("train")
            # Predict with the trained (and filled-in) model.
            linker = Linker(
                db_api.register(inp, table_name=f"{_PREFIX}predict"), model, log_level=None
            )
            predictions = linker.inference.predict(warning_mode="never")
            clock.lap("predict")
            con.execute(
                f"""
                create or replace temp table {scored} as
                select
                    least(unique_id_l, unique_id_r) as record_id_l,
                    greatest(unique_id_l, unique_id_r) as record_id_r,
                    match_probability,
                    match_weight,
                    {_reasons_sql(model)} as match_reasons
                from {predictions.physical_name}
                """
            )
    finally:
        db_api.delete_tables_created_by_splink_from_db()
        con.execute(f"drop table if exists {inp}")

    candidate_pairs = _scalar(con, f"select count(*) from {scored}")
    temp = "temp " if temporary else ""
    con.execute(
        f"""
        create or replace {temp}table {out_table} as
        select * from {scored}
        where match_probability >= {settings.threshold!r}
        order by record_id_l, record_id_r
        """
    )
    if scored_table:
        con.execute(
            f"""
            create or replace {temp}table {scored_table} as
            select * from {scored} order by record_id_l, record_id_r
            """
        )
    con.execute(f"drop table {scored}")
    above = _scalar(con, f"select count(*) from {out_table}")
    clock.lap("write")
    return MatchStats(
        records=records,
        candidate_pairs=candidate_pairs,
        pairs_above_threshold=above,
        seconds=clock.total(),
        trained=trained,
        em_rules=tuple(em_ran),
        blocking_rules=tuple(blocking),
        prior=prior,
        fixed_levels=tuple(filled),
        phase_seconds=clock.seconds,
    )


def _train(
    linker: Any, con: Any, records: int, roles: tuple[str, ...], settings: MatchSettings
) -> tuple[str, float | None, list[str]]:
    """u by seeded random sampling, m by EM on the blocking rules that give enough pairs,
    the prior from deterministic rules. Returns (how m was trained: "em" when every
    comparison's m came from EM, "partial" when some kept their fixed m, "fixed-m" when
    no EM rule had enough pairs; the prior, None when it could not be estimated; the EM
    rules that ran)."""
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=settings.seed, num_chunks=1
    )
    em_ran: list[str] = []
    untrained = set(roles)
    for rule in _EM_BLOCKING:
        if not _rule_roles(rule) <= set(roles):
            continue
        trains = set(roles) - _rule_roles(rule)
        if not trains & untrained:
            continue
        sql = _rule_sql(rule)
        if _count_pairs(con, [sql]) < settings.min_em_pairs:
            continue
        with _single_thread(con):
            linker.training.estimate_parameters_using_expectation_maximisation(sql)
        em_ran.append(sql)
        untrained -= trains
        if not untrained:
            break
    trained = "fixed-m" if untrained == set(roles) else "partial" if untrained else "em"
    return trained, _estimate_prior(con, records, roles, settings), em_ran


def _estimate_prior(
    con: Any, records: int, roles: tuple[str, ...], settings: MatchSettings
) -> float | None:
    """Probability that two random records match: the pairs the deterministic rules
    (shared national id, e-mail or phone; same names and birth date) find, over their
    assumed recall, over all n(n-1)/2 pairs. Splink's own estimator does the same count
    but leaves a view behind on the connection; this is one set-based query. None when
    the rules find nothing (or more than the recall allows)."""
    rules = _rules(_PRIOR_RULES, roles)
    if not rules:
        return None
    found = _count_pairs(con, rules)
    prior = found / settings.prior_recall / (records * (records - 1) / 2)
    return prior if 0.0 < prior < 1.0 else None


def _count_pairs(con: Any, rules: list[str]) -> int:
    """Distinct pairs (l < r) of the matcher's input that any of `rules` gives."""
    union = "\n            union\n".join(
        f"""select l.unique_id as id_l, r.unique_id as id_r
            from {_PREFIX}input as l
            join {_PREFIX}input as r on ({rule}) and l.unique_id < r.unique_id"""
        for rule in rules
    )
    return _scalar(con, f"select count(*) from ({union})")
