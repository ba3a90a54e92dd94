"""Read side of the partners area: partners, the hierarchy, agreements, applications and agents
at risk of termination. Lists are scoped by the caller's role (:class:`~cakupan.auth.Actor`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from cakupan.auth import Actor, Role
from cakupan.dates import Month
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.partners.models import (
    AgentEvaluation,
    Agreement,
    ApplicationDocument,
    Partner,
    PartnerApplication,
)
from cakupan.partners.rules import AGENT_KINDS, idle_months, termination_standing


@dataclass(frozen=True)
class PartnerInfo:
    """A partner or agent as other areas see it."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    branch_code: str
    status: str
    status_reason: str | None
    recruited_on: date | None
    trained_on: date | None
    activated_on: date | None
    terminated_on: date | None

    @property
    def is_agent(self) -> bool:
        return self.kind in AGENT_KINDS

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "parent_code": self.parent_code,
            "branch_code": self.branch_code,
            "status": self.status,
            "status_reason": self.status_reason,
            "recruited_on": _iso(self.recruited_on),
            "trained_on": _iso(self.trained_on),
            "activated_on": _iso(self.activated_on),
            "terminated_on": _iso(self.terminated_on),
        }


@dataclass(frozen=True)
class AgreementInfo:
    """An agreement with its scheme version and parameters."""

    id: int
    partner_code: str
    scheme_name: str
    scheme_version: int
    parameters: dict[str, Any]
    valid_from: date
    valid_to: date | None
    status: str
    status_reason: str | None

    def in_force_on(self, day: date) -> bool:
        return (
            self.status == "active"
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "partner_code": self.partner_code,
            "scheme": self.scheme_name,
            "scheme_version": self.scheme_version,
            "parameters": self.parameters,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": _iso(self.valid_to),
            "status": self.status,
            "status_reason": self.status_reason,
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _info(row: Partner) -> PartnerInfo:
    return PartnerInfo(
        code=row.code,
        name=row.name,
        kind=row.kind,
        parent_code=row.parent_code,
        branch_code=row.branch_code,
        status=row.status,
        status_reason=row.status_reason,
        recruited_on=row.recruited_on,
        trained_on=row.trained_on,
        activated_on=row.activated_on,
        terminated_on=row.terminated_on,
    )


def _agreement(row: Agreement) -> AgreementInfo:
    return AgreementInfo(
        id=row.id,
        partner_code=row.partner_code,
        scheme_name=row.scheme_name,
        scheme_version=row.scheme_version,
        parameters=dict(row.parameters),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        status=row.status,
        status_reason=row.status_reason,
    )


def partner(session: Session, code: str) -> PartnerInfo | None:
    """The partner or agent with ``code``, or None."""
    row = session.get(Partner, code)
    return None if row is None else _info(row)


def get_partner(session: Session, code: str) -> PartnerInfo:
    """The partner or agent with ``code``; NOT_FOUND when there is none."""
    found = partner(session, code)
    if found is None:
        raise not_found(
            t(f"Mitra/agen {code} tidak ditemukan", f"Partner/agent {code} not found"),
            code="partner-not-found",
        )
    return found


def agents_under(session: Session, partner_code: str) -> set[str]:
    """Every partner and agent below ``partner_code`` in the hierarchy, transitively (the agents
    of a Wadah or agency; the offices of a Pos regional office and their agents). Excludes
    ``partner_code`` itself. One recursive query."""
    tree = (
        select(Partner.code).where(Partner.parent_code == partner_code).cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Partner.code).where(Partner.parent_code == tree.c.code))
    return set(session.scalars(select(tree.c.code)))


def partners_of_branch(
    session: Session, branch_code: str, kind: str | None = None
) -> list[PartnerInfo]:
    """Partners and agents belonging to a branch (of ``kind`` when given), by code."""
    query = select(Partner).where(Partner.branch_code == branch_code).order_by(Partner.code)
    if kind is not None:
        query = query.where(Partner.kind == kind)
    return [_info(row) for row in session.scalars(query)]


def visible_partner_codes(session: Session, actor: Actor) -> set[str] | None:
    """The partner codes ``actor`` may see (None: every partner)."""
    if actor.sees_everything:
        return None
    own = actor.agent_code or actor.partner_code
    if actor.role is Role.AGENT:
        return {own} if own else set()
    if actor.role is Role.PARTNER:
        return ({own} | agents_under(session, own)) if own else set()
    return None  # branch and region roles: filtered by branch below


def scope_partners(query: Select[Any], session: Session, actor: Actor) -> Select[Any]:
    """``query`` (over :class:`Partner`) narrowed to the partners and agents ``actor`` may see:
    the one partner scope, shared by the partner pages and the incentive statements."""
    codes = visible_partner_codes(session, actor)
    if codes is not None:
        return query.where(Partner.code.in_(sorted(codes)))
    if actor.sees_everything:
        return query
    if actor.branch_code:
        return query.where(Partner.branch_code == actor.branch_code)
    if actor.region_code:
        from cakupan.regions import branches_of_region

        return query.where(Partner.branch_code.in_(branches_of_region(session, actor.region_code)))
    return query.where(literal(False))


def list_partners(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    branch_code: str | None = None,
    parent_code: str | None = None,
    status: str | None = None,
) -> list[PartnerInfo]:
    """Partners and agents ``actor`` may see, filtered, by code."""
    query = select(Partner).order_by(Partner.code)
    if kind:
        query = query.where(Partner.kind == kind)
    if branch_code:
        query = query.where(Partner.branch_code == branch_code)
    if parent_code:
        query = query.where(Partner.parent_code == parent_code)
    if status:
        query = query.where(Partner.status == status)
    rows: list[Partner] = list(session.scalars(scope_partners(query, session, actor)))
    return [_info(row) for row in rows]


def agreements_of(session: Session, partner_code: str) -> list[AgreementInfo]:
    """Every agreement of a partner, latest first."""
    rows = session.scalars(
        select(Agreement)
        .where(Agreement.partner_code == partner_code)
        .order_by(Agreement.valid_from.desc(), Agreement.id.desc())
    )
    return [_agreement(row) for row in rows]


def agreement(session: Session, agreement_id: int) -> AgreementInfo:
    """One agreement; NOT_FOUND when missing."""
    row = session.get(Agreement, agreement_id)
    if row is None:
        raise not_found(
            t(f"Perjanjian {agreement_id} tidak ditemukan", f"Agreement {agreement_id} not found"),
            code="agreement-not-found",
        )
    return _agreement(row)


def agreements_in_force(
    session: Session, on: date, partner_codes: Iterable[str] | None = None
) -> list[AgreementInfo]:
    """Active agreements whose validity covers ``on`` (of the given partners when given)."""
    query = select(Agreement).where(
        Agreement.status == "active",
        Agreement.valid_from <= on,
        or_(Agreement.valid_to.is_(None), Agreement.valid_to >= on),
    )
    if partner_codes is not None:
        query = query.where(Agreement.partner_code.in_(sorted(set(partner_codes))))
    return [_agreement(row) for row in session.scalars(query.order_by(Agreement.partner_code))]


def application(session: Session, application_id: int) -> dict[str, Any]:
    """One application with its documents (as JSON-ready values); NOT_FOUND when missing."""
    row = session.get(PartnerApplication, application_id)
    if row is None:
        raise not_found(
            t(
                f"Pengajuan {application_id} tidak ditemukan",
                f"Application {application_id} not found",
            ),
            code="application-not-found",
        )
    documents = session.scalars(
        select(ApplicationDocument)
        .where(ApplicationDocument.application_id == application_id)
        .order_by(ApplicationDocument.id)
    )
    return {
        **_application_json(row),
        "documents": [
            {
                "id": doc.id,
                "kind": doc.kind,
                "title": doc.title,
                "file_reference": doc.file_reference,
                "sha256": doc.sha256,
                "size_bytes": doc.size_bytes,
                "added_at": doc.added_at.isoformat(),
                "added_by": doc.added_by,
            }
            for doc in documents
        ],
    }


def applications(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Applications (with ``status`` when given), newest first, without their documents."""
    query = select(PartnerApplication).order_by(PartnerApplication.id.desc())
    if status:
        query = query.where(PartnerApplication.status == status)
    return [_application_json(row) for row in session.scalars(query)]


def _application_json(row: PartnerApplication) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "parent_code": row.parent_code,
        "branch_code": row.branch_code,
        "scheme": row.scheme_name,
        "scheme_version": row.scheme_version,
        "parameters": row.parameters,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": _iso(row.valid_to),
        "status": row.status,
        "submitted_at": row.submitted_at.isoformat(),
        "submitted_by": row.submitted_by,
        "review_note": row.review_note,
        "reviewed_by": row.reviewed_by,
        "decision_reason": row.decision_reason,
        "decided_by": row.decided_by,
        "decided_at": None if row.decided_at is None else row.decided_at.isoformat(),
    }


def evaluations_of(session: Session, partner_code: str) -> list[dict[str, Any]]:
    """An agent's evaluations, latest first."""
    rows = session.scalars(
        select(AgentEvaluation)
        .where(AgentEvaluation.partner_code == partner_code)
        .order_by(AgentEvaluation.period_to.desc())
    )
    return [
        {
            "id": row.id,
            "period_from": row.period_from.isoformat(),
            "period_to": row.period_to.isoformat(),
            "evaluated_on": row.evaluated_on.isoformat(),
            "outcome": row.outcome,
            "notes": row.notes,
            "evaluator": row.evaluator,
        }
        for row in rows
    ]


@dataclass(frozen=True)
class IdleAgent:
    """An agent approaching or due for termination for lack of activity."""

    code: str
    name: str
    parent_code: str | None
    branch_code: str
    scheme: str
    last_activity_month: Month | None
    idle_months: int
    standing: str  # "at_risk" | "due"

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "parent_code": self.parent_code,
            "branch_code": self.branch_code,
            "scheme": self.scheme,
            "last_activity_month": None
            if self.last_activity_month is None
            else str(self.last_activity_month),
            "idle_months": self.idle_months,
            "standing": self.standing,
        }


def last_activity_months(session: Session, codes: Iterable[str] | None = None) -> dict[str, Month]:
    """The last calendar month in which each agent registered a participant who paid a first
    month (as registering agent or partner of a membership episode) or collected a payment. One
    grouped query."""
    from cakupan.registry.models import Membership, Payment

    month_of = month_index_sql
    # Only paying registrations are activity (issue 19): a registration counts, in its month,
    # once its first month is paid; registrations that never pay keep no agent alive.
    paying = Membership.first_paid_on.is_not(None)
    activity = union_all(
        select(
            func.coalesce(Membership.agent_code, Membership.partner_code).label("code"),
            month_of(session, Membership.registered_on).label("month"),
        ).where(paying),
        select(
            Membership.partner_code.label("code"), month_of(session, Membership.registered_on)
        ).where(paying),
        select(
            func.coalesce(Payment.agent_code, Payment.partner_code).label("code"),
            month_of(session, Payment.paid_on),
        ),
        select(Payment.partner_code.label("code"), month_of(session, Payment.paid_on)),
    ).subquery()
    query = (
        select(activity.c.code, func.max(activity.c.month))
        .where(activity.c.code.is_not(None))
        .group_by(activity.c.code)
    )
    if codes is not None:
        query = query.where(activity.c.code.in_(sorted(set(codes))))
    return {code: Month.from_index(int(index)) for code, index in session.execute(query)}


def month_index_sql(session: Session, column: Any) -> Any:
    """``year * 12 + month - 1`` of a DATE column (the ``MonthType`` index), on both engines."""
    from cakupan.db import is_postgres

    year: Any
    month: Any
    if is_postgres(session):
        year, month = func.extract("year", column), func.extract("month", column)
    else:
        year, month = func.strftime("%Y", column), func.strftime("%m", column)
    return cast(year, Integer) * 12 + cast(month, Integer) - 1


def agents_at_risk(session: Session, actor: Actor, as_of: Month) -> list[IdleAgent]:
    """Agents holding an agreement whose scheme has a termination rule (perisai-2022: due after
    3 consecutive idle months, at risk after 2), with their idle months up to and including
    ``as_of``; only those at risk or due, most idle first."""
    from cakupan.incentives.definition import TerminationRule
    from cakupan.incentives.queries import scheme_version

    on = as_of.last_day
    candidates: dict[str, tuple[PartnerInfo, str, int, int]] = {}
    visible = {p.code: p for p in list_partners(session, actor) if p.status != "terminated"}
    scope = None if actor.sees_everything else visible
    rules: dict[tuple[str, int], TerminationRule | None] = {}
    for agreement_info in agreements_in_force(session, on, scope):
        if agreement_info.partner_code not in visible:
            continue
        key = (agreement_info.scheme_name, agreement_info.scheme_version)
        if key not in rules:  # one query per scheme version, not per agent
            rules[key] = scheme_version(session, *key).definition.termination
        rule = rules[key]
        info = visible[agreement_info.partner_code]
        if rule is None or not info.is_agent:
            continue
        candidates[info.code] = (
            info,
            agreement_info.scheme_name,
            rule.at_risk_months,
            rule.idle_months,
        )
    last = last_activity_months(session, None if actor.sees_everything else candidates)
    result: list[IdleAgent] = []
    for code, (info, scheme, at_risk, limit) in candidates.items():
        started = info.activated_on or info.recruited_on
        since = Month.of(started) if started else as_of
        idle = idle_months(last.get(code), since, as_of)
        standing = termination_standing(idle, at_risk, limit)
        if standing is not None:
            result.append(
                IdleAgent(
                    code=code,
                    name=info.name,
                    parent_code=info.parent_code,
                    branch_code=info.branch_code,
                    scheme=scheme,
                    last_activity_month=last.get(code),
                    idle_months=idle,
                    standing=standing,
                )
            )
    return sorted(result, key=lambda a: (-a.idle_months, a.code))


def agents_due_for_evaluation(session: Session, actor: Actor, on: date) -> list[dict[str, Any]]:
    """Active agents whose six-monthly evaluation is due on or before ``on``: six months after
    the end of their last evaluated period, or after their activation when never evaluated.
    One query for the agents and one for their last evaluations."""
    from cakupan.partners.rules import next_evaluation_due

    agents = [
        p
        for p in list_partners(session, actor, status="active")
        if p.is_agent and (p.activated_on or p.recruited_on)
    ]
    rows = session.execute(
        select(AgentEvaluation.partner_code, func.max(AgentEvaluation.period_to)).group_by(
            AgentEvaluation.partner_code
        )
    ).all()
    last: dict[str, date] = {row[0]: row[1] for row in rows}
    due = []
    for agent in agents:
        started = agent.activated_on or agent.recruited_on
        assert started is not None
        when = next_evaluation_due(last.get(agent.code), started)
        if when <= on:
            due.append(
                {
                    "code": agent.code,
                    "name": agent.name,
                    "parent_code": agent.parent_code,
                    "branch_code": agent.branch_code,
                    "last_evaluated_to": _iso(last.get(agent.code)),
                    "due_on": when.isoformat(),
                }
            )
    return sorted(due, key=lambda item: (item["due_on"], item["code"]))


# -- the agent pages (issue 17) --------------------------------------------------------------------


@dataclass(frozen=True)
class AgentStanding:
    """An agent as the agents page shows it: lifecycle status, last activity, idle months up to
    the month asked (agents working now: active or suspended), termination standing under its
    scheme (None when not at risk or no rule applies) and the next evaluation's due date."""

    info: PartnerInfo
    last_activity_month: Month | None
    idle_months: int | None
    standing: str | None
    evaluation_due_on: date | None


def agent_standings(
    session: Session, actor: Actor, as_of: Month, *, code: str | None = None
) -> list[AgentStanding]:
    """The agents ``actor`` may see (only ``code`` when given), by code, each with its activity
    and standing as of ``as_of``. A few queries whatever the number of agents: the scoped list,
    one grouped activity query, the standing of :func:`agents_at_risk` and the last
    evaluations."""
    from cakupan.partners.rules import next_evaluation_due

    agents = [p for p in list_partners(session, actor) if p.is_agent and code in (None, p.code)]
    if not agents:
        return []
    codes = [a.code for a in agents]
    last = last_activity_months(session, codes)
    standing = {a.code: a.standing for a in agents_at_risk(session, actor, as_of)}
    evaluated: dict[str, date] = {
        row[0]: row[1]
        for row in session.execute(
            select(AgentEvaluation.partner_code, func.max(AgentEvaluation.period_to))
            .where(AgentEvaluation.partner_code.in_(codes))
            .group_by(AgentEvaluation.partner_code)
        )
    }
    out = []
    for agent in agents:
        started = agent.activated_on or agent.recruited_on
        working = agent.status in {"active", "suspended"}
        idle = (
            idle_months(last.get(agent.code), Month.of(started) if started else as_of, as_of)
            if working
            else None
        )
        due = (
            next_evaluation_due(evaluated.get(agent.code), started)
            if agent.status == "active" and started is not None
            else None
        )
        out.append(
            AgentStanding(
                info=agent,
                last_activity_month=last.get(agent.code),
                idle_months=idle,
                standing=standing.get(agent.code),
                evaluation_due_on=due,
            )
        )
    return out


def _application_scope(query: Select[Any], session: Session, actor: Actor) -> Select[Any]:
    """Applications by the branch they would belong to: branch roles their branch, regional
    roles their region's branches, partners and agents none."""
    if actor.sees_everything:
        return query
    if actor.role in {Role.PARTNER, Role.AGENT}:
        return query.where(literal(False))
    if actor.branch_code:
        return query.where(PartnerApplication.branch_code == actor.branch_code)
    if actor.region_code:
        from cakupan.regions import branches_of_region

        return query.where(
            PartnerApplication.branch_code.in_(branches_of_region(session, actor.region_code))
        )
    return query.where(literal(False))


def visible_applications(
    session: Session, actor: Actor, status: str | None = None
) -> list[dict[str, Any]]:
    """:func:`applications` within the actor's scope (by the branch applied to)."""
    query = select(PartnerApplication).order_by(PartnerApplication.id.desc())
    if status:
        query = query.where(PartnerApplication.status == status)
    return [
        _application_json(row) for row in session.scalars(_application_scope(query, session, actor))
    ]


def visible_application(session: Session, actor: Actor, application_id: int) -> dict[str, Any]:
    """:func:`application` when the actor may see it; NOT_FOUND otherwise (as if missing)."""
    query = _application_scope(
        select(PartnerApplication.id).where(PartnerApplication.id == application_id),
        session,
        actor,
    )
    if session.scalar(query) is None:
        raise not_found(
            t(
                f"Pengajuan {application_id} tidak ditemukan",
                f"Application {application_id} not found",
            ),
            code="application-not-found",
        )
    return application(session, application_id)
