"""Keyed pseudonyms (privacy/pseudonyms.py; docs/privacy.md, "Pseudonyms").

The function is HMAC-SHA-256 (RFC 2104) with precomputed inner and outer states: checked
against RFC 4231's test vectors and the standard library's `hmac`; the DuckDB functions
`register` defines give the same values as the Python function; the key comes from
CDW_PSEUDONYM_KEY, and without it the development key is used and flagged; the secret
never shows in a repr, a summary line or a log line; `cdw pseudonyms rekey-decisions`
rewrites the steward decisions for a new key.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import random
from pathlib import Path

import duckdb
import pytest

from orchestration.pseudonyms import rekey_decisions, render_rekey
from orchestration.settings import Settings
from privacy import (
    KEY_ENV,
    PseudonymKey,
    PseudonymKeyError,
    customer_id,
    key_environment,
    new_secret,
    pseudonym,
    register,
)
from privacy.pseudonyms import DEVELOPMENT_KEY

# RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224, HMAC-SHA-256, …": test cases
# 1-4, 6 and 7 (5 truncates the output), HMAC-SHA-256 expected. The digests are public test
# vectors, pinned one a line as the secret scan's filter for digests expects
# (.secrets.baseline: `NAME_DIGEST = "<64 hex>"`).
CASE_ONE_DIGEST = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
CASE_TWO_DIGEST = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
CASE_THREE_DIGEST = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
CASE_FOUR_DIGEST = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
CASE_SIX_DIGEST = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
CASE_SEVEN_DIGEST = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There", CASE_ONE_DIGEST),
    (b"Jefe", b"what do ya want for nothing?", CASE_TWO_DIGEST),
    (b"\xaa" * 20, b"\xdd" * 50, CASE_THREE_DIGEST),
    (bytes(range(1, 26)), b"\xcd" * 50, CASE_FOUR_DIGEST),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First", CASE_SIX_DIGEST),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size "
        b"data. The key needs to be hashed before being used by the HMAC algorithm.",
        CASE_SEVEN_DIGEST,
    ),
]
KEY_TEXT = "a test key of more than 32 characters, 0123456789"


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231, ids=[1, 2, 3, 4, 6, 7])
def test_rfc_4231_test_vectors(key: bytes, data: bytes, expected: str) -> None:
    assert PseudonymKey(key).pseudonym_bytes(data) == expected


def test_the_same_as_the_standard_library_hmac() -> None:
    rng = random.Random(12)
    texts = ["", "email:ann@example.com", "phone:+34600000001", "user_id:ñandú-🦤", "x" * 200]
    for _ in range(50):
        texts.append("".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(40))))
    for length in (1, 32, 63, 64, 65, 200):
        secret = rng.randbytes(length)
        key = PseudonymKey(secret)
        expected = [hmac.new(secret, t.encode(), hashlib.sha256).hexdigest() for t in texts]
        assert [key.pseudonym(t) for t in texts] == expected
        assert key.pseudonyms([*texts, None]) == [*expected, None]


def test_deterministic_and_different_under_another_key() -> None:
    one, same, other = (PseudonymKey.from_secret(s) for s in (KEY_TEXT, KEY_TEXT, KEY_TEXT + "!"))
    text = "email:ann@example.com"
    assert one.pseudonym(text) == same.pseudonym(text)
    assert one.pseudonym(text) != other.pseudonym(text)
    assert one.pseudonym(text) != hashlib.sha256(text.encode()).hexdigest()  # not a bare hash
    assert len(one.pseudonym(text)) == 64 and one.pseudonym(text) == one.pseudonym(text).lower()
    assert one.key_id != other.key_id and len(one.key_id) == 8


def test_customer_id() -> None:
    key = PseudonymKey.from_secret(KEY_TEXT)
    component_key = "email:ann@example.com"
    cid = key.customer_id(component_key)
    assert cid == "cus_" + key.pseudonym("customer:" + component_key)[:16]
    # not the beginning of the key identifier's own published pseudonym
    assert cid[4:] != key.pseudonym(component_key)[:16]
    assert cid != "cus_" + hashlib.md5(component_key.encode()).hexdigest()[:16]  # the old id
    assert key.customer_ids([component_key, None]) == [cid, None]
    assert PseudonymKey.from_secret(KEY_TEXT + "!").customer_id(component_key) != cid


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY_TEXT)
    key = PseudonymKey.from_env()
    assert not key.is_development and key.secret == KEY_TEXT.encode()
    assert pseudonym("email:a@b.c") == key.pseudonym("email:a@b.c")
    assert customer_id("email:a@b.c") == key.customer_id("email:a@b.c")
    assert Settings.from_env().pseudonym_key == key
    assert Settings.under(Path("/nowhere")).pseudonym_key == key
    assert key.describe() == f"Pseudonym key: {KEY_ENV} (key id {key.key_id})."


@pytest.mark.parametrize("value", [None, ""])
def test_without_a_key_the_development_key_is_used_and_flagged(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, value)
    key = Settings.from_env().pseudonym_key
    assert key.is_development and key == PseudonymKey.development()
    assert key.secret == DEVELOPMENT_KEY.encode()
    line = key.describe()
    assert line.startswith("WARNING: pseudonym key: DEVELOPMENT KEY (public)")
    assert KEY_ENV in line and key.key_id in line and "docs/privacy.md" in line
    assert DEVELOPMENT_KEY not in line


@pytest.mark.parametrize("value", ["short", " " + KEY_TEXT, KEY_TEXT + "\n"])
def test_an_unusable_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(PseudonymKeyError) as refused:
        PseudonymKey.from_env()
    assert value.strip() not in str(refused.value)  # the message never quotes the key


def test_the_secret_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY_TEXT)
    settings = Settings.from_env()
    for text in (repr(settings), str(settings), repr(settings.pseudonym_key)):
        assert KEY_TEXT not in text
    assert KEY_TEXT not in settings.pseudonym_key.describe()
    import copy
    import pickle

    assert copy.deepcopy(settings.pseudonym_key) == settings.pseudonym_key
    assert pickle.loads(pickle.dumps(settings.pseudonym_key)).pseudonym("x") == pseudonym("x")


def test_the_duckdb_functions_equal_the_python_function() -> None:
    key = PseudonymKey.from_secret(KEY_TEXT)
    with duckdb.connect() as con:
        assert register(con, key) is key
        con.execute(
            "create table t as select case when i % 97 = 0 then null "
            "else 'email:user' || i || '@exämple.com' end as k from range(10000) r(i)"
        )
        rows = con.execute(
            "select k, cdw_pseudonym(k), cdw_customer_id(k) from t order by all"
        ).fetchall()
        assert len(rows) == 10000
        for text, hashed, cid in rows:
            if text is None:
                assert hashed is None and cid is None
            else:
                assert hashed == key.pseudonym(text) and cid == key.customer_id(text)
        # cursors see them (dbt-duckdb runs every model on a cursor)
        (via_cursor,) = con.cursor().execute("select cdw_pseudonym('a')").fetchone()
        assert via_cursor == key.pseudonym("a")
        # registered again with another key: replaced
        other = register(con, PseudonymKey.from_secret(KEY_TEXT + "!"))
        (again,) = con.execute("select cdw_pseudonym('a')").fetchone()
        assert again == other.pseudonym("a") != via_cursor


def test_the_dbt_plugin_defines_the_functions_with_the_environments_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from privacy.dbt_plugin import Plugin

    monkeypatch.setenv(KEY_ENV, KEY_TEXT)
    plugin = Plugin(name="pseudonyms", plugin_config={})
    with duckdb.connect() as con:
        plugin.configure_connection(con)
        (value,) = con.execute("select cdw_pseudonym('email:ann@example.com')").fetchone()
    assert value == PseudonymKey.from_secret(KEY_TEXT).pseudonym("email:ann@example.com")


def test_key_environment_sets_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "the-caller's-own-value")
    with key_environment(PseudonymKey.from_secret(KEY_TEXT)):
        assert os.environ[KEY_ENV] == KEY_TEXT
    assert os.environ[KEY_ENV] == "the-caller's-own-value"
    with key_environment(PseudonymKey.development()):
        assert KEY_ENV not in os.environ
    assert os.environ[KEY_ENV] == "the-caller's-own-value"
    monkeypatch.delenv(KEY_ENV)
    with key_environment(PseudonymKey.from_secret(KEY_TEXT)):
        assert os.environ[KEY_ENV] == KEY_TEXT
    assert KEY_ENV not in os.environ


def test_new_secret_is_a_usable_key() -> None:
    secret = new_secret()
    assert secret != new_secret()
    assert not PseudonymKey.from_secret(secret).is_development


# -- `cdw pseudonyms rekey-decisions`


def write_seed(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["decision_id", "decision", "identifier_a", "identifier_b", "decided_by",
             "decided_at", "reason"]
        )  # fmt: skip
        for decision_id, decision, a, b in rows:
            writer.writerow([decision_id, decision, a, b, "ana", "2026-01-10T09:00:00Z", "why"])


def read_seed(path: Path) -> dict[str, tuple[str, str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {r["decision_id"]: (r["identifier_a"], r["identifier_b"]) for r in rows}


def test_rekey_decisions_rewrites_the_pseudonyms_for_the_new_key(tmp_path: Path) -> None:
    old, new = PseudonymKey.from_secret(KEY_TEXT), PseudonymKey.from_secret(new_secret())
    ann, bob, cat = "email:ann@example.com", "user_id:u-bob", "crm_id:C0001"
    seed = tmp_path / "identity_manual_decisions.csv"
    write_seed(
        seed,
        [
            ("d-1", "merge", old.pseudonym(bob), old.pseudonym(ann).upper()),
            ("d-2", "keep_apart", cat, old.pseudonym(ann)),  # one side in clear
            ("d-3", "merge", ann, bob),  # both in clear: nothing to rewrite
            ("d-4", "merge", old.pseudonym("email:gone@example.com"), old.pseudonym(bob)),
        ],
    )
    with duckdb.connect() as con:  # what the warehouse resolved under the old key
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_identity__manual_decisions as "
            "select * from (values ('d-1', 'merge', ?, ?), ('d-2', 'keep_apart', ?, ?), "
            "('d-3', 'merge', ?, ?)) v(decision_id, decision, identifier_key_a, "
            "identifier_key_b)",
            [*sorted([ann, bob]), *sorted([cat, ann]), *sorted([ann, bob])],
        )
        before = seed.read_text()
        dry = rekey_decisions(con, seed, new, dry_run=True)
        assert seed.read_text() == before and dry.rekeyed == ["d-1", "d-2"]
        report = rekey_decisions(con, seed, new)
        assert report.rekeyed == ["d-1", "d-2"] and report.clear == ["d-3"]
        assert report.unresolved == ["d-4"] and report.decisions == 4
        rows = read_seed(seed)
        assert sorted(rows["d-1"]) == sorted([new.pseudonym(ann), new.pseudonym(bob)])
        assert rows["d-2"] == (cat, new.pseudonym(ann))
        assert rows["d-3"] == (ann, bob)
        assert rows["d-4"] == (old.pseudonym("email:gone@example.com"), old.pseudonym(bob))
        # run again: already under the new key, nothing rewritten
        again = rekey_decisions(con, seed, new)
        assert again.rekeyed == [] and again.current == ["d-1", "d-2"]
    text = render_rekey(report, seed, new, dry_run=False)
    assert "rewrote 2" in text and "d-4" in text
    for clear in (ann, bob, KEY_TEXT):
        assert clear not in text


def test_cdw_pseudonyms_key_and_hash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main

    monkeypatch.setenv(KEY_ENV, KEY_TEXT)
    key = PseudonymKey.from_secret(KEY_TEXT)
    assert main(["pseudonyms", "key"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == key.describe() and KEY_TEXT not in out
    assert main(["pseudonyms", "hash", "email:ann@example.com", "email:Ann@Example.com"]) == 0
    printed = capsys.readouterr()
    assert printed.out.split() == key.pseudonyms(["email:ann@example.com", "email:Ann@Example.com"])
    assert "'email:Ann@Example.com' is not an identifier key" in printed.err
    assert "email:ann@example.com'" not in printed.err
    assert main(["pseudonyms", "new-key"]) == 0
    assert len(capsys.readouterr().out.strip()) == 64
