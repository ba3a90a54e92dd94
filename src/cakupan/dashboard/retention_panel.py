"""The dashboard's retention panel (issue 15, "Did it help?"): per closed month of the
dashboard's period, three conversions, scoped and filtered exactly like the dashboard's other
figures (the caller's scope, region, branch, partner and its agents, channel, occupation,
programs; :func:`cakupan.dashboard.queries._dimension_conditions`, aggregates: an ``ar``/``ark``
sees its branch's figures as on the other cards):

- **due -> paid by the 15th**: participants whose episode in force at the end of M-1 was active
  and paid through M-1 exactly (month M due, D-1), and of them those with a payment on that
  episode made from the 1st to the 15th of M and not reversed by the end of M;
- **arrears -> recovered**: participants in arrears at the end of M-1, and of them those active
  on the same episode at the end of M;
- **closed -> re-acquired**: participants closed by the system in the six months before M (the
  ``closed_recent`` list on the 1st of M: paid through M-9..M-4), and of them those re-acquired
  in M (a ``reacquired`` transition of the M close).

Read from the close's status snapshots and transitions (``status_snapshot``,
``status_transition``) and the payments of the month, so a month shows only when it and the
month before it are closed. Definitions also in docs/retention.md.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, case, exists, false, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from cakupan.auth import Actor
from cakupan.dashboard.queries import Filters, _dimension_conditions
from cakupan.dashboard.rules import Ratio
from cakupan.dates import Month
from cakupan.registry.close_models import StatusSnapshot, StatusTransition
from cakupan.registry.models import Membership, Participant, Payment, PaymentReversal
from cakupan.registry.rules import ARREARS_MONTHS
from cakupan.retention.rules import CLOSED_RECENT_MONTHS, DUE_DAY

#: The panel's three conversions, in the order shown.
MEASURES = ("due", "arrears", "closed")


def _int(column: Any) -> Any:
    return type_coerce(column, Integer)


def retention_panel(session: Session, actor: Actor, filters: Filters) -> list[dict[str, Any]]:
    """Per month of ``filters``' period (``first``..``last``, closed months; resolve the period
    first), oldest first: ``{"month": Month, "due": Ratio, "arrears": Ratio, "closed": Ratio}``
    (part of base). Months whose previous month was not closed are left out."""
    if filters.first is None or filters.last is None:
        return []
    before = aliased(StatusSnapshot, name="before")
    after = aliased(StatusSnapshot, name="after")
    first, last = filters.first.index, filters.last.index
    month = _int(before.month) + 1  # the month measured: the one after the snapshot
    conditions = [
        _int(before.month).between(first - 1, last - 1),
        # aggregates: an ar/ark reads its branch's figures, like the dashboard's other cards
        *_dimension_conditions(
            session,
            actor,
            filters,
            branch_code=Participant.branch_code,
            partner_code=Membership.partner_code,
            agent_code=Membership.agent_code,
            channel=Membership.channel,
            occupation=Participant.occupation,
            programs=Participant.programs,
        ),
    ]
    through = _int(before.paid_through_month)
    due = and_(before.status == "active", through == month - 1)
    arrears = before.status == "arrears"
    closed = and_(
        before.status.in_(("arrears", "closed")),
        through.between(month - ARREARS_MONTHS - CLOSED_RECENT_MONTHS, month - ARREARS_MONTHS - 1),
    )
    paid_by_due_day = _paid_by_due_day_condition(before, filters.first, filters.last)
    recovered = and_(after.status == "active", after.membership_id == before.membership_id)
    reacquired = exists().where(
        StatusTransition.participant_id == before.participant_id,
        _int(StatusTransition.month) == month,
        StatusTransition.kind == "reacquired",
    )
    query = (
        select(
            month.label("m"),
            func.sum(case((due, 1), else_=0)).label("due_base"),
            func.sum(case((and_(due, paid_by_due_day), 1), else_=0)).label("due_part"),
            func.sum(case((arrears, 1), else_=0)).label("arrears_base"),
            func.sum(case((and_(arrears, recovered), 1), else_=0)).label("arrears_part"),
            func.sum(case((closed, 1), else_=0)).label("closed_base"),
            func.sum(case((and_(closed, reacquired), 1), else_=0)).label("closed_part"),
        )
        .select_from(before)
        .join(Membership, Membership.id == before.membership_id)
        .join(Participant, Participant.id == before.participant_id)
        .outerjoin(
            after,
            and_(
                after.participant_id == before.participant_id,
                _int(after.month) == _int(before.month) + 1,
            ),
        )
        .where(*conditions, or_(due, arrears, closed))
        .group_by(month)
    )
    found = {int(r.m): r for r in session.execute(query)}
    closed_months = {
        int(m)
        for m in session.scalars(
            select(func.distinct(_int(StatusSnapshot.month))).where(
                _int(StatusSnapshot.month).between(first - 1, last)
            )
        )
    }
    out: list[dict[str, Any]] = []
    for index in range(first, last + 1):
        if index - 1 not in closed_months or index not in closed_months:
            continue
        r = found.get(index)
        out.append(
            {
                "month": Month.from_index(index),
                **{
                    name: Ratio(
                        0 if r is None else int(getattr(r, f"{name}_part") or 0),
                        0 if r is None else int(getattr(r, f"{name}_base") or 0),
                    )
                    for name in MEASURES
                },
            }
        )
    return out


def _paid_by_due_day_condition(before: Any, first: Month, last: Month) -> Any:
    """A payment on the snapshot's episode made from the 1st to the ``DUE_DAY`` of the month
    after the snapshot, not reversed by that month's end: one OR branch per month of the period
    (at most a few dozen), so the dates are plain parameters on both engines."""
    branches = []
    month = first
    while month <= last:
        day = month.first_day.replace(day=DUE_DAY)
        reversed_by_end = exists().where(
            PaymentReversal.payment_id == Payment.id,
            PaymentReversal.reversed_on <= month.last_day,
        )
        branches.append(
            and_(
                _int(before.month) == month.index - 1,
                exists().where(
                    Payment.membership_id == before.membership_id,
                    Payment.paid_on.between(month.first_day, day),
                    ~reversed_by_end,
                ),
            )
        )
        month = month + 1
    return or_(*branches) if branches else false()


def panel_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The panel's rows as JSON (months as ``YYYY-MM``, ratios as part/base/percent)."""
    return [
        {"month": str(r["month"]), **{name: r[name].as_json() for name in MEASURES}} for r in rows
    ]
