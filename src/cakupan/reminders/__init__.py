"""Reminders (issue 16): rules as dated data, a set-based daily plan, the outbox and its
gateway (WhatsApp, SMS), consent and opt-out, experiments (docs/reminders.md)."""

from cakupan.reminders.queries import reminder_as_json, reminders_of

__all__ = ["reminder_as_json", "reminders_of"]
