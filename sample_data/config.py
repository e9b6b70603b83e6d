"""Generator configuration, the delivery calendar and the per-(source, day) random streams."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

SOURCES: tuple[str, ...] = (
    "web_access",
    "events",
    "products",
    "crm_customers",
    "orders",
    "subscriptions",
    "support_tickets",
    "surveys",
    "reviews",
    "social",
    "consent",
    "privacy_requests",
)

# CRM snapshots: day 1, every 7th day after it (days 8, 15, ...) and the last day.
CRM_SNAPSHOT_EVERY = 7


def yesterday_utc() -> date:
    """Default end date: yesterday in UTC (the last complete delivery day)."""
    return (datetime.now(UTC) - timedelta(days=1)).date()


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Same config -> byte-identical files."""

    customers: int = 2000
    days: int = 90
    end_date: date = field(default_factory=yesterday_utc)
    seed: int = 42

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be >= 1")
        if self.days < 1:
            raise ValueError("days must be >= 1")

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def dates(self) -> list[date]:
        start = self.start_date
        return [start + timedelta(days=i) for i in range(self.days)]

    @property
    def visitors(self) -> int:
        """Anonymous-only visitors (never identify), on top of the customers."""
        return self.customers // 2

    def crm_snapshot_days(self) -> list[int]:
        """Day indices (0-based) that get a full CRM snapshot."""
        days = {i for i in range(self.days) if i % CRM_SNAPSHOT_EVERY == 0}
        days.add(self.days - 1)
        return sorted(days)

    def as_dict(self) -> dict[str, object]:
        return {
            "customers": self.customers,
            "days": self.days,
            "end_date": self.end_date.isoformat(),
            "start_date": self.start_date.isoformat(),
            "seed": self.seed,
        }


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed derived from the config seed and a label (never Python's str hash)."""
    key = ":".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent random stream, e.g. rng_for(seed, "orders", day)."""
    return random.Random(derive_seed(seed, *parts))
