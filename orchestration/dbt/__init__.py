"""dbt in Dagster: the dbt project's models, seeds and tests as assets and asset checks."""
