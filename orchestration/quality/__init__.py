"""Data quality: the Great Expectations gate on each delivery (gx_* — suites, project, the
DuckDB fix; delivery_gate.py — the verdict per delivery) and the "same warehouse"
fingerprint."""
