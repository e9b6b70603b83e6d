"""Data quality: the "same warehouse" fingerprint (and, later, the Great Expectations gate)."""
