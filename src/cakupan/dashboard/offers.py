"""The dashboard's figures for one bundling offer (filter ``offer``, docs/bundling.md).

The pre-aggregates carry no offer (an enrolment is made after the registration, at any time,
and an offer's episodes are few), so the offer filter reads rows of the same shape as
``kpi_monthly`` and ``kpi_cohort`` computed from the close's own records (the month-end
snapshot, the month's transitions) and the payments, for the offer's episodes only. Every row
is at the full grain (each dimension filled), so any sum the dashboard's queries make over them
is what the pre-aggregates would hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from cakupan.bundling.models import BundleEnrolment
from cakupan.dashboard.actions import _ALL_DIMENSIONS as _DIMENSION_NAMES
from cakupan.dashboard.actions import _MONTHLY_MEASURES, MAX_AGE
from cakupan.dashboard.models import GRAIN_FULL, KpiCohort, KpiMonthly
from cakupan.db import MonthType
from cakupan.partners.models import Partner
from cakupan.registry.close_models import MonthClose, StatusSnapshot, StatusTransition
from cakupan.registry.models import Membership, Participant, Payment, PaymentReversal

__all__ = ["offer_table"]


def _int(column: Any) -> Any:
    return type_coerce(column, Integer)


def _month_index(day: Any) -> Any:
    # extract() is numeric on PostgreSQL: cast, so that MonthType reads an int
    return cast(func.extract("year", day) * 12 + func.extract("month", day) - 1, Integer)


def _dimensions(parent: Any) -> list[Any]:
    return [
        Participant.branch_code.label("branch_code"),
        Membership.partner_code.label("partner_code"),
        Membership.agent_code.label("agent_code"),
        func.coalesce(Membership.partner_code, parent.parent_code).label("league_partner"),
        Membership.channel.label("channel"),
        Participant.occupation.label("occupation"),
        Participant.programs.label("programs"),
    ]


def _enrolled(offer_code: str) -> Any:
    return select(BundleEnrolment.membership_id).where(BundleEnrolment.offer_code == offer_code)


def _monthly(offer_code: str) -> Any:
    parent = aliased(Partner)
    enrolled = _enrolled(offer_code)

    def based(query: Any, membership_id: Any) -> Any:
        return (
            query.join(Membership, Membership.id == membership_id)
            .join(Participant, Participant.id == Membership.participant_id)
            .outerjoin(parent, parent.code == Membership.agent_code)
            .where(membership_id.in_(enrolled))
        )

    zero = literal(0)
    # statuses and registrations: the month-end snapshot of the offer's episodes in force
    s = StatusSnapshot
    statuses = based(
        select(
            _int(s.month).label("month"),
            *_dimensions(parent),
            case(
                (
                    and_(_int(Membership.start_month) == _int(s.month), Membership.episode_no == 1),
                    1,
                ),
                else_=0,
            ).label("registrations"),
            zero.label("reacquired"),
            zero.label("closed_by_system"),
            *(
                case((s.status == status, 1), else_=0).label(status)
                for status in ("pending", "active", "arrears", "closed")
            ),
            zero.label("contributions"),
            zero.label("payments"),
        ).select_from(s),
        s.membership_id,
    )
    # transitions: both of a closure followed by a re-acquisition in one month
    tr = StatusTransition
    transitions = based(
        select(
            _int(tr.month).label("month"),
            *_dimensions(parent),
            zero.label("registrations"),
            case((tr.kind == "reacquired", 1), else_=0).label("reacquired"),
            case((tr.kind == "closed_by_system", 1), else_=0).label("closed_by_system"),
            zero.label("pending"),
            zero.label("active"),
            zero.label("arrears"),
            zero.label("closed"),
            zero.label("contributions"),
            zero.label("payments"),
        )
        .select_from(tr)
        .where(tr.kind.in_(("reacquired", "closed_by_system"))),
        tr.membership_id,
    )
    # contributions: payments of a closed month not reversed by its last day
    paid_month = _month_index(Payment.paid_on)
    payments = based(
        select(
            paid_month.label("month"),
            *_dimensions(parent),
            zero.label("registrations"),
            zero.label("reacquired"),
            zero.label("closed_by_system"),
            zero.label("pending"),
            zero.label("active"),
            zero.label("arrears"),
            zero.label("closed"),
            Payment.amount.label("contributions"),
            literal(1).label("payments"),
        )
        .select_from(Payment)
        .where(
            exists().where(_int(MonthClose.month) == paid_month),
            ~exists().where(
                PaymentReversal.payment_id == Payment.id,
                _month_index(PaymentReversal.reversed_on) <= paid_month,
            ),
        ),
        Payment.membership_id,
    )
    rows = union_all(statuses, transitions, payments).subquery("offer_rows")
    return select(
        literal(0).label("id"),
        literal(GRAIN_FULL).label("grain"),
        type_coerce(rows.c.month, MonthType()).label("month"),
        *(rows.c[name] for name in _DIMENSION_NAMES),
        *(rows.c[name] for name in _MONTHLY_MEASURES),
    ).subquery("offer_monthly")


def _cohort(offer_code: str) -> Any:
    """Each closed month's snapshot of the offer's episodes of the last 13 cohorts: members,
    paying (active), first paid; an episode a later one replaced (a re-acquisition) stays a
    member that paid, as in the pre-aggregates."""
    parent = aliased(Partner)
    s = StatusSnapshot
    age = _int(s.month) - _int(Membership.start_month)
    in_force = s.membership_id == Membership.id
    rows = (
        select(
            literal(0).label("id"),
            literal(GRAIN_FULL).label("grain"),
            Membership.start_month.label("cohort_month"),
            age.label("age"),
            *_dimensions(parent),
            literal(1).label("members"),
            case((and_(in_force, s.status == "active"), 1), else_=0).label("paying"),
            case((or_(~in_force, s.paid_through_month.is_not(None)), 1), else_=0).label(
                "first_paid"
            ),
        )
        .select_from(s)
        .join(
            Membership,
            and_(
                Membership.participant_id == s.participant_id,
                Membership.episode_no <= s.episode_no,
            ),
        )
        .join(Participant, Participant.id == Membership.participant_id)
        .outerjoin(parent, parent.code == Membership.agent_code)
        .where(Membership.id.in_(_enrolled(offer_code)), age.between(0, MAX_AGE))
    )
    return rows.subquery("offer_cohort")


def offer_table(offer_code: str, table: Any) -> Any:
    """``kpi_monthly`` or ``kpi_cohort`` (the model class) for the episodes of one offer: an
    alias with the same attributes, every row at the full grain."""
    if table is KpiMonthly:
        return aliased(KpiMonthly, _monthly(offer_code), adapt_on_names=True)
    if table is KpiCohort:
        return aliased(KpiCohort, _cohort(offer_code), adapt_on_names=True)
    raise ValueError(f"no offer rows for {table!r}")
