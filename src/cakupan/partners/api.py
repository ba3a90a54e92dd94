"""``/api/v1/partners``: partners and agents as the caller may see them (thin; reads only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from cakupan.dates import Month
from cakupan.errors import invalid, not_found
from cakupan.i18n import t
from cakupan.partners import queries
from cakupan.web.deps import ApiActor, DbSession

router = APIRouter(prefix="/partners", tags=["partners"])


@router.get("")
def list_partners(
    actor: ApiActor,
    db: DbSession,
    kind: str | None = None,
    branch_code: str | None = None,
    parent_code: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Partners and agents within the caller's scope."""
    found = queries.list_partners(
        db, actor, kind=kind, branch_code=branch_code, parent_code=parent_code, status=status
    )
    return [info.as_json() for info in found]


@router.get("/at-risk")
def at_risk(
    actor: ApiActor, db: DbSession, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> dict[str, Any]:
    """Agents at risk of termination (2 idle months) or due (3) within the caller's scope."""
    try:
        as_of = Month.parse(month)
    except ValueError as error:
        raise invalid("month", t(str(error), str(error))) from None
    return {
        "month": str(as_of),
        "agents": [a.as_json() for a in queries.agents_at_risk(db, actor, as_of)],
    }


@router.get("/{code}")
def show_partner(code: str, actor: ApiActor, db: DbSession) -> dict[str, Any]:
    """One partner with its agreements, if within the caller's scope (else 404)."""
    visible = (
        {p.code for p in queries.list_partners(db, actor)} if not actor.sees_everything else None
    )
    info = queries.partner(db, code)
    if info is None or (visible is not None and code not in visible):
        raise not_found(
            t(f"Mitra/agen {code} tidak ditemukan", f"Partner/agent {code} not found"),
            code="partner-not-found",
        )
    return {
        **info.as_json(),
        "agents_under": sorted(queries.agents_under(db, code)),
        "agreements": [a.as_json() for a in queries.agreements_of(db, code)],
    }
