"""Writes of the dashboard area: the KPI pre-aggregates of a closed month (called by the monthly
close and by ``cakupan kpi refresh``) and the worklist's contact action log.

Both are set-based or single-row and audited; definitions of every figure: docs/dashboard.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, bindparam, delete, select, text
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dashboard.models import (
    CODE,
    CONTACT_OUTCOMES,
    GRAIN_BRANCH,
    GRAIN_DIMENSIONS,
    GRAIN_FULL,
    GRAIN_LEAGUE,
    GRAIN_OCCUPATION,
    GRAIN_SEGMENT,
    ContactAction,
    KpiMonthly,
)
from cakupan.dashboard.queries import participant_row_scope
from cakupan.dates import Clock, Month, SystemClock, parse_date
from cakupan.db import is_postgres
from cakupan.errors import CakupanError, FieldProblem, forbidden, not_found
from cakupan.i18n import t
from cakupan.registry.close_models import MonthClose
from cakupan.registry.models import Participant

__all__ = ["ContactRecorded", "record_contact", "refresh_kpis", "refresh_kpis_in_close"]

#: Oldest cohort age kept (retention is reported at months 1, 3, 6 and 12).
MAX_AGE = 12

_DIMENSIONS = "branch_code, partner_code, agent_code, league_partner, channel, occupation, programs"
_ALL_DIMENSIONS = (
    "branch_code",
    "partner_code",
    "agent_code",
    "league_partner",
    "channel",
    "occupation",
    "programs",
)
_MONTHLY_MEASURES = (
    "registrations",
    "reacquired",
    "closed_by_system",
    "pending",
    "active",
    "arrears",
    "closed",
    "contributions",
    "payments",
)
_COHORT_MEASURES = ("members", "paying", "first_paid")


def _rollup(table: str, period: str, measures: tuple[str, ...], grain: int) -> str:
    """INSERT the ``grain`` rows of one period from the full-grain rows just written."""
    kept = GRAIN_DIMENSIONS[grain]
    period_columns = "cohort_month, age" if table == "kpi_cohort" else "month"
    dims = ", ".join(d if d in kept else "NULL" for d in _ALL_DIMENSIONS)
    groups = ", ".join([period_columns, *(d for d in _ALL_DIMENSIONS if d in kept)])
    sums = ", ".join(f"SUM({m})" for m in measures)
    return (
        f"INSERT INTO {table} (grain, {period_columns}, {', '.join(_ALL_DIMENSIONS)},"
        f" {', '.join(measures)})"
        f" SELECT {grain}, {period_columns}, {dims}, {sums} FROM {table}"
        f" WHERE grain = {GRAIN_FULL} AND {period} GROUP BY {groups}"
    )


# The hook reads each participant of the close once: one grouped pass over the month's snapshot
# (joined to the episode, the participant and the month's transition) into ``kpi_base``, grouped
# by the episode's start month and the six stored dimensions; the monthly statuses, transitions
# and registrations and the cohorts of the last 13 months are then sums over those groups (a few
# hundred thousand rows at most), and the league partner (a function of partner and agent) is
# joined to the grouped rows only. Payments are their own small pass (the month's payments).
_DIMS6 = "branch_code, partner_code, agent_code, channel, occupation, programs"
_LEAGUE_OF = "COALESCE(g.partner_code, ap.parent_code)"
_G_DIMS = (
    "g.branch_code, g.partner_code, g.agent_code, " + _LEAGUE_OF + ", g.channel, g.occupation,"
    " g.programs"
)

_BASE_TABLE = f"""
CREATE TEMPORARY TABLE kpi_base (
    start_month INTEGER, branch_code VARCHAR({CODE}), partner_code VARCHAR({CODE}),
    agent_code VARCHAR({CODE}), channel VARCHAR(12), occupation VARCHAR({CODE}),
    programs VARCHAR(12), members INTEGER, registrations INTEGER, reacquired INTEGER,
    closed_by_system INTEGER, pending INTEGER, active INTEGER, arrears INTEGER,
    closed INTEGER, first_paid INTEGER, replaced INTEGER
)
"""

# In-force episodes at the month end (the snapshot), grouped. ``first_paid``: anything of the
# episode paid by the month end (its paid-through month is set).
_BASE = """
INSERT INTO kpi_base
SELECT m.start_month, p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation,
       p.programs, COUNT(*),
       SUM(CASE WHEN m.start_month = :x AND m.episode_no = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.kind = 'reacquired' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.kind = 'closed_by_system' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.status = 'pending' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.status = 'active' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.status = 'arrears' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.status = 'closed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.paid_through_month IS NOT NULL THEN 1 ELSE 0 END),
       0
FROM status_snapshot s
JOIN membership m ON m.id = s.membership_id
JOIN participant p ON p.id = s.participant_id
LEFT JOIN status_transition t
       ON t.month = :x AND t.participant_id = s.participant_id
      AND t.membership_id = s.membership_id
      AND t.kind IN ('reacquired', 'closed_by_system')
WHERE s.month = :x
GROUP BY m.start_month, p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation,
         p.programs
"""

# Closures of an episode that is no longer the one in force at the month end: closed by the
# system and re-acquired in the same month (issue 19, defect 4). The close records both
# transitions, but the snapshot holds the new episode only, so _BASE sees the re-acquisition
# alone. The closure counts with its own episode's dimensions (as its drill-down lists it) and
# with no cohort (start_month NULL: it is not a member of any cohort row, which _BASE counts).
_CLOSED_REPLACED = """
INSERT INTO kpi_base
SELECT NULL, p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation, p.programs,
       0, 0, 0, COUNT(*), 0, 0, 0, 0, 0, 0
FROM status_transition t
JOIN membership m ON m.id = t.membership_id
JOIN participant p ON p.id = t.participant_id
JOIN status_snapshot s ON s.month = :x AND s.participant_id = t.participant_id
WHERE t.month = :x AND t.kind = 'closed_by_system' AND s.membership_id <> t.membership_id
GROUP BY p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation, p.programs
"""

# Episodes of the last 13 cohorts no longer in force at the month end (a later episode started:
# only a closed episode is replaced, after a payment, D-4): members, never paying, first paid.
_REPLACED = f"""
INSERT INTO kpi_base
SELECT m.start_month, p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation,
       p.programs, COUNT(*), 0, 0, 0, 0, 0, 0, 0, COUNT(*), 1
FROM status_snapshot s
JOIN membership m ON m.participant_id = s.participant_id AND m.episode_no < s.episode_no
JOIN participant p ON p.id = s.participant_id
WHERE s.month = :x AND s.episode_no > 1 AND m.start_month BETWEEN :x - {MAX_AGE} AND :x
GROUP BY m.start_month, p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation,
         p.programs
"""

# One row per dimensions of the month: statuses, transitions and registrations from kpi_base
# (void episodes count nowhere here), contributions from payments paid in the month and not
# reversed by its last day.
_MONTHLY = f"""
INSERT INTO kpi_monthly (grain, month, {_DIMENSIONS}, registrations, reacquired,
                         closed_by_system, pending, active, arrears, closed, contributions, payments)
SELECT {GRAIN_FULL}, :x, {_G_DIMS}, SUM(g.registrations), SUM(g.reacquired),
       SUM(g.closed_by_system), SUM(g.pending), SUM(g.active), SUM(g.arrears), SUM(g.closed),
       SUM(g.contributions), SUM(g.payments)
FROM (
    SELECT {_DIMS6}, registrations, reacquired, closed_by_system, pending, active, arrears,
           closed, 0 AS contributions, 0 AS payments
    FROM kpi_base
    WHERE replaced = 0
      AND registrations + reacquired + closed_by_system + pending + active + arrears + closed > 0
    UNION ALL
    SELECT p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation, p.programs,
           0, 0, 0, 0, 0, 0, 0, SUM(pay.amount), COUNT(*)
    FROM payment pay
    JOIN membership m ON m.id = pay.membership_id
    JOIN participant p ON p.id = pay.participant_id
    LEFT JOIN payment_reversal r ON r.payment_id = pay.id
    WHERE pay.paid_on BETWEEN :first AND :last AND (r.id IS NULL OR r.reversed_on > :last)
    GROUP BY p.branch_code, m.partner_code, m.agent_code, m.channel, p.occupation, p.programs
) g
LEFT JOIN partner ap ON ap.code = g.agent_code
GROUP BY {_G_DIMS}
"""

# The cohorts of the last 13 months seen at this close (age = this month - cohort month): the
# episode is "paying" when the snapshot shows it active (this month is covered), and "first paid"
# when anything of it was paid by the month end (or a later episode replaced it).
_COHORT = f"""
INSERT INTO kpi_cohort (grain, cohort_month, age, {_DIMENSIONS}, members, paying, first_paid)
SELECT {GRAIN_FULL}, g.start_month, :x - g.start_month, {_G_DIMS}, SUM(g.members),
       SUM(g.active), SUM(g.first_paid)
FROM kpi_base g
LEFT JOIN partner ap ON ap.code = g.agent_code
WHERE g.start_month BETWEEN :x - {MAX_AGE} AND :x
GROUP BY g.start_month, {_G_DIMS}
"""


def refresh_kpis_in_close(session: Session, month: Month) -> dict[str, int]:
    """Rewrite the KPI pre-aggregates of ``month`` from its close (``status_snapshot`` and
    ``status_transition`` of that month must be written): the close calls this in its own
    transaction and audit. Set-based and incremental: one grouped pass over the month's
    snapshot, one over its payments, then sums over the grouped rows; returns the row counts."""
    x = month.index
    session.execute(delete(KpiMonthly).where(KpiMonthly.month == month))
    _run(
        session,
        f"DELETE FROM kpi_cohort WHERE cohort_month BETWEEN :x - {MAX_AGE} AND :x"
        " AND cohort_month + age = :x",
        x=x,
    )
    postgres = is_postgres(session)
    if postgres:
        # The month's snapshot was just written (the first close of a month): the statistics
        # still say it has no rows, and a nested loop over a million rows would follow. These
        # statements read whole months: hash joins, whatever the estimates ...
        nestloop = session.execute(text("SELECT current_setting('enable_nestloop')")).scalar_one()
        session.execute(text("SET LOCAL enable_nestloop = off"))
        # ... and statistics that know the month's rows (ANALYZE samples them, this
        # transaction's own rows included): without them the planner sorted a million rows
        # to group them and built the same hash table once per parallel worker.
        session.execute(text("ANALYZE status_snapshot, status_transition"))
    _run(session, "DROP TABLE IF EXISTS kpi_base")
    _run(session, _BASE_TABLE)
    _run(session, _BASE, x=x)
    _run(session, _REPLACED, x=x)
    _run(session, _CLOSED_REPLACED, x=x)
    _run(session, _MONTHLY, x=x, first=month.first_day, last=month.last_day)
    _run(session, _COHORT, x=x)
    _run(session, "DROP TABLE kpi_base")
    if postgres:
        session.execute(text(f"SET LOCAL enable_nestloop = {'on' if nestloop == 'on' else 'off'}"))
    cohort_period = f"cohort_month BETWEEN :x - {MAX_AGE} AND :x AND cohort_month + age = :x"
    for grain in (GRAIN_BRANCH, GRAIN_SEGMENT, GRAIN_LEAGUE, GRAIN_OCCUPATION):
        _run(session, _rollup("kpi_monthly", "month = :x", _MONTHLY_MEASURES, grain), x=x)
        _run(session, _rollup("kpi_cohort", cohort_period, _COHORT_MEASURES, grain), x=x)
    monthly = session.execute(
        text(f"SELECT COUNT(*) FROM kpi_monthly WHERE grain = {GRAIN_FULL} AND month = :x"),
        {"x": x},
    ).scalar_one()
    cohorts = session.execute(
        text(
            f"SELECT COUNT(*) FROM kpi_cohort WHERE grain = {GRAIN_FULL}"
            f" AND cohort_month BETWEEN :x - {MAX_AGE} AND :x AND cohort_month + age = :x"
        ),
        {"x": x},
    ).scalar_one()
    return {"kpi_monthly_rows": int(monthly), "kpi_cohort_rows": int(cohorts)}


def refresh_kpis(session: Session, actor: Actor, month: Month) -> dict[str, int]:
    """Rewrite the KPI pre-aggregates of an already closed ``month`` (``cakupan kpi refresh``),
    audited as ``dashboard.kpi_refresh``. Raises NOT_FOUND when the month was never closed."""
    if session.get(MonthClose, month) is None:
        raise not_found(
            t(
                f"Bulan {month} belum ditutup: jalankan 'cakupan close --month {month}' dulu",
                f"Month {month} is not closed: run 'cakupan close --month {month}' first",
            ),
            code="dashboard.month_not_closed",
        )
    if is_postgres(session):
        # the close does the same: sort and hash the month's rows in memory
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    counts = refresh_kpis_in_close(session, month)
    record_audit(session, actor, "dashboard.kpi_refresh", "kpi_monthly", str(month), after=counts)
    return counts


def _run(session: Session, sql: str, **params: int | date) -> None:
    statement = text(sql).bindparams(
        *(
            bindparam(name, type_=Date() if isinstance(value, date) else Integer())
            for name, value in params.items()
        )
    )
    session.execute(statement, params)


#: Roles that work the arrears / re-acquisition worklist and log contacts.
CONTACT_ROLES = frozenset(
    {Role.ADMIN, Role.KABID, Role.ARK, Role.AR, Role.PAP, Role.PARTNER, Role.AGENT, Role.SYSTEM}
)


@dataclass(frozen=True)
class ContactRecorded:
    """A logged contact (the API's response)."""

    id: int
    participant_id: int
    outcome: str
    reason: str | None
    promised_on: date | None
    note: str | None
    follow_up_on: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "participant_id": self.participant_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "promised_on": None if self.promised_on is None else self.promised_on.isoformat(),
            "note": self.note,
            "follow_up_on": None if self.follow_up_on is None else self.follow_up_on.isoformat(),
        }


def record_contact(
    session: Session,
    actor: Actor,
    participant_id: int,
    *,
    outcome: str,
    reason: str | None = None,
    promised_on: str | date | None = None,
    note: str | None = None,
    clock: Clock | None = None,
    follow_up_on: date | None = None,
    outcomes: tuple[str, ...] = CONTACT_OUTCOMES,
) -> ContactRecorded:
    """Log one contact with a participant within the actor's scope (called, visited, promised to
    pay on a date, refused with a reason) and audit it. Raises FORBIDDEN for a role that does not
    work the worklist, NOT_FOUND outside the scope, INVALID naming each bad field."""
    if actor.role not in CONTACT_ROLES:
        raise forbidden()
    visible = session.scalar(
        select(Participant.id).where(
            Participant.id == participant_id,
            participant_row_scope(session, actor),
        )
    )
    if visible is None:
        raise not_found(
            t(
                f"Peserta {participant_id} tidak ditemukan",
                f"Participant {participant_id} not found",
            ),
            code="dashboard.participant_not_found",
        )
    problems: list[FieldProblem] = []
    outcome = (outcome or "").strip()
    if outcome not in outcomes:
        problems.append(
            FieldProblem(
                field="outcome",
                message=t(
                    f"harus salah satu dari {', '.join(outcomes)}, bukan {outcome!r}",
                    f"must be one of {', '.join(outcomes)}, got {outcome!r}",
                ),
            )
        )
    reason = (reason or "").strip() or None
    note = (note or "").strip() or None
    if outcome == "refused" and reason is None:
        problems.append(
            FieldProblem(
                field="reason",
                message=t("alasan penolakan wajib diisi", "a reason is required for a refusal"),
            )
        )
    promised: date | None = None
    if isinstance(promised_on, date):
        promised = promised_on
    elif promised_on and promised_on.strip():
        try:
            promised = parse_date(promised_on.strip())
        except ValueError:
            problems.append(
                FieldProblem(
                    field="promised_on",
                    message=t(
                        f"tanggal YYYY-MM-DD, bukan {promised_on!r}",
                        f"a date YYYY-MM-DD, got {promised_on!r}",
                    ),
                )
            )
    if outcome == "promised_to_pay" and promised is None and not problems:
        problems.append(
            FieldProblem(
                field="promised_on",
                message=t(
                    "tanggal janji bayar wajib diisi", "the promised payment date is required"
                ),
            )
        )
    for name, value in (("reason", reason), ("note", note)):
        if value is not None and len(value) > 400:
            problems.append(
                FieldProblem(
                    field=name,
                    message=t(
                        f"paling banyak 400 karakter, ada {len(value)}",
                        f"at most 400 characters, got {len(value)}",
                    ),
                )
            )
    if problems:
        raise CakupanError(
            title=t("Catatan kontak tidak valid", "Invalid contact record"),
            problems=problems,
            code="dashboard.invalid_contact",
        )
    now = (clock or SystemClock()).now()
    row = ContactAction(
        participant_id=participant_id,
        outcome=outcome,
        reason=reason,
        promised_on=promised,
        note=note,
        at=now,
        actor=actor.name,
        follow_up_on=follow_up_on,
    )
    session.add(row)
    session.flush()
    recorded = ContactRecorded(
        row.id, participant_id, outcome, reason, promised, note, follow_up_on
    )
    record_audit(
        session,
        actor,
        "dashboard.contact",
        "participant",
        participant_id,
        after=recorded.as_json(),
        at=now,
    )
    return recorded
