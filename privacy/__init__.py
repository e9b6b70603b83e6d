"""Privacy: a library the dbt models (through a dbt-duckdb plugin), the dbt Python models and
the Dagster code location call. Like `identity/` it imports nothing from `orchestration/`.

The public interface:

- `PseudonymKey`: the secret of the keyed hash (`from_env()`: `CDW_PSEUDONYM_KEY`, else the
  public development key, flagged `is_development`), with `pseudonym(text)`,
  `customer_id(component_key)`, `key_id` and `describe()`;
- `pseudonym(text, key=None)` and `customer_id(component_key, key=None)`: the same, with
  the environment's key by default;
- `register(con, key=None)`: defines `cdw_pseudonym` and `cdw_customer_id` on a DuckDB
  connection (what `privacy.dbt_plugin` does for dbt);
- `key_environment(key)`: the environment a dbt subprocess needs to use `key`.

docs/privacy.md has the long form.
"""

from .pseudonyms import (
    CUSTOMER_ID_FUNCTION,
    DEVELOPMENT_KEY_WARNING,
    KEY_ENV,
    PSEUDONYM_FUNCTION,
    PseudonymKey,
    PseudonymKeyError,
    customer_id,
    key_environment,
    new_secret,
    pseudonym,
    register,
)

__all__ = [
    "CUSTOMER_ID_FUNCTION",
    "DEVELOPMENT_KEY_WARNING",
    "KEY_ENV",
    "PSEUDONYM_FUNCTION",
    "PseudonymKey",
    "PseudonymKeyError",
    "customer_id",
    "key_environment",
    "new_secret",
    "pseudonym",
    "register",
]
