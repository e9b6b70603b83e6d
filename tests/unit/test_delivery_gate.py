"""How the gate cuts a run's deliveries into validation ranges (no GX needed)."""

from __future__ import annotations

from datetime import date

from orchestration.quality.delivery_gate import contiguous_runs

D = [date(2026, 1, day) for day in range(1, 11)]


def test_a_backfill_of_consecutive_days_is_one_range() -> None:
    assert contiguous_runs(D[:5], D[:5]) == [D[:5]]


def test_a_range_never_covers_a_delivery_it_does_not_judge() -> None:
    # Re-delivered day 2 and tonight's day 5, with days 1, 3 and 4 loaded before: two
    # ranges, so the unchanged (maybe held) days 3 and 4 are not validated again.
    assert contiguous_runs([D[4], D[1]], D[:5]) == [[D[1]], [D[4]]]


def test_days_without_a_delivery_between_do_not_cut() -> None:
    assert contiguous_runs([D[0], D[3]], [D[0], D[3]]) == [[D[0], D[3]]]


def test_nothing_to_judge() -> None:
    assert contiguous_runs([], D) == []
