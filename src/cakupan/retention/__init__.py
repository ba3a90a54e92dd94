"""Retention workbench (issue 15): the four worklists, contact outcomes and follow-ups, owners,
the lapse-risk model with its backtest, and what contacting helped. See ``docs/retention.md``."""
