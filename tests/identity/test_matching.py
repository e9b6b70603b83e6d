"""Tests for the fuzzy matcher (identity/matching.py) and its dbt model.

- FEBRL dataset1-3 through the matcher (the accuracy command's own functions): pairwise
  F1 at least the target, 0.995, as a floor.
- Determinism: two runs on fresh connections give identical pairs, probabilities and
  reasons.
- Each fuzzy rule on hand-made records, mixed into a seeded synthetic population so the
  model is trained as in production (u sampled, m by EM): name typo, e-mail variants
  (normalised by staging's own normalize_email macro), phone formats (staging's own
  phone normaliser), swapped names, same / one-typo / different birth date, and a junk
  pair sharing only a common surname. Reasons are asserted as text.
- Small inputs (0, 1, 2 records; no candidate pairs) and the fixed-parameter fallback;
  housekeeping: no Splink table or view left, settings restored, nothing logged.
- int_identity__match_edges itself with a stub `dbt` over an in-memory DuckDB.
"""

from __future__ import annotations

import importlib.util
import logging
import random
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import jinja2
import pytest

from benchmarks.identity_accuracy import (
    FEBRL,
    load_febrl,
    run_febrl,
    score_pairs,
    true_pair_count,
)
from identity import (
    ColumnMapping,
    MatchSettings,
    match_records,
)
from orchestration.settings import PROJECT_ROOT

DBT = PROJECT_ROOT / "dbt_project"
THRESHOLD = MatchSettings().threshold
F1_TARGET = 0.995  # issue, part 7: FEBRL dataset3 pairwise F1 >= 0.995


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- FEBRL ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["dataset1", "dataset2", "dataset3"])
def test_febrl_pairwise_f1_meets_the_target(external: Path, dataset: str) -> None:
    scores = run_febrl(dataset, external / "record_linkage" / f"{dataset}.csv", MatchSettings())
    by_measure = {s.measure: s for s in scores}
    pairs, clusters = by_measure["fuzzy pairs"], by_measure["fuzzy clusters"]
    assert pairs.records == {"dataset1": 1000, "dataset2": 5000, "dataset3": 5000}[dataset]
    assert pairs.true_pairs == {"dataset1": 500, "dataset2": 1934, "dataset3": 6538}[dataset]
    assert pairs.f1 >= F1_TARGET, pairs
    assert clusters.f1 >= F1_TARGET, clusters


def test_metrics_are_pairwise_and_set_based() -> None:
    """Σ n(n-1)/2 true pairs; a predicted pair counts once, right or wrong."""
    con = duckdb.connect()
    con.execute(
        "create table truth as select * from (values "
        "('a', '1'), ('b', '1'), ('c', '1'), ('d', '2'), ('e', '2'), ('f', '3')) "
        "as t(record_id, entity)"
    )
    con.execute(
        "create table pairs as select * from (values ('a', 'b'), ('d', 'e'), ('e', 'f')) "
        "as t(record_id_l, record_id_r)"
    )
    assert true_pair_count(con, "truth") == 3 + 1
    assert score_pairs(con, "pairs", "truth") == (3, 2)


def test_two_runs_give_identical_results(external: Path) -> None:
    runs = []
    for _ in range(2):
        con = duckdb.connect()
        load_febrl(con, external / "record_linkage" / "dataset2.csv", "febrl")
        match_records(con, "febrl", FEBRL, "edges", MatchSettings(), scored_table="scored")
        runs.append(con.sql("select * from scored order by all").fetchall())
        con.close()
    assert len(runs[0]) > 1934  # more candidate pairs than true pairs
    assert runs[0] == runs[1]  # every pair, probability, weight and reason, bit for bit


# --- hand-made records in a trained model -----------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN = _words(
    "James John Robert Michael William David Richard Joseph Thomas Charles Mary Patricia "
    "Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Daniel Matthew Anthony Mark "
    "Donald Steven Paul Andrew Joshua Kenneth Nancy Lisa Betty Margaret Sandra Ashley "
    "Kimberly Emily Donna Michelle Lucas Mateus Gabriel Rafael Ana Julia Beatriz Laura "
    "Giulia Francesca Marco Luca Sofia Pablo Carmen Lucia Javier Diego Elena Paula"
)
SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
    "Carter Roberts Silva Santos Oliveira Souza Rossi Russo Ferrari Esposito Bianchi "
    "Romano Colombo Ricci Marino Greco Fernandez Ruiz Diaz Moreno Alvarez Romero"
)
CITIES = ("London", "Leeds", "Boston", "Austin", "Madrid", "Roma", "Recife", "Perth")


def _person_rows(rng: random.Random, n: int) -> list[tuple]:
    """A seeded population: (record_id, first, last, birth_date, email_raw, email_norm,
    phone_e164, city); about 6 % of people registered twice, written differently."""
    rows: list[tuple] = []
    for i in range(n):
        first = rng.choice(GIVEN)
        last = "Smith" if rng.random() < 0.04 else rng.choice(SURNAMES)
        birth = date(1945, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        birth = birth if rng.random() < 0.85 else None
        email = f"{first}.{last}{i}@example.com".lower() if rng.random() < 0.9 else None
        phone = f"+1617{2000000 + i:07d}" if rng.random() < 0.8 else None
        city = rng.choice(CITIES)
        rows.append((f"bg-{i:05d}", first, last, birth, email, email, phone, city))
        if rng.random() < 0.06:
            kind = rng.choice(("typo", "swap", "plain"))
            f2, l2 = first, last
            if kind == "typo":
                k = rng.randrange(1, len(last) - 1)
                l2 = last[:k] + last[k + 1 :]
            elif kind == "swap":
                f2, l2 = last, first
            rows.append(
                (
                    f"bg-{i:05d}-2",
                    f2,
                    l2,
                    birth if rng.random() < 0.6 else None,
                    email if rng.random() < 0.8 else None,
                    email,
                    phone,
                    city,
                )
            )
    return [
        (rid, f, s, b, e_raw, e_norm if e_raw else None, p, c)
        for rid, f, s, b, e_raw, e_norm, p, c in rows
    ]


def normalize_email_sql(column: str) -> str:
    """Staging's own normalize_email macro (dbt_project/macros), rendered for `column`."""
    macro = (DBT / "macros" / "normalize_email.sql").read_text()
    return jinja2.Template(macro + "{{ normalize_email('" + column + "') }}").render().strip()


def normalize_phone(raw: str, hint: str) -> str:
    """Staging's own phone normaliser (the stg_phones__normalized model's function)."""
    module = load_module(DBT / "models" / "staging" / "phones" / "stg_phones__normalized.py")
    return module.normalize_phone(raw, hint)[0]


# Hand-made records: names that the population never uses. (record_id, first, last,
# birth_date, email as written, phone as written, phone region, city)
HAND_MADE = [
    # name typo: surname one letter short, same birth date and city, no e-mail / phone
    ("typo-1", "Bartholomew", "Quennell", "1962-07-19", None, None, None, "Leeds"),
    ("typo-2", "Bartholomew", "Quenell", "1962-07-19", None, None, None, "Leeds"),
    # e-mail written differently (case, Gmail dots, +tag, googlemail); nothing else shared
    # but the names
    ("mail-1", "Anneliese", "Kowalczyk", None, "Anneliese.Kowalczyk+shop@GoogleMail.com", None,
     None, "Boston"),
    ("mail-2", "Anneliese", "Kowalczyk", None, "annelieseKOWALCZYK@gmail.com", None, None,
     "Austin"),
    # phone in two layouts; names and city shared, no birth date, one e-mail missing
    ("phone-1", "Tobias", "Fenwickshaw", None, None, "(415) 682-3071", "US", "Perth"),
    ("phone-2", "Tobias", "Fenwickshaw", None, "t.fenwickshaw@example.org",
     "+1 415-682-3071", None, "Perth"),
    # swapped given name and surname, accents and case differing
    ("swap-1", "Chidiebube", "Okonkwo-Ásaju", "1979-02-03", None, None, None, "Madrid"),
    ("swap-2", "OKONKWO-ASAJU", "Chidiebube", "1979-02-03", None, None, None, "Madrid"),
    # birth date: same names and city; same date, one typo, a different date
    ("dob-1", "Marguerite", "Ashdownley", "1971-03-14", None, None, None, "Recife"),
    ("dob-2", "Marguerite", "Ashdownley", "1971-03-14", None, None, None, "Recife"),
    ("dob-3", "Marguerite", "Ashdownley", "1971-08-14", None, None, None, "Recife"),
    ("dob-4", "Marguerite", "Ashdownley", "1984-11-29", None, None, None, "Recife"),
    # junk: two different people sharing only a common surname and the city
    ("junk-1", "Aidan", "Smith", "1990-05-01", "aidan.s@example.net", "+16175550101", None,
     "Boston"),
    ("junk-2", "Olivia", "Smith", "1957-12-24", "olivia.s@example.net", "+16175550199",
     None, "Boston"),
]  # fmt: skip


@pytest.fixture(scope="module")
def people() -> duckdb.DuckDBPyConnection:
    """A connection holding `people`: the population plus the hand-made records, with the
    e-mail normalised by staging's macro and the phone by staging's normaliser."""
    con = duckdb.connect()
    rows = _person_rows(random.Random(20261123), 1500)
    con.execute(
        """
        create table people (
            record_id varchar, first_name varchar, last_name varchar, birth_date date,
            email varchar, email_normalized varchar, phone_e164 varchar, city varchar
        )
        """
    )
    con.executemany("insert into people values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany(
        "insert into people values (?, ?, ?, ?, ?, null, ?, ?)",
        [
            (
                rid,
                first,
                last,
                birth,
                email,
                normalize_phone(phone, region) if phone else None,
                city,
            )
            for rid, first, last, birth, email, phone, region, city in HAND_MADE
        ],
    )
    con.execute(
        f"update people set email_normalized = {normalize_email_sql('email')} "
        "where record_id not like 'bg-%'"
    )
    yield con
    con.close()


MAPPING = ColumnMapping(
    record_id="record_id",
    given_name="first_name",
    surname="last_name",
    date_of_birth="birth_date",
    email="email_normalized",
    phone="phone_e164",
    city="city",
)


@pytest.fixture(scope="module")
def scored(people) -> dict[tuple[str, str], tuple[float, str]]:
    """(record_id_l, record_id_r) -> (match_probability, match_reasons) for every scored
    candidate pair, from one trained run; the run's stats are checked too."""
    stats = match_records(people, "people", MAPPING, "edges", scored_table="scored_pairs")
    assert stats.records == people.sql("select count(*) from people").fetchall()[0][0]
    assert stats.trained in ("em", "partial"), stats  # trained as in production
    assert stats.em_rules, stats
    rows = people.sql("select * from scored_pairs").fetchall()
    return {(r[0], r[1]): (r[2], r[4]) for r in rows}


def pair(scored, a: str, b: str) -> tuple[float, str]:
    assert (min(a, b), max(a, b)) in scored, f"{a}–{b} is not a candidate pair"
    return scored[(min(a, b), max(a, b))]


def test_name_typo_matches(scored) -> None:
    probability, reasons = pair(scored, "typo-1", "typo-2")
    assert reasons == (
        "given_name: exact; surname: damerau-levenshtein<=1; date_of_birth: exact; "
        "email: no data; phone: no data; city: exact"
    )
    assert probability >= THRESHOLD


def test_email_variants_compare_on_the_normalised_form(people, scored) -> None:
    normalised = people.sql(
        "select email_normalized from people where record_id in ('mail-1', 'mail-2')"
    ).fetchall()
    assert normalised == [("anneliesekowalczyk@gmail.com",)] * 2  # staging's macro did this
    probability, reasons = pair(scored, "mail-1", "mail-2")
    assert reasons == (
        "given_name: exact; surname: exact; date_of_birth: no data; email: exact; "
        "phone: no data; city: different"
    )
    assert probability >= THRESHOLD


def test_email_as_written_is_not_what_is_compared(people) -> None:
    """Mapped to the column as written, the same two addresses differ (the matcher only
    folds case): the match above is staging's normalisation at work."""
    people.execute(
        "create or replace temp view mail_pair as select * from people "
        "where record_id in ('mail-1', 'mail-2')"
    )
    raw = ColumnMapping(
        record_id="record_id", given_name="first_name", surname="last_name", email="email"
    )
    match_records(people, "mail_pair", raw, "raw_edges", scored_table="raw_scored")
    reasons = people.sql("select match_reasons from raw_scored").fetchall()
    assert reasons == [("given_name: exact; surname: exact; email: different",)]


def test_phone_formats_compare_on_e164(people, scored) -> None:
    phones = people.sql(
        "select phone_e164 from people where record_id in ('phone-1', 'phone-2')"
    ).fetchall()
    assert phones == [("+14156823071",)] * 2  # staging's normaliser did this
    probability, reasons = pair(scored, "phone-1", "phone-2")
    assert reasons == (
        "given_name: exact; surname: exact; date_of_birth: no data; email: no data; "
        "phone: exact; city: exact"
    )
    assert probability >= THRESHOLD


def test_swapped_given_name_and_surname_match(scored) -> None:
    probability, reasons = pair(scored, "swap-1", "swap-2")
    assert reasons == (
        "given_name: swapped with surname; surname: swapped with given_name; "
        "date_of_birth: exact; email: no data; phone: no data; city: exact"
    )
    assert probability >= THRESHOLD


def test_birth_date_same_typo_different(scored) -> None:
    same, same_reasons = pair(scored, "dob-1", "dob-2")
    typo, typo_reasons = pair(scored, "dob-1", "dob-3")  # 19710314 / 19710814
    different, different_reasons = pair(scored, "dob-1", "dob-4")
    assert "date_of_birth: exact" in same_reasons
    assert "date_of_birth: one typo" in typo_reasons
    assert "date_of_birth: different" in different_reasons
    assert same > typo > different
    assert same >= THRESHOLD
    assert different < THRESHOLD


def test_junk_pair_sharing_only_a_common_surname_stays_below(scored) -> None:
    probability, reasons = pair(scored, "junk-1", "junk-2")
    assert reasons == (
        "given_name: different; surname: exact; date_of_birth: different; "
        "email: different; phone: different; city: exact"
    )
    assert probability < 0.01


def test_edges_are_the_scored_pairs_at_the_threshold(people, scored) -> None:
    edges = people.sql("select * from edges").fetchall()
    assert edges == sorted(edges)
    assert all(r[0] < r[1] for r in edges)
    assert {(r[0], r[1]) for r in edges} == {k for k, v in scored.items() if v[0] >= THRESHOLD}
    hand_made = {(r[0], r[1]) for r in edges if not r[0].startswith("bg-")}
    assert hand_made == {
        ("typo-1", "typo-2"),
        ("mail-1", "mail-2"),
        ("phone-1", "phone-2"),
        ("swap-1", "swap-2"),
        ("dob-1", "dob-2"),
        ("dob-1", "dob-3"),  # one birth-date digit off, same names and city: still a match
        ("dob-2", "dob-3"),
    }


# --- small inputs, fallback, housekeeping -----------------------------------------------


def _small(con, rows) -> None:
    con.execute(
        "create or replace table small (record_id varchar, first_name varchar, "
        "last_name varchar, birth_date varchar, email_normalized varchar, "
        "phone_e164 varchar, city varchar)"
    )
    if rows:
        con.executemany("insert into small values (?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_records_give_no_edges(con, n) -> None:
    _small(con, [("r1", "Ann", "Lee", "1980-01-02", None, None, "Leeds")][:n])
    stats = match_records(con, "small", MAPPING, "edges")
    assert (stats.records, stats.candidate_pairs, stats.pairs_above_threshold) == (n, 0, 0)
    assert con.sql("select count(*) from edges").fetchall() == [(0,)]


def test_tiny_input_uses_the_fixed_parameters(con) -> None:
    _small(
        con,
        [
            ("r1", "Anna", "Kowalczyk", "1980-01-02", "anna@example.com", None, "Leeds"),
            ("r2", "Anna", "Kowalczyk", "19800102", None, None, "Leeds"),
            ("r3", "Bob", "Smith", "1970-05-06", "bob@example.com", "+441234567890", "Leeds"),
            ("r4", "Rob", "Smith", "1971-05-06", "rob@example.com", None, "Leeds"),
            ("r5", "Zoe", "Quill", None, None, None, "York"),  # in no candidate pair
        ],
    )
    stats = match_records(con, "small", MAPPING, "edges", scored_table="scored")
    assert stats.trained == "fixed"
    assert stats.records == 5
    assert stats.candidate_pairs == 2
    assert con.sql("select record_id_l, record_id_r, match_reasons from edges").fetchall() == [
        (
            "r1",
            "r2",
            "given_name: exact; surname: exact; date_of_birth: exact; email: no data; "
            "phone: no data; city: exact",
        )
    ]
    (bob_rob,) = con.sql("select match_probability from scored where record_id_l = 'r3'").fetchall()
    assert bob_rob[0] < THRESHOLD


def test_enough_records_but_too_few_em_pairs_keeps_fixed_m(people) -> None:
    stats = match_records(people, "people", MAPPING, "few_em", MatchSettings(min_em_pairs=10**9))
    assert stats.trained == "fixed-m"
    assert stats.em_rules == ()
    assert stats.pairs_above_threshold > 0


def test_duplicate_record_ids_are_refused(con) -> None:
    _small(con, [("r1", "A", "B", None, None, None, None)] * 2)
    with pytest.raises(ValueError, match="not unique"):
        match_records(con, "small", MAPPING, "edges")


def test_no_splink_tables_left_settings_restored_nothing_logged(con, caplog, capsys) -> None:
    _small(
        con,
        [
            (f"r{i}", first, last, f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", None, None, "Leeds")
            for i, (first, last) in enumerate([(g, s) for g in GIVEN[:20] for s in SURNAMES[:15]])
        ],
    )
    con.execute("set threads = 2")
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    caplog.set_level(logging.DEBUG)
    stats = match_records(con, "small", MAPPING, "edges", temporary=True)
    assert stats.trained != "fixed"  # 300 records: trained
    tables = con.sql("select table_name from duckdb_tables() order by 1").fetchall()
    views = con.sql("select view_name from duckdb_views() where not internal").fetchall()
    assert tables == [("edges",), ("small",)]
    assert views == []
    assert con.sql("select current_setting('threads')").fetchall() == [(2,)]
    assert splink_logger.level == level
    assert not [r for r in caplog.records if r.name.startswith("splink")]  # Splink is quiet
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert not [name for name in GIVEN[:20] + SURNAMES[:15] if name in logged]  # no PII


# --- the dbt model ----------------------------------------------------------------------


class _StubConfig:
    """dbt.config(...) and dbt.config.get(...), as a dbt-duckdb Python model sees them."""

    def __init__(self, values: dict[str, str]):
        self._values = values

    def __call__(self, **_: object) -> None:
        return None

    def get(self, key: str) -> str:
        return self._values[key]


def test_dbt_model_writes_crm_id_edges(people) -> None:
    """int_identity__match_edges with a stub `dbt` over an in-memory DuckDB: crm_id keys
    as in int_identity__edges, a < b, first_seen_at when the later record appeared, and
    the session left as it was."""
    model = load_module(
        DBT / "models" / "intermediate" / "identity" / "int_identity__match_edges.py"
    )
    rows = people.sql(
        "select record_id, first_name, last_name, birth_date, email_normalized, phone_e164, "
        "city from people order by record_id"
    ).fetchall()
    session = duckdb.connect()
    session.execute(
        "create table crm (crm_id varchar, first_name varchar, last_name varchar, "
        "birth_date date, email_normalized varchar, phone_e164 varchar, city varchar, "
        "created_at timestamptz, updated_at timestamptz)"
    )
    session.executemany(
        "insert into crm values (?, ?, ?, ?, ?, ?, ?, "
        "timestamptz '2026-01-01 00:00:00+00' + to_days(?), null)",
        [(*row, i) for i, row in enumerate(rows)],
    )
    session.execute("create table blocked (identifier_key varchar)")
    relations = {"stg_crm__customers": "crm", "int_identity__blocked_identifiers": "blocked"}
    dbt = SimpleNamespace(
        config=_StubConfig({"match_threshold": "0.95", "identity_restitch": "incremental"}),
        ref=lambda name: session.sql(f"select * from {relations[name]}"),
    )
    out = duckdb.connect()
    out.register("result", model.model(dbt, session))  # a pyarrow Table
    # The second night, nothing changed: the kept matching, the same table to the last bit.
    out.register("kept", model.model(dbt, session))
    assert out.sql("select * from result except all select * from kept").fetchall() == []
    assert (
        out.sql("select count(*) from kept").fetchall()
        == out.sql("select count(*) from result").fetchall()
    )
    assert session.sql(
        "select mode from identity_state.match_runs order by matched_at"
    ).fetchall() == [("matched",), ("kept",)]
    edges = out.sql(
        "select identifier_key_a, identifier_key_b, identifier_type_a, identifier_type_b, "
        "source, first_seen_at, match_probability from result"
    ).fetchall()
    keys = {(e[0], e[1]) for e in edges}
    assert ("crm_id:typo-1", "crm_id:typo-2") in keys
    assert ("crm_id:swap-1", "crm_id:swap-2") in keys
    assert all(a < b and a.startswith("crm_id:") and b.startswith("crm_id:") for a, b in keys)
    assert {(e[2], e[3], e[4]) for e in edges} == {("crm_id", "crm_id", "crm.fuzzy_match")}
    assert min(e[6] for e in edges) >= 0.95
    index = {row[0]: i for i, row in enumerate(rows)}
    typo = next(e for e in edges if e[0] == "crm_id:typo-1")
    later = max(index["typo-1"], index["typo-2"])
    assert typo[5].date() == date(2026, 1, 1) + timedelta(days=later)
    assert session.sql(
        "select table_name from duckdb_tables() where schema_name <> 'identity_state' order by 1"
    ).fetchall() == [("blocked",), ("crm",)]
    assert session.sql("select view_name from duckdb_views() where not internal").fetchall() == []
