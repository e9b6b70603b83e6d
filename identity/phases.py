"""Seconds per phase of one run, for the stats the identity functions return."""

from __future__ import annotations

import time


class PhaseClock:
    """`lap(phase)` records the seconds since the previous lap (or the start)."""

    def __init__(self, digits: int | None = None) -> None:
        self.started = self._mark = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self._digits = digits

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        elapsed = now - self._mark
        self.seconds[phase] = elapsed if self._digits is None else round(elapsed, self._digits)
        self._mark = now

    def total(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started
