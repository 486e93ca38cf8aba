"""The one home of time: UTC now, China now and today, conversions, Chinese working days.

Why one module:
- Certificate validity, 公示 periods, complaint deadlines and monthly reports all depend on
  "today", and "today" means the date in China (UTC+8), not the server's local date. Code that
  asked ``date.today()`` on a UTC server disagreed with code that asked China time for eight
  hours a day.
- Tests can pin the clock (``frozen``) and every caller sees the same instant.

Conventions: timestamp columns store naive UTC (``utc_now()``); dates that users read (validity,
deadlines) are China dates (``china_today()``). Working days follow the State Council's statutory
holidays and 调休 (make-up working weekends) from the maintained ``chinese-calendar`` package.
Periods are counted the way Chinese law counts them (民法典 第二百零一条): the starting day does
not count, the period starts on the next day.
"""
from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

log = logging.getLogger(__name__)

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # China has no daylight saving time

_frozen_utc: datetime | None = None  # set only by ``frozen`` (tests)


# ------------------------------------------------------------------ instants


def utc_now() -> datetime:
    """Naive UTC now: what every timestamp column stores."""
    if _frozen_utc is not None:
        return _frozen_utc
    return datetime.now(timezone.utc).replace(tzinfo=None)


def china_now() -> datetime:
    """Aware China-time now (for display and for deciding which China day it is)."""
    return to_china(utc_now())


def china_today() -> date:
    """Today's date in China: the date that decides validity, deadlines and due dates."""
    return china_now().date()


def timestamp() -> float:
    """Seconds since the epoch (for cache ages and file names); follows ``frozen`` too."""
    if _frozen_utc is not None:
        return _frozen_utc.replace(tzinfo=timezone.utc).timestamp()
    return time.time()


def machine_time() -> float:
    """Seconds since the epoch, never frozen: orders events between the processes of one machine
    (when a page was rendered against when a change was seen, ``page_changes``), which a test's
    frozen clock must not make equal."""
    return time.time()


def monotonic() -> float:
    """A clock for measuring intervals inside one process; never goes backwards."""
    return time.monotonic()


@contextmanager
def frozen(at: datetime):
    """Pin ``utc_now`` (and everything derived from it) to ``at`` for a test.

    ``at`` may be naive UTC or aware (any zone); the previous value is restored on exit.
    """
    global _frozen_utc
    previous = _frozen_utc
    _frozen_utc = to_utc(at) if at.tzinfo else at
    try:
        yield
    finally:
        _frozen_utc = previous


# ------------------------------------------------------------------ conversions


def to_china(value: datetime) -> datetime:
    """A stored naive-UTC (or any aware) datetime as an aware China-time datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CHINA_TZ)


def to_utc(value: datetime) -> datetime:
    """An aware datetime as naive UTC, ready to store."""
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def china_wall_time(value: datetime) -> datetime:
    """A stored naive-UTC datetime as naive China wall time (what a datetime-local field shows)."""
    return to_china(value).replace(tzinfo=None)


def china_local_to_utc(value: datetime) -> datetime:
    """A naive datetime typed in China time (a form field) as naive UTC."""
    return to_utc(value.replace(tzinfo=CHINA_TZ))


def china_day_start_utc(day: date) -> datetime:
    """00:00 China time on ``day``, as naive UTC (the start of that China day in the database)."""
    return china_local_to_utc(datetime(day.year, day.month, day.day))


def china_date_of(value: datetime) -> date:
    """The China date of a stored naive-UTC timestamp."""
    return to_china(value).date()


# ------------------------------------------------------------------ working days


def is_working_day(day: date) -> bool:
    """True on a Chinese working day: Monday–Friday except statutory holidays, plus 调休 weekends.

    For a year the State Council has not published yet (``chinese-calendar`` raises for it), fall
    back to Monday–Friday and log it once per year, so a deadline is never refused outright.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_no_holiday_data(day.year)
        return day.weekday() < 5


@functools.cache
def _warn_no_holiday_data(year: int) -> None:
    """Logs the missing year once per process, not once per day counted."""
    log.warning("no holiday data for %s; counting Monday-Friday as working days", year)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count).

    ``add_working_days(filed, 7)`` is the last day of a "within 7 working days" period.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February): anniversaries."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
