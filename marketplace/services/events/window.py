"""Start and end times typed in China time, for events and offers alike."""
from __future__ import annotations

from datetime import datetime

from ... import clock


def typed_window(data: dict, errors: dict) -> dict:
    """``starts_at`` / ``ends_at`` typed in China time -> naive UTC (to the minute); a missing or
    unreadable one becomes an error under its key."""
    out = {}
    for key, label in (("starts_at", "开始时间"), ("ends_at", "结束时间")):
        value = data.get(key)
        if not isinstance(value, datetime):
            errors[key] = f"请填写有效的{label}（北京时间）。"
        else:
            out[key] = clock.china_local_to_utc(value.replace(second=0, microsecond=0))
    return out
