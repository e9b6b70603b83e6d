"""Keyed pseudonyms: HMAC-SHA-256 with a secret from the environment (DESIGN.md, "Pseudonyms").

One function, shared by everything that derives a pseudonym — the dbt models (through the
DuckDB functions `register` defines, which the dbt-duckdb plugin `privacy.dbt_plugin`
registers on dbt's connection), the dbt Python models, the commands and every export:

    pseudonym(text)          = hex(HMAC-SHA-256(key, UTF-8 bytes of text))       64 hex digits
    customer_id(component)   = 'cus_' + first 16 hex digits of pseudonym('customer:' + component)

The canonical input is the text exactly as given, UTF-8, no normalisation here: the callers
pass an identifier key '<identifier_type>:<normalised value>' (int_identity__identifiers,
e.g. 'email:ann@example.com'; staging normalises the value), and for a customer id the
cluster's key (its earliest-seen identifier key) behind the prefix 'customer:' — a different
input, so a customer id is not the beginning of its key identifier's published pseudonym.
Without the key neither can be recomputed from an e-mail or a phone; with it, a system that
holds an identifier computes the same pseudonym (docs/privacy.md, "Pseudonyms").

The key is the UTF-8 bytes of the environment variable `CDW_PSEUDONYM_KEY` (at least 32
characters). Without it — unset or empty — a fixed **development key** is used: it is
written below, so anyone can recompute every pseudonym made with it. Everything that uses
it says so (`PseudonymKey.is_development`, `describe()`): the dbt log, the Dagster run's
log and `cdw run`'s summary. The key itself is never printed; `key_id` (an HMAC of a fixed
text, 8 hex digits) names a key in logs without revealing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

KEY_ENV = "CDW_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32
# Public on purpose: the key of development and demo warehouses. Pseudonyms made with it
# protect nothing (anyone can read this line), which is why every run that uses it warns.
DEVELOPMENT_KEY = "cdw development pseudonym key, public, never for real people"
DEVELOPMENT = "development"
CUSTOMER_ID_PREFIX = "cus_"
CUSTOMER_ID_DIGITS = 16
CUSTOMER_INPUT_PREFIX = "customer:"
# The DuckDB scalar functions `register` defines (VARCHAR → VARCHAR; NULL → NULL).
PSEUDONYM_FUNCTION = "cdw_pseudonym"
CUSTOMER_ID_FUNCTION = "cdw_customer_id"
_KEY_ID_INPUT = b"cdw pseudonym key id"
_BLOCK = 64  # SHA-256 block size (bytes)

DEVELOPMENT_KEY_WARNING = (
    f"pseudonym key: DEVELOPMENT KEY (public): {KEY_ENV} is not set, so every published "
    "hash and customer_id can be recomputed by anyone from an e-mail or phone. Fine for a "
    f"demo; set {KEY_ENV} to a secret of at least {MIN_KEY_LENGTH} characters before the "
    "warehouse holds real people (docs/privacy.md)."
)


class PseudonymKeyError(ValueError):
    """CDW_PSEUDONYM_KEY is set but unusable (too short, surrounding white space)."""


@dataclass(frozen=True)
class PseudonymKey:
    """The secret of the keyed hash, and where it came from (`KEY_ENV` or `DEVELOPMENT`).

    Build it with `from_env()` (what the pipeline does), `from_secret()` or
    `development()`; the constructor itself does not check the secret (tests use RFC 4231's
    short keys). `repr` and `str` never show the secret."""

    secret: bytes = field(repr=False)
    source: str = KEY_ENV
    # precomputed inner / outer hash states (RFC 2104): one copy each per value
    _inner: hashlib._Hash = field(init=False, repr=False, compare=False)
    _outer: hashlib._Hash = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = self.secret
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        object.__setattr__(self, "_inner", hashlib.sha256(bytes(b ^ 0x36 for b in key)))
        object.__setattr__(self, "_outer", hashlib.sha256(bytes(b ^ 0x5C for b in key)))

    def __reduce__(self) -> tuple:
        # copy / pickle by the two fields (hash states cannot be pickled)
        return (type(self), (self.secret, self.source))

    @classmethod
    def from_secret(cls, secret: str, source: str = KEY_ENV) -> PseudonymKey:
        if secret != secret.strip():
            raise PseudonymKeyError(
                f"{KEY_ENV} starts or ends with white space; the key is the value's exact "
                "UTF-8 bytes, so remove it (other systems computing the same pseudonyms "
                "would otherwise disagree)"
            )
        if len(secret) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(
                f"{KEY_ENV} is {len(secret)} characters long; use a random secret of at "
                f"least {MIN_KEY_LENGTH}, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return cls(secret.encode(), source)

    @classmethod
    def development(cls) -> PseudonymKey:
        return cls(DEVELOPMENT_KEY.encode(), DEVELOPMENT)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PseudonymKey:
        """`CDW_PSEUDONYM_KEY` when it is set and not empty, else the development key."""
        value = (os.environ if environ is None else environ).get(KEY_ENV, "")
        return cls.from_secret(value) if value else cls.development()

    @property
    def is_development(self) -> bool:
        return self.source == DEVELOPMENT

    @property
    def key_id(self) -> str:
        """8 hex digits naming the key in logs and summaries (an HMAC of a fixed text: it
        tells two keys apart and reveals nothing of either)."""
        return self.pseudonym_bytes(_KEY_ID_INPUT)[:8]

    def describe(self) -> str:
        """One line for a run summary or a log: which key (the flag), never the key."""
        if self.is_development:
            return f"WARNING: {DEVELOPMENT_KEY_WARNING} Key id {self.key_id}."
        return f"Pseudonym key: {KEY_ENV} (key id {self.key_id})."

    def pseudonym_bytes(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def pseudonym(self, text: str) -> str:
        """hex(HMAC-SHA-256(key, text as UTF-8)): 64 lower-case hex digits."""
        return self.pseudonym_bytes(text.encode())

    def customer_id(self, component_key: str) -> str:
        """'cus_' + the first 16 hex digits of pseudonym('customer:' + component_key)."""
        digest = self.pseudonym_bytes((CUSTOMER_INPUT_PREFIX + component_key).encode())
        return CUSTOMER_ID_PREFIX + digest[:CUSTOMER_ID_DIGITS]

    def pseudonyms(self, texts: Iterable[str | None]) -> list[str | None]:
        """`pseudonym` of each text, None for None (the loop the DuckDB function runs)."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out: list[str | None] = []
        append = out.append
        for text in texts:
            if text is None:
                append(None)
                continue
            inner = inner_copy()
            inner.update(text.encode())
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.hexdigest())
        return out

    def customer_ids(self, component_keys: Iterable[str | None]) -> list[str | None]:
        digests = self.pseudonyms(
            None if key is None else CUSTOMER_INPUT_PREFIX + key for key in component_keys
        )
        return [None if d is None else CUSTOMER_ID_PREFIX + d[:CUSTOMER_ID_DIGITS] for d in digests]


def pseudonym(text: str, key: PseudonymKey | None = None) -> str:
    """The pseudonym of `text` under `key` (default: the environment's, `from_env`)."""
    return (key or PseudonymKey.from_env()).pseudonym(text)


def customer_id(component_key: str, key: PseudonymKey | None = None) -> str:
    """The customer_id of the cluster whose key is `component_key`."""
    return (key or PseudonymKey.from_env()).customer_id(component_key)


def register(con: duckdb.DuckDBPyConnection, key: PseudonymKey | None = None) -> PseudonymKey:
    """Define `cdw_pseudonym(varchar)` and `cdw_customer_id(varchar)` on a DuckDB connection
    (and its cursors): vectorised Python functions over Arrow arrays, one call per chunk of
    2,048 values. Defined again when they exist (another key). Returns the key used.

    They live in the connection, not in the database file: a view that calls them would
    not open in another client, so only tables call them (macro `pseudonym`)."""
    import duckdb
    import pyarrow as pa
    from duckdb.sqltypes import VARCHAR

    key = key or PseudonymKey.from_env()

    # (no annotations: DuckDB evaluates them, and `pa` is local here)
    def pseudonyms(values):
        return pa.array(key.pseudonyms(values.to_pylist()), pa.string())

    def customer_ids(values):
        return pa.array(key.customer_ids(values.to_pylist()), pa.string())

    for name, function in ((PSEUDONYM_FUNCTION, pseudonyms), (CUSTOMER_ID_FUNCTION, customer_ids)):
        with contextlib.suppress(duckdb.InvalidInputException):  # not defined yet
            con.remove_function(name)
        con.create_function(name, function, [VARCHAR], VARCHAR, type="arrow")
    return key


@contextlib.contextmanager
def key_environment(key: PseudonymKey) -> Iterator[None]:
    """`os.environ` as a subprocess (dbt) needs it to use `key`, restored afterwards:
    `CDW_PSEUDONYM_KEY` set to the secret, or removed for the development key."""
    before = os.environ.get(KEY_ENV)
    if key.is_development:
        os.environ.pop(KEY_ENV, None)
    else:
        os.environ[KEY_ENV] = key.secret.decode()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = before


def new_secret() -> str:
    """A fresh random key for `CDW_PSEUDONYM_KEY` (64 hex digits)."""
    return secrets.token_hex(32)
