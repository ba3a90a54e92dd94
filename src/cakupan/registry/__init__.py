"""Participant registry, payments ledger and membership status (issue 4)."""
