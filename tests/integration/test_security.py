"""Security checks on what the nightly job publishes and logs (docs/reliability.md,
"Security checks"; issue 18, item 7).

All on the session's built warehouse (`build`, tests/integration/conftest.py: the one
test_pipeline.py inspects). The sample data's personal data (`sample_pii`, tests/support.py:
e-mails and phones as written in the landing files and as the models normalise them, full
names, every other personal identifier) must not appear in

* any column of any table or view of the `marts` schema (every column, cast to text);
* any Dagster event of any run on the fixture's instance (messages and metadata);
* dbt.log and run_results.json of the run's dbt build;
* any file the repository tracks (test snapshots, fixtures, docs).

The same scan covers `cdw run`'s output (test_pipeline.py) and Data Docs and the gate's
results (tests/quality/test_gx_gate.py); refused files store nothing but the refusal
(test_bad_files.py, test_bad_records.py). Then: no published hash may be recomputable from
the identifiers of the sample data without the key (nor with the public development key:
the build runs with a key of its own, tests/integration/conftest.py), the published
pseudonyms are the ones privacy.pseudonyms computes with that key, and the key itself is
in no log, no artifact and no table.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections import Counter

import duckdb
import pytest
from dagster import serialize_value

from orchestration.settings import PROJECT_ROOT
from privacy import PseudonymKey
from tests.support import column_texts, personal_identifiers, pii_leaks, sample_pii

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def personal(build) -> dict[str, set[str]]:
    settings = build[0]
    return sample_pii(settings.truth_dir, settings.landing_dir)


def read_only(build) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(build[0].warehouse_path), read_only=True)


def test_the_scan_finds_personal_data_where_the_warehouse_keeps_it(build, personal) -> None:
    """The control: in staging (clear text, not published) the scan finds every kind, so
    an empty result elsewhere means the data is not there, not that the scan is blind."""
    with read_only(build) as con:
        texts = column_texts(con, ("staging",), table="stg_events__identifies")
    found = {leak.split(": ", 1)[1].split(" ", 1)[0] for leak in pii_leaks(texts, personal)}
    assert found == set(personal)


def test_no_personal_data_in_a_published_column(build, personal) -> None:
    with read_only(build) as con:
        texts = column_texts(con, ("marts",))
    assert "marts.dim_customers.customer_id" in texts
    assert "marts.dim_customer_identifiers.identifier_hash" in texts
    assert pii_leaks(texts, personal) == []


def test_no_personal_data_in_the_dagster_event_log(build, personal) -> None:
    """Every event of every run on the instance — the build, and the runs test_pipeline.py
    adds when it runs first: log messages, materialisation and check metadata (dbt's
    events streamed by dagster-dbt among them), serialised whole."""
    instance = build[3]
    texts = {
        f"run {run.run_id[:8]} event {n} ({entry.dagster_event_type or 'log'})": (
            serialize_value(entry)
        )
        for run in instance.get_runs()
        for n, entry in enumerate(instance.all_logs(run.run_id))
    }
    assert len(texts) > 100
    assert pii_leaks(texts, personal) == []


def test_no_personal_data_in_the_dbt_log_and_run_results(build, personal) -> None:
    """dagster-dbt gives each dbt invocation a folder `dbt_build-<run id>-<id>` under the
    warehouse's dbt target folder (Settings.dbt_target_dir; target_dirs.py prunes them)."""
    run_id = build[2].run_id
    (folder,) = build[0].dbt_target_dir.glob(f"dbt_build-{run_id[:7]}-*")
    texts = {
        f"{folder.name}/{n}": (folder / n).read_text() for n in ("dbt.log", "run_results.json")
    }
    assert '"status": "success"' in texts[f"{folder.name}/run_results.json"]
    assert pii_leaks(texts, personal) == []
    # the plugin names the key it uses, by its id (docs/privacy.md)
    key = build[0].pseudonym_key
    assert (
        f"Pseudonym key: CDW_PSEUDONYM_KEY (key id {key.key_id})" in texts[f"{folder.name}/dbt.log"]
    )


def test_no_personal_data_in_a_tracked_file(personal) -> None:
    """Test snapshots, fixtures, docs: no file the repository holds carries this sample
    data's personal data (the suite has no snapshot files today; this is where one made
    from the pipeline test's warehouse would show)."""
    listed = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    texts = {}
    for name in filter(None, listed):
        path = PROJECT_ROOT / name
        if path.is_file():
            with contextlib.suppress(UnicodeDecodeError):  # binary: no text to leak
                texts[name] = path.read_text()
    assert len(texts) > 100
    assert pii_leaks(texts, personal) == []


# -- no published hash recomputable without a key -------------------------------------------

# Keyed since issue 12 (privacy/pseudonyms.py; docs/privacy.md): the e-mail, phone and
# identifier pseudonyms and the customer ids.
PUBLISHED_HASHES = [
    pytest.param("dim_customers", "email_hash"),
    pytest.param("dim_customers", "phone_hash"),
    pytest.param("dim_customer_identifiers", "identifier_hash"),
    pytest.param("dim_customers", "customer_id"),
    pytest.param("dim_customer_identifiers", "customer_id"),
]
RECOMPUTED_TYPES = ("email", "phone", "user_id", "crm_id", "anonymous_id", "device_id")


@pytest.fixture(scope="module")
def recomputed(build, personal) -> dict[str, str]:
    """digest → how anyone can compute it (never the value itself), for every identifier of
    the sample data in the forms the models publish them in: e-mails as written and
    normalised (macros/normalize_email.sql), phones as written and in E.164
    (stg_phones__normalized), the other identifiers as written and in lower case; each
    bare and as the identifier key '<type>:<value>' (int_identity__identifiers); hashed
    with sha256 and md5 (hex), and as a customer id, 'cus_' + the first 16 hex digits of
    md5 (how int_identity__components made it before issue 12); and the same with the
    public development key (privacy.pseudonyms: its pseudonym and customer id), which
    anyone can read in the source — the build uses a key of its own."""
    truth_dir = build[0].truth_dir
    development = PseudonymKey.development()
    assert build[0].pseudonym_key != development
    digests: dict[str, str] = {}
    for kind in RECOMPUTED_TYPES:
        values = personal_identifiers(truth_dir, {kind})
        values |= {v.lower() for v in values} | personal.get(kind, set())
        for value in values:
            for text, form in ((value, kind), (f"{kind}:{value}", f"'{kind}:' + {kind}")):
                md5 = hashlib.md5(text.encode()).hexdigest()
                digests[md5] = f"md5({form})"
                digests[hashlib.sha256(text.encode()).hexdigest()] = f"sha256({form})"
                digests[f"cus_{md5[:16]}"] = f"'cus_' + md5({form})[:16]"
                digests[development.pseudonym(text)] = f"development-key pseudonym({form})"
                digests[development.customer_id(text)] = f"development-key customer_id({form})"
    return digests


@pytest.mark.parametrize(("table", "column"), PUBLISHED_HASHES)
def test_a_published_hash_is_not_recomputable_without_a_key(
    build, recomputed: dict[str, str], table: str, column: str
) -> None:
    with read_only(build) as con:
        values = [
            v.lower()
            for (v,) in con.execute(
                f"SELECT {column} FROM marts.{table} WHERE {column} IS NOT NULL"
            ).fetchall()
        ]
    assert values
    matched = Counter(recomputed[v] for v in values if v in recomputed)
    assert not matched, (
        f"marts.{table}.{column}: {matched.total()} of {len(values)} values recomputed "
        f"from the sample data without a key: {dict(matched)}"
    )


def test_no_other_published_column_holds_a_recomputable_hash(build, recomputed) -> None:
    known = {f"marts.{p.values[0]}.{p.values[1]}" for p in PUBLISHED_HASHES}
    with read_only(build) as con:
        texts = column_texts(con, ("marts",))
    assert known <= set(texts)  # the list above names real columns
    others = {where: text for where, text in texts.items() if where not in known}
    assert pii_leaks(others, {"recomputable hash": set(recomputed)}) == []


def test_the_published_pseudonyms_are_the_keyed_function_of_privacy(build) -> None:
    """One function: what dbt published (through the plugin's DuckDB functions) is what
    privacy.pseudonyms computes in Python with the run's key — for every identifier of the
    bridge, every customer_id, and the e-mail and phone pseudonyms of dim_customers."""
    key = build[0].pseudonym_key
    with read_only(build) as con:
        components = con.execute(
            "select identifier_key, component_key, customer_id "
            "from intermediate.int_identity__components"
        ).fetchall()
        bridge = dict(
            con.execute(
                "select identifier_hash, customer_id from marts.dim_customer_identifiers"
            ).fetchall()
        )
        contacts = con.execute(
            "select g.email, g.phone, c.email_hash, c.phone_hash from marts.dim_customers c "
            "join intermediate.int_identity__golden_records g using (customer_id)"
        ).fetchall()
    assert components and len(bridge) == len(components)
    for identifier_key, component_key, customer_id in components:
        assert customer_id == key.customer_id(component_key)
        assert bridge[key.pseudonym(identifier_key)] == customer_id
    assert any(email for email, *_ in contacts)
    for email, phone, email_hash, phone_hash in contacts:
        assert email_hash == (email and key.pseudonym(f"email:{email}"))
        assert phone_hash == (phone and key.pseudonym(f"phone:{phone}"))


def test_the_key_is_never_logged_or_stored(build) -> None:
    """The secret is in no Dagster event, no dbt log or artifact of the run, and no column
    of any table of the warehouse (every schema)."""
    settings, _, result, instance = build
    secret = {"pseudonym key": {settings.pseudonym_key.secret.decode().lower()}}
    texts = {
        f"run {run.run_id[:8]} event {n}": serialize_value(entry)
        for run in instance.get_runs()
        for n, entry in enumerate(instance.all_logs(run.run_id))
    }
    (folder,) = settings.dbt_target_dir.glob(f"dbt_build-{result.run_id[:7]}-*")
    texts |= {
        f"{folder.name}/{path.name}": path.read_text()
        for path in folder.iterdir()
        if path.suffix in (".log", ".json")
    }
    with read_only(build) as con:
        texts |= column_texts(con)
    assert pii_leaks(texts, secret) == []
