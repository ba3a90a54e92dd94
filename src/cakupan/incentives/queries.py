"""Reading incentive schemes: a named version, the version in force on a date, all versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import Month
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.incentives.definition import SchemeDefinition
from cakupan.incentives.models import IncentiveScheme


@dataclass(frozen=True)
class SchemeRecord:
    """A stored scheme version with its parsed definition."""

    name: str
    version: int
    title_id: str
    title_en: str
    valid_from: date
    valid_to: date | None
    source: str
    origin: str
    definition: SchemeDefinition

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "title": {"id": self.title_id, "en": self.title_en},
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "source": self.source,
            "origin": self.origin,
            "definition": self.definition.model_dump(mode="json", exclude_none=True),
        }


def _record(row: IncentiveScheme) -> SchemeRecord:
    return SchemeRecord(
        name=row.name,
        version=row.version,
        title_id=row.title_id,
        title_en=row.title_en,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        source=row.source,
        origin=row.origin,
        definition=SchemeDefinition.model_validate(row.definition),
    )


def schemes(session: Session, name: str | None = None) -> list[SchemeRecord]:
    """Every stored scheme version (of ``name`` when given), by name then version."""
    query = select(IncentiveScheme).order_by(IncentiveScheme.name, IncentiveScheme.version)
    if name is not None:
        query = query.where(IncentiveScheme.name == name)
    return [_record(row) for row in session.scalars(query)]


def scheme_names(session: Session) -> set[str]:
    """The names of every stored scheme."""
    return set(session.scalars(select(IncentiveScheme.name).distinct()))


def scheme_version(session: Session, name: str, version: int) -> SchemeRecord:
    """One scheme version; NOT_FOUND when missing."""
    row = session.get(IncentiveScheme, (name, version))
    if row is None:
        raise not_found(
            t(
                f"Skema insentif {name} versi {version} tidak ditemukan",
                f"Incentive scheme {name} version {version} not found",
            )
        )
    return _record(row)


def scheme_in_force(session: Session, name: str, on: date) -> SchemeRecord | None:
    """The latest version of ``name`` whose validity covers ``on`` (None when there is none)."""
    candidates = [s for s in schemes(session, name) if s.in_force_on(on)]
    return max(candidates, key=lambda s: s.version) if candidates else None


def stored_statements(
    session: Session,
    period: Month,
    partner_code: str | None = None,
    scheme: str | None = None,
    *,
    partner_codes: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored statements of a period (of one partner / scheme when given) with their lines, as
    the run prints them, plus ``status``."""
    from cakupan.incentives.models import IncentiveLine, IncentiveStatement

    query = select(IncentiveStatement).where(IncentiveStatement.period == period)
    if partner_code is not None:
        query = query.where(IncentiveStatement.partner_code == partner_code)
    if scheme is not None:
        query = query.where(IncentiveStatement.scheme_name == scheme)
    if partner_codes is not None:
        query = query.where(IncentiveStatement.partner_code.in_(sorted(partner_codes)))
    rows = list(
        session.scalars(
            query.order_by(IncentiveStatement.partner_code, IncentiveStatement.scheme_name)
        )
    )
    lines: dict[int, list[IncentiveLine]] = {}
    if rows:
        for line in session.scalars(
            select(IncentiveLine)
            .where(IncentiveLine.statement_id.in_([row.id for row in rows]))
            .order_by(IncentiveLine.statement_id, IncentiveLine.position)
        ):
            lines.setdefault(line.statement_id, []).append(line)
    out = []
    for row in rows:
        item: dict[str, Any] = {
            "partner_code": row.partner_code,
            "scheme": row.scheme_name,
            "scheme_version": row.scheme_version,
            "status": row.status,
            "total": row.total,
            "payable": max(row.total, 0),  # never paid out negative (rules.payable)
            "lines": [
                {
                    "nik": line.nik,
                    "kind": line.kind,
                    "amount": line.amount,
                    "reference": line.reference,
                }
                for line in lines.get(row.id, [])
            ],
        }
        if row.fees is not None:
            item["fees"] = dict(row.fees)
        out.append(item)
    return out


def visible_statements(session: Session, actor: Actor, period: Month) -> list[dict[str, Any]]:
    """The stored statements of ``period`` that ``actor`` may read: everything for national
    roles, the partners of their branch or region for branch and regional roles, a partner's own
    and those of everything under it, an agent's own."""
    from cakupan.partners.queries import list_partners

    if actor.sees_everything:
        found = stored_statements(session, period)
    else:
        codes = {p.code for p in list_partners(session, actor)}
        found = stored_statements(session, period, partner_codes=codes)
    lines = [line for statement in found for line in statement["lines"]]
    for line, shown in zip(lines, _shown_niks(session, actor, lines), strict=True):
        line["nik"] = shown
    return found


def _shown_niks(session: Session, actor: Actor, lines: list[dict[str, Any]]) -> list[str | None]:
    """The NIKs of statement ``lines`` as ``actor`` may see them (issue 21): through the one
    masking policy (:func:`cakupan.access.reveal`: masked unless the role sees them in clear
    for the participant's branch; every unmasking audited). Each line also gets the
    participant's ``name`` (read before the NIK is masked: the statement page shows it)."""
    from cakupan.access import SensitiveValue, reveal
    from cakupan.registry.models import Participant

    niks = sorted({line["nik"] for line in lines if line["nik"]})
    known: dict[str, tuple[int, str | None]] = {}
    names: dict[str, str] = {}
    for start in range(0, len(niks), 500):
        for nik, participant_id, branch, name in session.execute(
            select(
                Participant.nik, Participant.id, Participant.branch_code, Participant.name
            ).where(Participant.nik.in_(niks[start : start + 500]))
        ):
            known[nik] = (participant_id, branch)
            names[nik] = name
    for line in lines:
        line["name"] = names.get(line["nik"]) if line["nik"] else None
    values = [
        SensitiveValue(
            "participant",
            known.get(line["nik"], (None, None))[0],
            "nik",
            line["nik"],
            known.get(line["nik"], (None, None))[1],
        )
        for line in lines
        if line["nik"]
    ]
    shown = iter(reveal(session, actor, values))
    return [next(shown) if line["nik"] else None for line in lines]


def visible_partners_query(session: Session, actor: Actor) -> Any:
    """A one-column SELECT of the partner codes whose statements ``actor`` may read (None for
    national roles: every statement). The same scope as the partner pages and
    :func:`visible_statements`."""
    from cakupan.partners.models import Partner
    from cakupan.partners.queries import scope_partners

    if actor.sees_everything:
        return None
    return scope_partners(select(Partner.code), session, actor)


def statement_partner_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the partners and agents with stored statements that ``actor`` may read,
    by name: the statements page's partner picker (a partner or agent picks among itself and
    its agents; no one sees a code outside their scope)."""
    from cakupan.incentives.models import IncentiveStatement
    from cakupan.partners.models import Partner

    with_statements = select(IncentiveStatement.partner_code).distinct()
    query = (
        select(Partner.code, Partner.name)
        .where(Partner.code.in_(with_statements))
        .order_by(Partner.name, Partner.code)
    )
    scope = visible_partners_query(session, actor)
    if scope is not None:
        query = query.where(Partner.code.in_(scope))
    return [(str(code), str(name)) for code, name in session.execute(query)]


@dataclass(frozen=True)
class StatementSummary:
    """One stored statement without its lines (the list page and the API)."""

    id: int
    period: Month
    partner_code: str
    partner_name: str | None
    scheme: str
    scheme_version: int
    status: str
    total: int
    lines: int
    status_changed_by: str | None
    status_changed_at: Any
    status_reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "period": str(self.period),
            "partner_code": self.partner_code,
            "partner_name": self.partner_name,
            "scheme": self.scheme,
            "scheme_version": self.scheme_version,
            "status": self.status,
            "total": self.total,
            "lines": self.lines,
            "status_changed_by": self.status_changed_by,
            "status_changed_at": None
            if self.status_changed_at is None
            else self.status_changed_at.isoformat(),
            "status_reason": self.status_reason,
        }


def statement_summaries(
    session: Session,
    actor: Actor,
    *,
    period: Month | None = None,
    scheme: str | None = None,
    status: str | None = None,
    partner: str | None = None,
    exact_partner: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[StatementSummary], int]:
    """Stored statements ``actor`` may read, filtered (``partner`` matches a code prefix, case
    insensitive, or the code itself with ``exact_partner``: a code picked from the list),
    newest period first then by partner code; with the count of all matches.
    Two queries whatever the number of statements (the page is ``limit`` rows)."""
    from sqlalchemy import func

    from cakupan.incentives.models import IncentiveLine, IncentiveStatement
    from cakupan.partners.models import Partner

    conditions: list[Any] = []
    scope = visible_partners_query(session, actor)
    if scope is not None:
        conditions.append(IncentiveStatement.partner_code.in_(scope))
    if period is not None:
        conditions.append(IncentiveStatement.period == period)
    if scheme:
        conditions.append(IncentiveStatement.scheme_name == scheme)
    if status:
        conditions.append(IncentiveStatement.status == status)
    if partner and exact_partner:
        conditions.append(IncentiveStatement.partner_code == partner.strip())
    elif partner:
        conditions.append(IncentiveStatement.partner_code.like(f"{partner.strip().upper()}%"))
    count = session.scalar(select(func.count()).select_from(IncentiveStatement).where(*conditions))
    line_count = (
        select(func.count())
        .where(IncentiveLine.statement_id == IncentiveStatement.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(IncentiveStatement, Partner.name, line_count)
        .outerjoin(Partner, Partner.code == IncentiveStatement.partner_code)
        .where(*conditions)
        .order_by(
            IncentiveStatement.period.desc(),
            IncentiveStatement.partner_code,
            IncentiveStatement.scheme_name,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return [_summary(row, name, int(lines)) for row, name, lines in rows], int(count or 0)


def _summary(row: Any, name: str | None, lines: int) -> StatementSummary:
    return StatementSummary(
        id=row.id,
        period=row.period,
        partner_code=row.partner_code,
        partner_name=name,
        scheme=row.scheme_name,
        scheme_version=row.scheme_version,
        status=row.status,
        total=row.total,
        lines=lines,
        status_changed_by=row.status_changed_by,
        status_changed_at=row.status_changed_at,
        status_reason=row.status_reason,
    )


def visible_statement(session: Session, actor: Actor, statement_id: int) -> dict[str, Any]:
    """One stored statement with its lines, when ``actor`` may read it; NOT_FOUND otherwise
    (a statement out of scope is not revealed to exist)."""
    from cakupan.incentives.models import IncentiveLine, IncentiveStatement
    from cakupan.partners.models import Partner

    query = (
        select(IncentiveStatement, Partner.name)
        .outerjoin(Partner, Partner.code == IncentiveStatement.partner_code)
        .where(IncentiveStatement.id == statement_id)
    )
    scope = visible_partners_query(session, actor)
    if scope is not None:
        query = query.where(IncentiveStatement.partner_code.in_(scope))
    found = session.execute(query).first()
    if found is None:
        raise not_found(
            t(
                f"Laporan insentif {statement_id} tidak ditemukan",
                f"Incentive statement {statement_id} not found",
            ),
            code="statement-not-found",
        )
    row, name = found
    lines = list(
        session.scalars(
            select(IncentiveLine)
            .where(IncentiveLine.statement_id == row.id)
            .order_by(IncentiveLine.position)
        )
    )
    out = _summary(row, name, len(lines)).as_json()
    out["lines"] = [
        {"nik": line.nik, "kind": line.kind, "amount": line.amount, "reference": line.reference}
        for line in lines
    ]
    for item, shown in zip(out["lines"], _shown_niks(session, actor, out["lines"]), strict=True):
        item["nik"] = shown
    out["fees"] = None if row.fees is None else dict(row.fees)
    return out
