"""Reminders (issue 16): rules as dated data, a set-based daily plan, the outbox and its
gateway (WhatsApp, SMS), consent and opt-out, experiments (docs/reminders.md)."""

from cakupan.reminders.queries import (
    LastReminder,
    last_reminders,
    reminder_as_json,
    reminder_history,
    reminders_of,
)

__all__ = [
    "LastReminder",
    "last_reminders",
    "reminder_as_json",
    "reminder_history",
    "reminders_of",
]
