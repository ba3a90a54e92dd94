"""The reminder rules as dated data (``policy.toml``): which reminders on which days, quiet
hours, the daily cap, attempts and back-off. Pure: no database, no clock."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from importlib import resources

__all__ = ["ReminderPolicy", "policy_on", "shipped_policies"]


@dataclass(frozen=True)
class ReminderPolicy:
    """One version of the reminder rules, in force from ``valid_from``."""

    valid_from: date
    source: str
    due_before_days: tuple[int, ...]
    unpaid_code_days: tuple[int, ...]
    arrears_months: tuple[int, ...]
    arrears_day: int
    reacquire_day: int
    send_from: time
    send_until: time
    daily_cap: int
    max_attempts: int
    backoff_seconds: int
    stale_after_days: int
    default_channel: str


def _policy(raw: dict[str, object]) -> ReminderPolicy:
    def ints(name: str) -> tuple[int, ...]:
        value = raw[name]
        assert isinstance(value, list)
        return tuple(int(v) for v in value)

    return ReminderPolicy(
        valid_from=date.fromisoformat(str(raw["valid_from"])),
        source=str(raw["source"]),
        due_before_days=ints("due_before_days"),
        unpaid_code_days=ints("unpaid_code_days"),
        arrears_months=ints("arrears_months"),
        arrears_day=int(str(raw["arrears_day"])),
        reacquire_day=int(str(raw["reacquire_day"])),
        send_from=time.fromisoformat(str(raw["send_from"])),
        send_until=time.fromisoformat(str(raw["send_until"])),
        daily_cap=int(str(raw["daily_cap"])),
        max_attempts=int(str(raw["max_attempts"])),
        backoff_seconds=int(str(raw["backoff_seconds"])),
        stale_after_days=int(str(raw["stale_after_days"])),
        default_channel=str(raw["default_channel"]),
    )


@cache
def shipped_policies() -> tuple[ReminderPolicy, ...]:
    """Every shipped version, oldest first."""
    text = resources.files("cakupan.reminders").joinpath("policy.toml").read_text("utf-8")
    versions = [_policy(v) for v in tomllib.loads(text)["version"]]
    return tuple(sorted(versions, key=lambda p: p.valid_from))


def policy_on(day: date, versions: tuple[ReminderPolicy, ...] | None = None) -> ReminderPolicy:
    """The version in force on ``day`` (the earliest one for days before every version)."""
    chosen = (versions or shipped_policies())[0]
    for version in versions or shipped_policies():
        if version.valid_from <= day:
            chosen = version
    return chosen
