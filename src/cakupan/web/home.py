"""The home page's own figures and tasks for the signed-in user: a few figures of the latest
closed month within the user's scope (the dashboard's definitions, cakupan.figures) and what is
waiting for them (participants in arrears to contact, statements to approve, open follow-up
actions of their office). Read-only, scoped like the pages they link to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.auth import Actor, Role
from cakupan.i18n import t

#: Roles that work the arrears list (the dashboard's worklist).
WORKLIST_ROLES = frozenset(
    {Role.ADMIN, Role.KABID, Role.ARK, Role.AR, Role.PAP, Role.PARTNER, Role.AGENT}
)
#: Roles that approve incentive statements (cakupan.incentives.actions).
APPROVER_ROLES = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.KABID})


def my_figures(session: Session, actor: Actor) -> dict[str, Any] | None:
    """The latest closed month's figures within the actor's scope; None before any close."""
    from cakupan.dashboard import queries

    latest = queries.latest_closed_month(session)
    if latest is None:
        return None
    month = queries.summary(session, actor, queries.Filters(first=latest, last=latest))
    return {
        "month": latest,
        "cards": [
            ("active_participants", month.active, "count", "/dashboard/records?kpi=active"),
            ("arrears_participants", month.arrears, "count", "/dashboard/records?kpi=arrears"),
            (
                "new_registrations",
                month.registrations,
                "count",
                "/dashboard/records?kpi=new_registrations",
            ),
            ("contributions", month.contributions, "rupiah", "/dashboard/records?kpi=payments"),
        ],
    }


def my_tasks(
    session: Session, actor: Actor, figures: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """What waits for the actor, each with a count and the page where it is done."""
    tasks: list[dict[str, Any]] = []
    if figures is not None and actor.role in WORKLIST_ROLES:
        arrears = next(card[1] for card in figures["cards"] if card[0] == "arrears_participants")
        if arrears:
            tasks.append(
                {
                    "count": arrears,
                    "label": t(
                        "peserta menunggak untuk dihubungi", "participants in arrears to contact"
                    ),
                    "href": "/dashboard/worklist",
                }
            )
    if actor.role in APPROVER_ROLES:
        drafts = _draft_statements(session, actor)
        if drafts:
            tasks.append(
                {
                    "count": drafts,
                    "label": t(
                        "laporan insentif menunggu persetujuan", "incentive statements to approve"
                    ),
                    "href": "/incentives/statements?status=draft",
                }
            )
    office = actor.branch_code or actor.region_code
    if office and actor.role not in {Role.PARTNER, Role.AGENT}:
        actions = _open_actions(session, office)
        if actions:
            tasks.append(
                {
                    "count": actions,
                    "label": t(
                        "tindak lanjut tinjauan mingguan masih terbuka",
                        "open weekly-review actions",
                    ),
                    "href": f"/reviews?office={office}",
                }
            )
    return tasks


def _draft_statements(session: Session, actor: Actor) -> int:
    from cakupan.incentives.models import IncentiveStatement
    from cakupan.incentives.queries import visible_partners_query

    query = (
        select(func.count())
        .select_from(IncentiveStatement)
        .where(IncentiveStatement.status == "draft")
    )
    partners = visible_partners_query(session, actor)
    if partners is not None:
        query = query.where(IncentiveStatement.partner_code.in_(partners))
    return int(session.scalar(query) or 0)


def _open_actions(session: Session, office: str) -> int:
    from cakupan.targets.models import ReviewAction

    return int(
        session.scalar(
            select(func.count())
            .select_from(ReviewAction)
            .where(ReviewAction.office_code == office, ReviewAction.closed_on.is_(None))
        )
        or 0
    )
