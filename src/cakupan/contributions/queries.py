"""Read side of the contribution policy registry."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.contributions.models import ContributionBand, ContributionPolicy
from cakupan.contributions.rules import (
    Band,
    Funding,
    PolicyBook,
    PolicyKind,
    PolicyRecord,
    Program,
    Sector,
)


def policy_records(session: Session) -> list[PolicyRecord]:
    """Every stored policy record, every version (two queries, whatever the count)."""
    policies = session.execute(
        select(ContributionPolicy).order_by(ContributionPolicy.code, ContributionPolicy.version)
    ).scalars()
    bands: dict[int, list[Band]] = {}
    for policy_id, lower, base in session.execute(
        select(
            ContributionBand.policy_id,
            ContributionBand.lower_income,
            ContributionBand.base_income,
        ).order_by(ContributionBand.policy_id, ContributionBand.lower_income)
    ):
        bands.setdefault(policy_id, []).append(Band(lower=lower, base_income=base))
    return [
        PolicyRecord(
            code=row.code,
            version=row.version,
            kind=PolicyKind(row.kind),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            source=row.source,
            title=row.title,
            program=None if row.program is None else Program(row.program),
            sector=None if row.sector is None else Sector(row.sector),
            funding=None if row.funding is None else Funding(row.funding),
            percent=None if row.percent is None else Decimal(row.percent),
            amount=row.amount,
            bands=tuple(bands.get(row.id, ())),
        )
        for row in policies
    ]


def load_policy_book(session: Session) -> PolicyBook:
    """The :class:`PolicyBook` over every policy stored in the database (shipped and imported).

    Build it once per job and reuse it: its prices are cached per band, programs, month, sector
    and funding.
    """
    return PolicyBook.from_records(policy_records(session))
