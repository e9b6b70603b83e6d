"""Data quality: the Great Expectations gate on the raw and staging tables (gx_*, and
checks.py: the gate as Dagster asset checks) and the "same warehouse" fingerprint."""
