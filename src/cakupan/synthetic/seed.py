"""Seeding a database with synthetic data through the real write path: partners through the
partners import, participants and payments through the registry's batch actions (the same checks
as the import files), then the monthly close of every complete month."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.contributions import load_policy_book
from cakupan.dates import Clock, Month, SystemClock, today
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.partners.actions import import_partners
from cakupan.regions.models import Branch as BranchRow
from cakupan.regions.models import BranchRegency, District, Village
from cakupan.registry.actions import post_payments, register_participants
from cakupan.registry.close import close_month
from cakupan.registry.inputs import PaymentRow, RegistrationRow
from cakupan.synthetic.generator import (
    PARTNER_COLUMNS,
    Branch,
    Generator,
    NamePool,
    Place,
    build_network,
)

CHUNK = 5_000


@dataclass
class SeedSummary:
    """What a seeding run wrote (duplicates: rows already there from an earlier run)."""

    partners: int = 0
    participants: int = 0
    payments: int = 0
    duplicates: int = 0
    closed_months: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "partners": self.partners,
            "participants": self.participants,
            "payments": self.payments,
            "duplicates": self.duplicates,
            "closed_months": self.closed_months,
        }


def load_places(session: Session) -> tuple[list[Place], list[Branch]]:
    """Every village served by a branch, and the branches with their regions. The default
    branches that stand in for the agency's network (docs/regions.md) are left out: the
    synthetic data lives where the shipped branches are, as it did before they existed."""
    from cakupan.regions.reference import default_branch_codes

    rows = session.execute(
        select(Village.code, Village.district_code, BranchRegency.branch_code)
        .join(District, District.code == Village.district_code)
        .join(BranchRegency, BranchRegency.regency_code == District.regency_code)
        .where(BranchRegency.branch_code.not_in(sorted(default_branch_codes())))
        .order_by(Village.code)
    ).all()
    places = [Place(village, district, branch) for village, district, branch in rows]
    served = {p.branch_code for p in places}
    branches = [
        Branch(code, region)
        for code, region in session.execute(
            select(BranchRow.code, BranchRow.region_code).order_by(BranchRow.code)
        )
        if code in served
    ]
    return places, branches


def seed(
    engine: Engine,
    *,
    participants: int,
    seed_value: int = 1,
    as_of: date | None = None,
    start: date | None = None,
    actor: Actor | None = None,
    clock: Clock | None = None,
    close: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Generate ``participants`` participants with their payments between ``start`` (default a year
    before ``as_of``) and ``as_of`` (default today, Asia/Jakarta) and post them. Deterministic: the
    same seed and dates give the same data; running it again posts nothing new."""
    clock = clock or SystemClock()
    actor = actor or Actor.system()
    as_of = as_of or today(clock)
    start = start or as_of - timedelta(days=365)
    if participants < 0:
        raise invalid("participants", t("harus 0 atau lebih", "must be 0 or more"))
    if as_of > today(clock):
        raise invalid("as_of", t("tidak boleh di masa depan", "must not be in the future"))
    if start > as_of:
        raise invalid("start", t("harus sebelum as_of", "must be before as_of"))

    with make_session_factory(engine)() as session:
        places, branches = load_places(session)
        book = load_policy_book(session)
    if not places:
        raise invalid(
            "branch", t("tidak ada kantor cabang dengan wilayah", "no branch covers any area")
        )

    summary = SeedSummary()
    network = build_network(branches, start, as_of)
    with tempfile.TemporaryDirectory(prefix="cakupan-seed-") as folder:
        path = Path(folder) / "partners.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=PARTNER_COLUMNS)
            writer.writeheader()
            writer.writerows(network.rows)
        result = import_partners(engine, actor, clock, path)
        summary.partners, summary.duplicates = result.accepted, result.duplicates
        if result.rejected:
            raise RuntimeError(f"synthetic partners rejected: {result.as_json()}")

    def amount(income: int, programs: str, month: Month, sector: str, funding: str) -> int:
        return book.monthly_total(
            income=income, programs=programs, month=month, sector=sector, funding=funding
        )

    generator = Generator(
        seed=seed_value,
        places=places,
        network=network,
        names=NamePool.from_faker(seed_value),
        monthly_amount=amount,
        start=start,
        as_of=as_of,
    )
    registrations: list[RegistrationRow] = []
    payments: list[PaymentRow] = []

    def flush() -> None:
        with transaction(engine) as session:
            registered = register_participants(
                session, actor, registrations, clock=clock, book=book
            )
            posted = post_payments(session, actor, payments, clock=clock, book=book)
        for batch in (registered, posted):
            if batch.rejected:
                raise RuntimeError(f"synthetic rows rejected: {batch.errors[:5]}")
        summary.participants += registered.accepted
        summary.payments += posted.accepted
        summary.duplicates += registered.duplicates + posted.duplicates
        if progress:
            progress(len(registrations))
        registrations.clear()
        payments.clear()

    for row, paid in generator.generate(participants):
        registrations.append(RegistrationRow(row=len(registrations) + 1, **row))
        payments.extend(PaymentRow(row=len(payments) + 1, **p) for p in paid)
        if len(registrations) >= CHUNK:
            flush()
    if registrations:
        flush()

    if close:
        for month in _complete_months(start, as_of):
            with transaction(engine) as session:
                close_month(session, actor, month, clock=clock)
            summary.closed_months.append(str(month))
    return summary


def _complete_months(start: date, as_of: date) -> list[Month]:
    """Months from ``start``'s to the last month that ended on or before ``as_of``."""
    first, last = Month.of(start), Month.of(as_of)
    if as_of != last.last_day:
        last = last + -1
    return [first + i for i in range(max(0, last - first + 1))]


def seed_demo_targets(engine: Engine, year: int, *, actor: Actor | None = None) -> int:
    """Illustrative BPU targets for ``year`` per branch (source "Demo (sintetis)"), set from the
    synthetic registrations so that some branches reach them and some do not. Returns how many
    figures were recorded; running it again records nothing new."""
    from sqlalchemy import extract, func

    from cakupan.registry.models import Participant
    from cakupan.targets.actions import CellKey, record_figure
    from cakupan.targets.rules import Period

    actor = actor or Actor.system()
    recorded = 0
    with transaction(engine) as session:
        per_branch = session.execute(
            select(Participant.branch_code, func.count())
            .where(extract("year", Participant.registered_on) == year)
            .group_by(Participant.branch_code)
            .order_by(Participant.branch_code)
        ).all()
        for index, (branch_code, registered) in enumerate(per_branch):
            if not branch_code or not registered:
                continue
            # Alternate ambitious and modest targets: 80%..140% of what the year brings.
            factor = (80, 95, 110, 125, 140)[index % 5]
            for metric, base in (
                ("new_participants", registered),
                ("active_participants", registered // 2),
            ):
                value = max(10, round(base * factor / 100, -1))
                key = CellKey(branch_code, Period.whole_year(year), "BPU", metric)
                record_figure(session, actor, key, "target", int(value), "Demo (sintetis)")
                recorded += 1
    return recorded
