"""The monthly lifecycle close: every participant's D-3 status on the last day of a month
(``status_snapshot``), the month's lifecycle transitions (``status_transition``) and the counts
(``month_close``).

Everything is computed from the ledger with a handful of set-based statements (no loop over
participants), as of two instants: the last day of the month (``D1``) and the last day of the
month before (``D0``). A payment counts as of an instant when it was paid on or before it and not
reversed on or before it, so late payments and later reversals never change a past month's figures
unless that month is closed again. Re-running a close replaces the month's derived rows in one
transaction; the audit trail keeps every run. Definitions: ``docs/lifecycle.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, bindparam, text
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.dates import Clock, Month, SystemClock
from cakupan.db import is_postgres
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.registry.close_models import STATUSES, TRANSITION_KINDS, MonthClose, MonthReclose

__all__ = ["CloseResult", "close_month", "month_close_result"]

#: Namespace of the PostgreSQL advisory lock that serialises closes of the same month.
_ADVISORY_LOCK_BASE = 0x636C6F73_00000000  # "clos" << 32


@dataclass(frozen=True)
class CloseResult:
    """The figures of one closed month (the ``--json`` document of ``cakupan close``)."""

    month: Month
    participants: int
    statuses: dict[str, int]
    transitions: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "participants": self.participants,
            "statuses": dict(self.statuses),
            "transitions": dict(self.transitions),
        }

    @classmethod
    def from_counts(cls, month: Month, counts: dict[str, Any]) -> CloseResult:
        return cls(
            month=month,
            participants=int(counts["participants"]),
            statuses={key: int(counts["statuses"].get(key, 0)) for key in STATUSES},
            transitions={key: int(counts["transitions"].get(key, 0)) for key in TRANSITION_KINDS},
        )


# Per membership: the last covered month and the number of months paid, as of D1 and as of D0.
# A payment covers first_month .. first_month + months - 1 (D-2), so the payment rows suffice;
# only reversed payments need the reversal's date.
_PAID = """
SELECT p.membership_id AS membership_id,
       MAX(CASE WHEN r.reversed_on IS NULL OR r.reversed_on > :d1
                THEN p.first_month + p.months - 1 END) AS through1,
       SUM(CASE WHEN r.reversed_on IS NULL OR r.reversed_on > :d1
                THEN p.months ELSE 0 END) AS paid1,
       MAX(CASE WHEN p.paid_on <= :d0 AND (r.reversed_on IS NULL OR r.reversed_on > :d0)
                THEN p.first_month + p.months - 1 END) AS through0,
       SUM(CASE WHEN p.paid_on <= :d0 AND (r.reversed_on IS NULL OR r.reversed_on > :d0)
                THEN p.months ELSE 0 END) AS paid0
FROM payment p
LEFT JOIN payment_reversal r ON r.payment_id = p.id
WHERE p.paid_on <= :d1
GROUP BY p.membership_id
"""


def _status_sql(month: str, start: str, through: str) -> str:
    """D-3 as a SQL expression for the month index ``month`` of an episode starting ``start``
    whose paid-through month is ``through`` (NULL: nothing paid)."""
    return (
        f"CASE WHEN {through} IS NULL THEN"
        f" CASE WHEN {month} >= {start} + 3 THEN 'void' ELSE 'pending' END"
        f" WHEN {month} <= {through} THEN 'active'"
        f" WHEN {month} <= {through} + 3 THEN 'arrears'"
        " ELSE 'closed' END"
    )


# Per participant registered by D1: the episode in force (the latest started by then) and its
# status as of D1 (suffix 1) and as of D0 (suffix 0; NULL when not yet registered). An episode is
# in force in a month when it started by then and the next episode had not started yet.
_STATE = f"""
SELECT g.participant_id, g.membership1, g.e1, g.through1, COALESCE(g.paid1, 0) AS paid1,
       {_status_sql(":x", "g.start1", "g.through1")} AS status1,
       g.e0, g.membership0,
       CASE WHEN g.e0 IS NULL THEN NULL
            ELSE {_status_sql(":x0", "g.start0", "g.through0")} END AS status0
FROM (
    SELECT m.participant_id,
           MAX(CASE WHEN m.f1 = 1 THEN m.id END) AS membership1,
           MAX(CASE WHEN m.f1 = 1 THEN m.episode_no END) AS e1,
           MAX(CASE WHEN m.f1 = 1 THEN m.start_month END) AS start1,
           MAX(CASE WHEN m.f1 = 1 THEN p.through1 END) AS through1,
           MAX(CASE WHEN m.f1 = 1 THEN p.paid1 END) AS paid1,
           MAX(CASE WHEN m.f0 = 1 THEN m.id END) AS membership0,
           MAX(CASE WHEN m.f0 = 1 THEN m.episode_no END) AS e0,
           MAX(CASE WHEN m.f0 = 1 THEN m.start_month END) AS start0,
           MAX(CASE WHEN m.f0 = 1 THEN p.through0 END) AS through0
    FROM (
        SELECT id, participant_id, episode_no, start_month,
               CASE WHEN next_start IS NULL OR next_start > :x THEN 1 ELSE 0 END AS f1,
               CASE WHEN start_month <= :x0 AND (next_start IS NULL OR next_start > :x0)
                    THEN 1 ELSE 0 END AS f0
        FROM (
            SELECT id, participant_id, episode_no, start_month,
                   LEAD(start_month) OVER (PARTITION BY participant_id ORDER BY episode_no)
                       AS next_start
            FROM membership
            WHERE start_month <= :x
        ) w
    ) m
    LEFT JOIN {{paid}} p ON p.membership_id = m.id
    WHERE m.f1 = 1 OR m.f0 = 1
    GROUP BY m.participant_id
) g
"""

_PAYING = "('active', 'arrears')"
_SAME_EPISODE_BEFORE = "(e0 IS NOT NULL AND e0 = e1)"

# One transition at most per participant and month: the cases exclude each other by status1.
_TRANSITION_KIND = f"""
CASE
  WHEN status1 IN {_PAYING} AND NOT ({_SAME_EPISODE_BEFORE} AND status0 IN {_PAYING})
    THEN CASE WHEN e1 = 1 THEN 'new' ELSE 'reacquired' END
  WHEN status1 = 'arrears' AND {_SAME_EPISODE_BEFORE} AND status0 = 'active'
    THEN 'lapsed_to_arrears'
  WHEN status1 = 'closed' AND {_SAME_EPISODE_BEFORE} AND status0 IN {_PAYING}
    THEN 'closed_by_system'
  WHEN status1 = 'void' AND NOT ({_SAME_EPISODE_BEFORE} AND status0 = 'void')
    THEN 'voided'
END
"""

# The episode in force at the end of X-1 was paying and another episode is in force at the end of
# X: it was closed by the system in X (a new episode opens only on a closed or void one, D-4), even
# though the participant is re-acquired (or registered again) in the same month. That closure is
# a second transition of the month, recorded against the old episode.
_CLOSED_AND_REPLACED = f"(e0 IS NOT NULL AND e0 <> e1 AND status0 IN {_PAYING})"


def close_month(
    session: Session, actor: Actor, month: Month, *, clock: Clock | None = None
) -> CloseResult:
    """Record the snapshot, transitions and counts of ``month`` from the ledger, replacing any
    earlier close of the same month, and audit it. Runs in the caller's transaction (the caller
    commits); set-based: the cost is a few scans of the ledger tables, whatever the size."""
    clock = clock or SystemClock()
    if month.index <= Month(1, 1).index:  # the month before it cannot be represented
        raise invalid(
            "month",
            t("bulan {m} di luar jangkauan", "month {m} is out of range").format(m=str(month)),
        )
    postgres = is_postgres(session)
    x, x0 = month.index, (month + -1).index

    if postgres:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_BASE + x}
        )
    previous = session.get(MonthClose, month)
    before = dict(previous.counts) if previous is not None else None
    # This close reads the ledger as it is now: the month is no longer stale (issue 21). Removed
    # before the ledger is read, so a late write committed meanwhile queues the month again.
    late = session.get(MonthReclose, month)
    if late is not None:
        session.delete(late)
        session.flush()

    _execute(session, "DELETE FROM status_transition WHERE month = :x", x=x)
    _execute(session, "DELETE FROM status_snapshot WHERE month = :x", x=x)
    if postgres:
        _write_postgres(session, x, x0, month.last_day, (month + -1).last_day)
    else:
        _write_sqlite(session, x, x0, month.last_day, (month + -1).last_day)
    # The dashboard's KPI pre-aggregates of the month, from the snapshot just written.
    from cakupan.dashboard import refresh_kpis_in_close

    refresh_kpis_in_close(session, month)

    statuses = _counts(session, "status_snapshot", "status", x)
    transitions = _counts(session, "status_transition", "kind", x)
    counts: dict[str, Any] = {
        "participants": sum(statuses.values()),
        "statuses": {key: statuses.get(key, 0) for key in STATUSES},
        "transitions": {key: transitions.get(key, 0) for key in TRANSITION_KINDS},
    }
    closed_at = clock.now()
    if previous is None:
        session.add(MonthClose(month=month, closed_at=closed_at, actor=actor.name, counts=counts))
    else:
        previous.closed_at, previous.actor, previous.counts = closed_at, actor.name, counts
    session.flush()
    record_audit(
        session,
        actor,
        "registry.close_month" if previous is None else "registry.close_month_rerun",
        "month_close",
        str(month),
        before=before,
        after=counts,
        at=closed_at,
    )
    return CloseResult.from_counts(month, counts)


_INSERT_SNAPSHOT = (
    "INSERT INTO status_snapshot"
    " (month, participant_id, membership_id, episode_no, status, paid_through_month, months_paid)"
    " SELECT :x, participant_id, membership1, e1, status1, through1, paid1 FROM {state}"
)
_INSERT_TRANSITIONS = (
    "INSERT INTO status_transition (month, participant_id, kind, membership_id)"
    " SELECT :x, participant_id, kind, membership1"
    f" FROM (SELECT participant_id, membership1, {_TRANSITION_KIND} AS kind FROM {{state}}) t"
    " WHERE kind IS NOT NULL"
    " UNION ALL SELECT :x, participant_id, 'closed_by_system', membership0"
    f" FROM {{state}} WHERE {_CLOSED_AND_REPLACED}"
)


def _write_sqlite(session: Session, x: int, x0: int, d1: date, d0: date) -> None:
    """SQLite: the per-membership aggregate and the per-participant state go through temporary
    tables (the aggregate keyed by membership id, so the join is a rowid lookup)."""
    _execute(session, "DROP TABLE IF EXISTS close_state")
    _execute(session, "DROP TABLE IF EXISTS close_paid")
    _execute(
        session,
        "CREATE TEMPORARY TABLE close_paid (membership_id INTEGER PRIMARY KEY,"
        " through1 INTEGER, paid1 INTEGER, through0 INTEGER, paid0 INTEGER)",
    )
    _execute(session, f"INSERT INTO close_paid {_PAID}", d1=d1, d0=d0)
    _execute(
        session,
        "CREATE TEMPORARY TABLE close_state (participant_id INTEGER, membership1 INTEGER,"
        " e1 INTEGER, through1 INTEGER, paid1 INTEGER, status1 VARCHAR(10), e0 INTEGER,"
        " membership0 INTEGER, status0 VARCHAR(10))",
    )
    _execute(
        session, f"INSERT INTO close_state {_STATE.replace('{paid}', 'close_paid')}", x=x, x0=x0
    )
    _execute(session, _INSERT_SNAPSHOT.format(state="close_state"), x=x)
    _execute(session, _INSERT_TRANSITIONS.format(state="close_state"), x=x)
    _execute(session, "DROP TABLE close_state")
    _execute(session, "DROP TABLE close_paid")


def _write_postgres(session: Session, x: int, x0: int, d1: date, d0: date) -> None:
    """PostgreSQL: one statement; the aggregate and the state are materialised CTEs (in memory,
    hashed) and the snapshot is written by a data-modifying CTE. Temporary tables would go
    through the small temp_buffers to disk."""
    # Big one-off aggregations: hash them in memory, and skip JIT compilation (its start-up cost
    # exceeds its gain for a few full scans).
    _execute(session, "SET LOCAL work_mem = '256MB'")
    _execute(session, "SET LOCAL jit = off")
    snapshot = _INSERT_SNAPSHOT.format(state="state")
    transitions = _INSERT_TRANSITIONS.format(state="state")
    _execute(
        session,
        f"WITH paid AS MATERIALIZED ({_PAID}),"
        f" state AS MATERIALIZED ({_STATE.replace('{paid}', 'paid')}),"
        f" snapshot AS ({snapshot})"
        f" {transitions}",
        x=x,
        x0=x0,
        d1=d1,
        d0=d0,
    )


def month_close_result(session: Session, month: Month) -> CloseResult | None:
    """The recorded figures of a closed month, or None when the month was never closed."""
    row = session.get(MonthClose, month)
    return None if row is None else CloseResult.from_counts(month, row.counts)


def _execute(session: Session, sql: str, **params: int | date) -> None:
    statement = text(sql)
    typed = [
        bindparam(name, type_=Date() if isinstance(value, date) else Integer())
        for name, value in params.items()
    ]
    if typed:
        statement = statement.bindparams(*typed)
    session.execute(statement, params)


def _counts(session: Session, table: str, column: str, x: int) -> dict[str, int]:
    rows = session.execute(
        text(f"SELECT {column}, COUNT(*) FROM {table} WHERE month = :x GROUP BY {column}"),
        {"x": x},
    )
    return {str(key): int(count) for key, count in rows}
