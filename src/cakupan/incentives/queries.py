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
        return stored_statements(session, period)
    codes = {p.code for p in list_partners(session, actor)}
    return stored_statements(session, period, partner_codes=codes)
