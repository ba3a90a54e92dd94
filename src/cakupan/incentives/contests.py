"""Contest rankings (D-6) of a scheme's contestants over a period: set-based figures from the
ledger, ranked by the pure :func:`cakupan.incentives.rules.rank_contest`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.incentives.definition import ContestRule
from cakupan.incentives.queries import schemes
from cakupan.incentives.rules import ContestEntry, rank_contest
from cakupan.partners.models import Agreement, Partner
from cakupan.registry.models import CoveredMonth, Membership, Payment, PaymentReversal


@dataclass(frozen=True)
class ContestWindow:
    name: str
    first_day: date
    last_day: date


def contest_windows(rule: ContestRule, first: Month, last: Month) -> list[ContestWindow]:
    """The periods a contest runs in between ``first`` and ``last``: each calendar quarter
    overlapping them (clipped), or the whole range."""
    if rule.period == "full_period":
        return [ContestWindow(f"{first}..{last}", first.first_day, last.last_day)]
    windows = []
    month = Month(first.year, 3 * ((first.month - 1) // 3) + 1)
    while month <= last:
        quarter_last = month + 2
        start, end = max(month, first), min(quarter_last, last)
        windows.append(
            ContestWindow(
                f"{month.year}-Q{(month.month - 1) // 3 + 1}", start.first_day, end.last_day
            )
        )
        month = month + 3
    return windows


def _figures(
    session: Session, codes: list[str], first_day: date, last_day: date
) -> list[ContestEntry]:
    """Per contestant: episodes it registered in the window whose first month is paid (and not
    reversed), and contributions it collected in the window (net of reversals)."""
    registrar = func.coalesce(Membership.agent_code, Membership.partner_code)
    first_paid = exists().where(
        and_(
            CoveredMonth.membership_id == Membership.id,
            CoveredMonth.month == Membership.start_month,
            CoveredMonth.reversed.is_(False),
        )
    )
    registrations: dict[str, int] = defaultdict(int)
    for code, count in session.execute(
        select(registrar, func.count())
        .where(
            Membership.registered_on.between(first_day, last_day),
            registrar.in_(codes),
            first_paid,
        )
        .group_by(registrar)
    ):
        registrations[code] = int(count)
    collector = func.coalesce(Payment.agent_code, Payment.partner_code)
    collected: dict[str, int] = defaultdict(int)
    not_reversed = ~exists().where(PaymentReversal.payment_id == Payment.id)
    for code, total in session.execute(
        select(collector, func.sum(Payment.amount))
        .where(Payment.paid_on.between(first_day, last_day), collector.in_(codes), not_reversed)
        .group_by(collector)
    ):
        collected[code] = int(total or 0)
    return [ContestEntry(code, registrations[code], collected[code]) for code in codes]


def contest_results(
    session: Session, scheme_name: str, first: Month, last: Month
) -> dict[str, Any]:
    """Every contest of the scheme's latest version over ``first..last``: per window and (for
    regional contests) per region, the winners and the full ranking. Contestants are the
    partners holding an agreement of the scheme during the window."""
    if last < first:
        raise invalid("to", t("akhir periode sebelum awalnya", "the period ends before it starts"))
    versions = schemes(session, scheme_name)
    if not versions:
        raise invalid(
            "scheme", t(f"skema {scheme_name} tidak dikenal", f"unknown scheme {scheme_name}")
        )
    definition = versions[-1].definition
    from cakupan.regions import region_of_branch

    branch_of = dict(session.execute(select(Partner.code, Partner.branch_code)).all())
    region_cache: dict[str, str | None] = {}

    def region(code: str) -> str:
        branch = branch_of.get(code, "")
        if branch not in region_cache:
            region_cache[branch] = region_of_branch(session, branch)
        return region_cache[branch] or "-"

    contests = []
    for rule in definition.contests:
        windows = []
        for window in contest_windows(rule, first, last):
            codes = sorted(
                set(
                    session.scalars(
                        select(Agreement.partner_code).where(
                            Agreement.scheme_name == scheme_name,
                            Agreement.status == "active",
                            Agreement.valid_from <= window.last_day,
                            (Agreement.valid_to.is_(None))
                            | (Agreement.valid_to >= window.first_day),
                        )
                    )
                )
            )
            entries = _figures(session, codes, window.first_day, window.last_day) if codes else []
            groups: dict[str, list[ContestEntry]] = defaultdict(list)
            for entry in entries:
                groups[
                    region(entry.partner_code) if rule.scope == "regional" else "national"
                ].append(entry)
            windows.append(
                {
                    "window": window.name,
                    "from": window.first_day.isoformat(),
                    "to": window.last_day.isoformat(),
                    "groups": [
                        {
                            "scope": key,
                            "winners": [r.as_json() for r in ranked if r.rank <= rule.winners],
                            "ranking": [r.as_json() for r in ranked],
                        }
                        for key in sorted(groups)
                        for ranked in [rank_contest(groups[key])]
                    ],
                }
            )
        contests.append(
            {
                "name": rule.name,
                "period": rule.period,
                "scope": rule.scope,
                "prize": rule.prize,
                "windows": windows,
            }
        )
    return {"scheme": scheme_name, "from": str(first), "to": str(last), "contests": contests}
