"""Fast timestamp formatting on integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MS_DAY = 86_400_000
MS_HOUR = 3_600_000
MS_MIN = 60_000
_EPOCH = date(1970, 1, 1)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_start_ms(d: date) -> int:
    return (d - _EPOCH).days * MS_DAY


def ms_to_date(ms: int) -> date:
    return _EPOCH + timedelta(days=ms // MS_DAY)


@lru_cache(maxsize=4096)
def _day_iso(epoch_day: int) -> str:
    return (_EPOCH + timedelta(days=epoch_day)).isoformat()


@lru_cache(maxsize=4096)
def _day_clf(epoch_day: int) -> str:
    d = _EPOCH + timedelta(days=epoch_day)
    return f"{d.day:02d}/{_MONTHS[d.month - 1]}/{d.year}"


def _hms(ms_of_day: int) -> tuple[int, int, int, int]:
    s, milli = divmod(ms_of_day, 1000)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return h, m, s, milli


def iso_utc_ms(ms: int) -> str:
    """2026-01-05T10:03:22.123Z (collector clock)."""
    day, rest = divmod(ms, MS_DAY)
    h, m, s, milli = _hms(rest)
    return f"{_day_iso(day)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def iso_utc_s(ms: int) -> str:
    """2026-01-05T10:03:22Z."""
    day, rest = divmod(ms, MS_DAY)
    h, m, s, _ = _hms(rest)
    return f"{_day_iso(day)}T{h:02d}:{m:02d}:{s:02d}Z"


def _offset_str(offset_min: int) -> str:
    sign = "+" if offset_min >= 0 else "-"
    hh, mm = divmod(abs(offset_min), 60)
    return f"{sign}{hh:02d}:{mm:02d}"


def iso_local_ms(ms: int, offset_min: int) -> str:
    """Local wall-clock time with its UTC offset: 2026-01-05T07:03:22.123-03:00."""
    local = ms + offset_min * MS_MIN
    day, rest = divmod(local, MS_DAY)
    h, m, s, milli = _hms(rest)
    return f"{_day_iso(day)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}{_offset_str(offset_min)}"


def iso_local_s(ms: int, offset_min: int) -> str:
    local = ms + offset_min * MS_MIN
    day, rest = divmod(local, MS_DAY)
    h, m, s, _ = _hms(rest)
    return f"{_day_iso(day)}T{h:02d}:{m:02d}:{s:02d}{_offset_str(offset_min)}"


def clf_time(ms: int) -> str:
    """Access-log %t without brackets, in UTC: 05/Jan/2026:10:03:22 +0000."""
    day, rest = divmod(ms, MS_DAY)
    h, m, s, _ = _hms(rest)
    return f"{_day_clf(day)}:{h:02d}:{m:02d}:{s:02d} +0000"


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


@lru_cache(maxsize=200_000)
def _offset_for_hour(tz: str, epoch_hour: int) -> int:
    dt = datetime.fromtimestamp(epoch_hour * 3600, tz=UTC).astimezone(_zone(tz))
    off = dt.utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def utc_offset_min(tz: str, ms: int) -> int:
    """UTC offset (minutes) of an IANA zone at an instant (hour resolution)."""
    return _offset_for_hour(tz, ms // MS_HOUR)
