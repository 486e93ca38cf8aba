"""The clock module: China dates, conversions and the working-day calendar (with 调休)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from marketplace import clock


def test_china_today_differs_from_utc_date_late_in_the_utc_day():
    with clock.frozen(datetime(2026, 12, 4, 15, 30)):  # 23:30 in China
        assert clock.china_today() == date(2026, 12, 4)
    with clock.frozen(datetime(2026, 12, 4, 16, 30)):  # 00:30 the next day in China
        assert clock.china_today() == date(2026, 12, 5)
        assert clock.utc_now() == datetime(2026, 12, 4, 16, 30)


def test_frozen_accepts_aware_datetimes_and_restores():
    at = datetime(2026, 10, 1, 8, 0, tzinfo=clock.CHINA_TZ)
    with clock.frozen(at):
        assert clock.utc_now() == datetime(2026, 10, 1, 0, 0)
        assert clock.timestamp() == datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp()
    assert clock.utc_now() != datetime(2026, 10, 1, 0, 0)


def test_conversions_round_trip():
    stored = datetime(2026, 9, 30, 20, 0)  # naive UTC
    assert clock.to_china(stored).date() == date(2026, 10, 1)
    assert clock.china_date_of(stored) == date(2026, 10, 1)
    assert clock.china_local_to_utc(datetime(2026, 10, 1, 4, 0)) == stored
    assert clock.china_day_start_utc(date(2026, 10, 1)) == datetime(2026, 9, 30, 16, 0)


def test_national_day_2026_and_its_make_up_saturday():
    assert clock.is_working_day(date(2026, 9, 30))
    for d in range(1, 8):
        assert not clock.is_working_day(date(2026, 10, d))
    assert clock.is_working_day(date(2026, 10, 10))  # Saturday 调休
    assert not clock.is_working_day(date(2026, 10, 11))  # Sunday


def test_add_working_days_skips_holidays_and_counts_make_up_days():
    # Filed Monday 2026-09-28: 9-29, 9-30, 10-8, 10-9, 10-10 (Sat, 调休), 10-12, 10-13.
    assert clock.add_working_days(date(2026, 9, 28), 7) == date(2026, 10, 13)
    assert clock.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)
    assert clock.add_working_days(date(2026, 9, 28), 0) == date(2026, 9, 28)
    assert clock.working_days_between(date(2026, 9, 28), date(2026, 10, 13)) == 7
    assert clock.working_days_between(date(2026, 10, 13), date(2026, 9, 28)) == 0


def test_year_without_holiday_data_falls_back_to_weekdays():
    assert clock.is_working_day(date(2099, 1, 5))  # a Monday
    assert not clock.is_working_day(date(2099, 1, 4))  # a Sunday
