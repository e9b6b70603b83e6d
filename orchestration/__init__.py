"""Dagster code location of the customer-data warehouse."""

import warnings

from dagster import BetaWarning

# Single-run backfills (`backfill_policy`) are how a date range loads in one run; Dagster
# marks the parameter beta. Say so once here instead of on every import.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=BetaWarning)
