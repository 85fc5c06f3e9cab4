"""Quartz cron expressions (production-system.md §2.4): ``sec min hour day-of-month month
day-of-week [year]``, plus the 5-field form of the reference's example (``00 00 00 * *``), read as
``sec min hour dom month`` with day-of-week ``?``.

Supported: ``*``, ``?``, numbers, names (JAN-DEC, SUN-SAT), ranges ``a-b``, steps ``*/n``,
``a/n``, ``a-b/n`` and lists. Day-of-week is 1 = SUN .. 7 = SAT as in Quartz. ``L``, ``W`` and
``#`` are refused with a clear error rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from isrender.errors import CronError

__all__ = ["CronError", "CronSchedule", "parse_cron"]

_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_DAYS = "SUN MON TUE WED THU FRI SAT".split()
# field name, lowest, highest, names (index 0 is the lowest value)
_FIELDS = (
    ("second", 0, 59, None),
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, None),
)


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: '?' (day-of-week decides)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # Quartz numbering; None: '?'
    years: frozenset[int] | None

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months or (self.years and day.year not in self.years):
            return False
        quartz_weekday = (day.weekday() + 1) % 7 + 1  # Monday=0 -> 2 ... Sunday=6 -> 1
        day_ok = self.days is None or day.day in self.days
        weekday_ok = self.weekdays is None or quartz_weekday in self.weekdays
        return day_ok and weekday_ok

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after ``moment`` (None when there is none in 10 years)."""
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        day = start.replace(hour=0, minute=0, second=0)
        for _ in range(366 * 10):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        for second in sorted(self.seconds):
                            candidate = day.replace(hour=hour, minute=minute, second=second)
                            if candidate >= start:
                                return candidate
            day += timedelta(days=1)
        return None


def parse_cron(expression: str) -> CronSchedule:
    parts = expression.split()
    if len(parts) == 5:
        parts.append("?")
    if len(parts) not in (6, 7):
        raise CronError(f"a cron expression has 6 or 7 fields (or 5), not {len(parts)}")
    values = [_field(text, *spec) for text, spec in zip(parts, _FIELDS, strict=False)]
    days, weekdays = values[3], values[5]
    if days is not None and weekdays is not None and parts[3] != "*" and parts[5] != "*":
        raise CronError("give day-of-month or day-of-week, and '?' for the other (Quartz)")
    if parts[3] == "*" and weekdays is not None and parts[5] != "*":
        days = None  # '*' beside a specific day-of-week means "any day-of-month"
    if parts[5] == "*" and days is not None:
        weekdays = None
    for name, field in (("second", values[0]), ("minute", values[1]), ("hour", values[2]),
                        ("month", values[4])):  # fmt: skip
        if field is None:
            raise CronError(f"'?' is only allowed for day-of-month and day-of-week, not {name}")
    return CronSchedule(expression, values[0], values[1], values[2], days, values[4],  # type: ignore[arg-type]
                        weekdays, values[6] if len(parts) == 7 else None)  # fmt: skip


def _field(
    text: str, name: str, low: int, high: int, names: list[str] | None
) -> frozenset[int] | None:
    if text == "?":
        return None
    if any(mark in text.upper() for mark in ("L", "W", "#")) and not names:
        raise CronError(f"{name}: L, W and # are not supported ({text!r})")
    chosen: set[int] = set()
    for item in text.split(","):
        chosen |= _item(item, name, low, high, names)
    return frozenset(chosen)


def _item(item: str, name: str, low: int, high: int, names: list[str] | None) -> set[int]:
    base, _, step_text = item.partition("/")
    step = _number(step_text, name, 1, high - low + 1, None) if step_text else 1
    if base in ("*", ""):
        first, last = low, high
    elif "-" in base:
        a, _, b = base.partition("-")
        first, last = _number(a, name, low, high, names), _number(b, name, low, high, names)
    else:
        first = _number(base, name, low, high, names)
        last = high if step_text else first
    if first > last:
        raise CronError(f"{name}: range {item!r} runs backwards")
    return set(range(first, last + 1, step))


def _number(text: str, name: str, low: int, high: int, names: list[str] | None) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise CronError(f"{name}: {text!r} is not a number{' or a name' if names else ''}")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is outside {low}..{high}")
    return value
