"""Dagster code location of the customer-data warehouse."""
