"""Office hours of the staff who answer "talk to a person" requests, and a clock tests can fix.

    hours = OfficeHours.load()                  # data/handoff/office_hours.yml (+ holidays.yml)
    hours.is_open(clock.now())                  # a working day, inside a period, not a holiday
    hours.next_open(clock.now())                # when staff answer next (a datetime, local time)
    clock_from_env()                            # OCOP_CLOCK="2026-12-07T09:00:00+07:00" fixes the time

Days, periods, holidays and the day names used in messages are data (staff edit the files);
the defaults are Monday to Friday, 07:00-11:30 and 13:00-17:00, Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol

import yaml

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
HOURS_FILE = Path(os.environ.get("OCOP_OFFICE_HOURS_FILE") or ROOT / "data" / "handoff" / "office_hours.yml")
CLOCK_ENV = "OCOP_CLOCK"
VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving: used when tzdata is missing


class Clock(Protocol):
    """What tells the time (the system clock, or a fixed one in tests)."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FixedClock:
    """A clock that always says the same time (tests, demos)."""

    at: datetime

    def now(self) -> datetime:
        """The fixed time."""
        return self.at


def clock_from_env(env: dict[str, str] | None = None) -> Clock:
    """A FixedClock when OCOP_CLOCK holds an ISO time with its offset, else the system clock."""
    value = (os.environ if env is None else env).get(CLOCK_ENV, "").strip()
    if not value:
        return SystemClock()
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"{CLOCK_ENV} needs a UTC offset, e.g. 2026-12-07T09:00:00+07:00 (got {value!r})")
    return FixedClock(at)


def _zone(name: str) -> tzinfo:
    """The named time zone; Vietnam's fixed offset when the system has no tz database."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, or no tzdata at all
        logger.warning("time zone %s not found: using UTC+07:00", name)
        return VIETNAM


def _time(value: Any) -> time:
    """ "07:30" -> time(7, 30) (YAML may also give minutes as an int: 7:30 -> 450)."""
    if isinstance(value, int):
        return time(value // 60, value % 60)
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class OfficeHours:
    """Working days (ISO weekday numbers), daily periods, holidays, time zone and day names."""

    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    periods: tuple[tuple[time, time], ...] = ((time(7), time(11, 30)), (time(13), time(17)))
    holidays: dict[date, str] = field(default_factory=dict)
    zone: tzinfo = VIETNAM
    day_names: tuple[str, ...] = ()
    buttons: tuple[dict[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path | None = None) -> OfficeHours:
        """Read the office hours file and the holidays file it names (errors are raised clearly)."""
        path = Path(path or HOURS_FILE)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        holidays: dict[date, str] = {}
        if data.get("holidays_file"):
            raw = yaml.safe_load((path.parent / data["holidays_file"]).read_text(encoding="utf-8")) or {}
            holidays = {
                d if isinstance(d, date) else date.fromisoformat(str(d)): str(n) for d, n in raw.items()
            }
        periods = tuple((_time(a), _time(b)) for a, b in data.get("periods") or [])
        if any(start >= end for start, end in periods):
            raise ValueError(f"{path}: every period must start before it ends")
        days = frozenset(int(d) for d in data.get("days") or [])
        if not days <= set(range(1, 8)):
            raise ValueError(f"{path}: days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return cls(
            days=days,
            periods=periods,
            holidays=holidays,
            zone=_zone(str(data.get("timezone") or "Asia/Ho_Chi_Minh")),
            day_names=tuple(str(n) for n in data.get("day_names") or ()),
            buttons=tuple(
                {"title": str(b["title"]), "payload": str(b["payload"])} for b in data.get("buttons") or []
            ),
        )

    def local(self, moment: datetime) -> datetime:
        """A moment in the office's time zone."""
        return moment.astimezone(self.zone)

    def is_working_day(self, day: date) -> bool:
        """A working weekday that is not a holiday."""
        return day.isoweekday() in self.days and day not in self.holidays

    def is_open(self, moment: datetime) -> bool:
        """Staff are on duty at this moment."""
        now = self.local(moment)
        if not self.is_working_day(now.date()):
            return False
        return any(start <= now.time() < end for start, end in self.periods)

    def next_open(self, moment: datetime) -> datetime | None:
        """The next start of a working period after `moment` (None if none within a year)."""
        now = self.local(moment)
        for offset in range(0, 370):
            day = now.date() + timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            for start, _ in sorted(self.periods):
                opening = datetime.combine(day, start, tzinfo=self.zone)
                if opening > now:
                    return opening
        return None

    def day_name(self, day: date) -> str:
        """The day's name as written in messages ("thứ Hai"), or its date when no names are set."""
        names = self.day_names
        return names[day.weekday()] if len(names) == 7 else day.strftime("%d/%m")

    def describe(self) -> dict[str, str]:
        """Values for the responses: working days ("thứ Hai – thứ Sáu") and periods ("07:00–11:30, 13:00–17:00")."""
        days = sorted(self.days)
        names = [self.day_name(date(2024, 1, d)) for d in days]  # 2024-01-01 was a Monday
        contiguous = len(days) > 2 and days == list(range(days[0], days[-1] + 1))
        text = f"{names[0]} – {names[-1]}" if contiguous else ", ".join(names)
        hours = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in self.periods)
        return {"office_days": text, "office_hours": hours}

    def opening_values(self, moment: datetime) -> dict[str, str]:
        """Values for "staff answer from {open_time} {open_day}, {open_date}" (empty when unknown)."""
        opening = self.next_open(moment)
        if opening is None:
            return {"open_time": "", "open_day": "", "open_date": ""}
        return {
            "open_time": f"{opening:%H:%M}",
            "open_day": self.day_name(opening.date()),
            "open_date": f"{opening:%d/%m/%Y}",
        }
