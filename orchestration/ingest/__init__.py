"""Landing files → DuckDB `raw.*`: source contracts, set-based parsing, line accounting."""
